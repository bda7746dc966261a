import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import mqttPacket, { type IConnackPacket, type IConnectPacket, type Packet, type PacketCmd } from 'mqtt-packet';
import WebSocket, { createWebSocketStream, type ClientOptions } from 'ws';
import { LOOPBACK } from './ports.js';

/** How {@link openRawClient} reaches the server. */
export interface RawClientOptions {
  /** Use this already-connected stream (e.g. a proxy tunnel) instead of opening one. */
  stream?: Duplex;
  /** Port (ignored with `url`). */
  port?: number;
  /** Host (default 127.0.0.1; ignored with `url`). */
  host?: string;
  /** Connect with TLS using these options (`true` = defaults). */
  tls?: tls.ConnectionOptions | true;
  /** Connect with WebSocket to this `ws://` / `wss://` URL (subprotocol `mqtt`). */
  url?: string;
  /** Extra `ws` client options (ca, cert, rejectUnauthorized…). */
  wsOptions?: ClientOptions;
  /** Protocol version for encoding/decoding (default 5). */
  protocolVersion?: 4 | 5;
  /** Give up connecting after this long (default 5000 ms). */
  timeoutMs?: number;
}

/**
 * A minimal MQTT client for probing peers packet by packet (no keep alive, no retries): send
 * packets, then take what the server sent in order with {@link RawMqttClient.next}.
 */
export interface RawMqttClient {
  /** The connected stream. */
  readonly stream: Duplex;
  /** Every packet received, in order. */
  readonly received: Packet[];
  /** Decode or socket errors. */
  readonly errors: Error[];
  /** `true` once the stream closed. */
  readonly closed: boolean;
  /** Encode with mqtt-packet and write. */
  send(packet: Packet): void;
  /** Write raw bytes. */
  sendRaw(bytes: Uint8Array): void;
  /**
   * The next not-yet-taken received packet (optionally the next one of type `cmd` / matching a
   * predicate; earlier non-matching packets stay queued). Rejects after `timeoutMs` (default 5000)
   * or when the connection closes first.
   */
  next<C extends PacketCmd>(cmd: C, options?: { timeoutMs?: number }): Promise<Extract<Packet, { cmd: C }>>;
  next(predicate?: (p: Packet) => boolean, options?: { timeoutMs?: number }): Promise<Packet>;
  /** Resolves when the stream closes; rejects after `timeoutMs` (default 5000). */
  waitClosed(timeoutMs?: number): Promise<void>;
  /** FIN. */
  end(): void;
  /** Destroy now. */
  destroy(): void;
}

class RawClient implements RawMqttClient {
  readonly received: Packet[] = [];
  readonly errors: Error[] = [];
  #queue: Packet[] = [];
  #closed = false;
  #closeWaiters = new Set<() => void>();
  #pullers = new Set<() => void>();
  readonly #version: 4 | 5;

  constructor(
    readonly stream: Duplex,
    version: 4 | 5,
  ) {
    this.#version = version;
    const parser = mqttPacket.parser({ protocolVersion: version });
    parser.on('packet', (p: Packet) => {
      this.received.push(p);
      this.#queue.push(p);
      this.#wake();
    });
    parser.on('error', (err: Error) => {
      this.errors.push(err);
      stream.destroy();
    });
    stream.on('data', (chunk: Buffer) => parser.parse(chunk));
    stream.on('error', (err) => this.errors.push(err));
    stream.once('close', () => {
      this.#closed = true;
      for (const w of this.#closeWaiters) w();
      this.#closeWaiters.clear();
      this.#wake();
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  #wake(): void {
    for (const p of [...this.#pullers]) p();
  }

  send(packet: Packet): void {
    this.stream.write(mqttPacket.generate(packet, { protocolVersion: this.#version }));
  }

  sendRaw(bytes: Uint8Array): void {
    this.stream.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }

  next<C extends PacketCmd>(cmd: C, options?: { timeoutMs?: number }): Promise<Extract<Packet, { cmd: C }>>;
  next(predicate?: (p: Packet) => boolean, options?: { timeoutMs?: number }): Promise<Packet>;
  next(match?: PacketCmd | ((p: Packet) => boolean), options: { timeoutMs?: number } = {}): Promise<Packet> {
    const test = match === undefined ? () => true : typeof match === 'string' ? (p: Packet) => p.cmd === match : match;
    const timeoutMs = options.timeoutMs ?? 5000;
    const take = (): Packet | undefined => {
      const i = this.#queue.findIndex(test);
      if (i < 0) return undefined;
      return this.#queue.splice(i, 1)[0];
    };
    const now = take();
    if (now) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const finish = (): void => {
        this.#pullers.delete(pull);
        clearTimeout(timer);
      };
      const pull = (): void => {
        const p = take();
        if (p) {
          finish();
          resolve(p);
        } else if (this.#closed) {
          finish();
          reject(
            new Error(
              `connection closed before a ${typeof match === 'string' ? match : 'matching packet'} arrived (received: ${this.received.map((r) => r.cmd).join(', ') || 'nothing'}${this.errors.length ? `; errors: ${this.errors.map((e) => e.message).join('; ')}` : ''})`,
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(
          new Error(
            `no ${typeof match === 'string' ? match : 'matching packet'} within ${timeoutMs} ms (received: ${this.received.map((r) => r.cmd).join(', ') || 'nothing'})`,
          ),
        );
      }, timeoutMs);
      this.#pullers.add(pull);
      pull();
    });
  }

  waitClosed(timeoutMs = 5000): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#closeWaiters.delete(done);
        reject(new Error(`connection still open after ${timeoutMs} ms`));
      }, timeoutMs);
      this.#closeWaiters.add(done);
    });
  }

  end(): void {
    this.stream.end();
  }

  destroy(): void {
    this.stream.destroy();
  }
}

/**
 * Opens a raw MQTT connection over TCP, TLS or WebSocket. Rejects with the socket / TLS / HTTP
 * error if the connection cannot be made (e.g. a TLS verification failure).
 */
export async function openRawClient(options: RawClientOptions): Promise<RawMqttClient> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const version = options.protocolVersion ?? 5;
  if (options.stream) return new RawClient(options.stream, version);
  if (options.url) {
    const ws = new WebSocket(options.url, ['mqtt'], { handshakeTimeout: timeoutMs, ...options.wsOptions });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => {
        ws.off('error', reject);
        resolve();
      });
      ws.once('error', reject);
    });
    return new RawClient(createWebSocketStream(ws), version);
  }
  if (options.port === undefined) throw new RangeError('port, url or stream is required');
  const host = options.host ?? LOOPBACK;
  const port = options.port;
  let socket: net.Socket;
  let ready: string;
  if (options.tls) {
    const t = options.tls === true ? {} : options.tls;
    socket = tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }), ...t });
    ready = 'secureConnect';
  } else {
    socket = net.connect({ host, port });
    ready = 'connect';
  }
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect to ${host}:${port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once(ready, () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve();
    });
    const onError = (err: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    socket.once('error', onError);
  });
  socket.setNoDelay(true);
  return new RawClient(socket, version);
}

/** A v5 CONNECT with clean start, keep alive 60 and a random client id, overridden by `fields`. */
export function connectPacket(fields: Partial<Omit<IConnectPacket, 'cmd'>> = {}): IConnectPacket {
  return {
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 5,
    clean: true,
    keepalive: 60,
    clientId: `raw-${process.pid}-${Math.random().toString(36).slice(2, 10)}`,
    ...fields,
  };
}

/**
 * Opens a raw client, sends CONNECT (`connect` fields over {@link connectPacket} defaults) and waits
 * for CONNACK. Resolves with both; the CONNACK may carry a failure reason code.
 */
export async function rawConnect(
  options: RawClientOptions,
  connect: Partial<Omit<IConnectPacket, 'cmd'>> = {},
): Promise<{ client: RawMqttClient; connack: IConnackPacket }> {
  const client = await openRawClient(options);
  try {
    client.send(connectPacket({ protocolVersion: options.protocolVersion ?? 5, ...connect }));
    const connack = await client.next('connack', { timeoutMs: options.timeoutMs ?? 5000 });
    return { client, connack };
  } catch (err) {
    client.destroy();
    throw err;
  }
}
