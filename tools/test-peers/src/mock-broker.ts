import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import mqttPacket, {
  type IAuthPacket,
  type IConnackPacket,
  type IConnectPacket,
  type IDisconnectPacket,
  type IPingreqPacket,
  type IPubackPacket,
  type IPubcompPacket,
  type IPublishPacket,
  type IPubrecPacket,
  type IPubrelPacket,
  type ISubscribePacket,
  type IUnsubscribePacket,
  type Packet,
  type PacketCmd,
} from 'mqtt-packet';
import { WebSocketServer, createWebSocketStream, type WebSocket } from 'ws';
import { getTestCertificates } from './certs.js';
import { LOOPBACK } from './ports.js';
import { topicMatches } from './topic.js';

/** One packet the mock broker received, in arrival order over all connections. */
export interface ReceivedPacket {
  /** Id of the connection it arrived on (1, 2, … in accept order). */
  connection: number;
  /** The packet as mqtt-packet decoded it. */
  packet: Packet;
  /** `Date.now()` when it was decoded. */
  at: number;
  /** Position in {@link MockBroker.received} (0-based). */
  index: number;
}

/** The mqtt-packet type of packets with `cmd` (e.g. `PacketOf<'publish'>` is `IPublishPacket`). */
export type PacketOf<C extends PacketCmd> = Extract<Packet, { cmd: C }>;

/** A {@link ReceivedPacket} whose packet type is known. */
export interface ReceivedPacketOf<C extends PacketCmd> extends ReceivedPacket {
  packet: PacketOf<C>;
}

/** An error the mock broker recorded instead of crashing (garbage from the client, a throwing handler…). */
export interface MockBrokerError {
  /** Id of the connection, or 0 for the listener itself. */
  connection: number;
  /** What went wrong. */
  error: Error;
}

/**
 * What a handler may return: nothing (it handled the packet), `'default'` (run the well-behaved
 * default for this packet type), or a promise of either.
 */
export type MockHandlerResult = void | 'default' | Promise<void | 'default'>;

/** Handles one received packet. `conn` is the connection it came on. */
export type MockHandler<P extends Packet = Packet> = (
  packet: P,
  conn: MockConnection,
  broker: MockBroker,
) => MockHandlerResult;

/**
 * Behaviour per received packet type. A missing entry runs the default, a well-behaved broker:
 * - `connect`: CONNACK from the broker's `connack` option (success, sessionPresent false; an empty
 *   client id gets `assignedClientIdentifier`); a second CONNECT → DISCONNECT 0x82.
 * - `publish`: PUBACK (QoS 1) / PUBREC (QoS 2) with reason 0, then delivers to matching
 *   subscriptions of all connections (unless `route: false`); keeps retained messages; resolves
 *   inbound topic aliases (an unknown or too-large alias → DISCONNECT 0x94).
 * - `pubrel` → PUBCOMP; `pubrec` → PUBREL; `puback`/`pubcomp` → nothing.
 * - `subscribe` → SUBACK granting the requested QoS (capped by CONNACK maximumQoS), then retained
 *   messages per retain-handling; `unsubscribe` → UNSUBACK 0x00 for every filter.
 * - `pingreq` → PINGRESP; `disconnect` → close the connection; `auth` → nothing.
 */
export interface MockHandlers {
  connect?: MockHandler<IConnectPacket>;
  publish?: MockHandler<IPublishPacket>;
  puback?: MockHandler<IPubackPacket>;
  pubrec?: MockHandler<IPubrecPacket>;
  pubrel?: MockHandler<IPubrelPacket>;
  pubcomp?: MockHandler<IPubcompPacket>;
  subscribe?: MockHandler<ISubscribePacket>;
  unsubscribe?: MockHandler<IUnsubscribePacket>;
  pingreq?: MockHandler<IPingreqPacket>;
  disconnect?: MockHandler<IDisconnectPacket>;
  auth?: MockHandler<IAuthPacket>;
}

/** The CONNACK fields the default connect handler sends. */
export interface MockConnackOptions {
  /** Default `false`. */
  sessionPresent?: boolean;
  /** Default `0` (success). A value ≥ 0x80 refuses the connection and closes it. */
  reasonCode?: number;
  /** CONNACK properties (e.g. `{ receiveMaximum: 2, topicAliasMaximum: 5 }`). */
  properties?: IConnackPacket['properties'];
}

/** Options of {@link startMockBroker}. */
export interface MockBrokerOptions {
  /** What the default connect handler answers. */
  connack?: MockConnackOptions;
  /** Initial handlers (the broker's `handlers` object stays mutable). */
  handlers?: Partial<MockHandlers>;
  /** Deliver received PUBLISHes to matching subscribers (default `true`). */
  route?: boolean;
  /**
   * `tcp` (default), `tls` (server cert of the test PKI unless `tlsOptions` given), `ws`, or `wss`
   * (WebSocket, any path, subprotocol `mqtt` accepted).
   */
  transport?: 'tcp' | 'tls' | 'ws' | 'wss';
  /** TLS server options for `tls`/`wss` (default: test PKI server cert and key). */
  tlsOptions?: tls.TlsOptions;
}

/** A subscription the default handlers keep per connection. */
export interface MockSubscription {
  filter: string;
  qos: 0 | 1 | 2;
  nl: boolean;
  rap: boolean;
  rh: number;
  subscriptionIdentifier?: number;
}

/** Options of the `waitFor` helpers. */
export interface WaitForOptions {
  /** Reject after this long (default 5000 ms). */
  timeoutMs?: number;
  /** Resolve with the `count`-th match (default 1). */
  count?: number;
}

type Matcher = PacketCmd | ((p: ReceivedPacket) => boolean);

const DEFAULT_TIMEOUT = 5000;

function toMatcher(m: Matcher): (p: ReceivedPacket) => boolean {
  return typeof m === 'string' ? (p) => p.packet.cmd === m : m;
}

function describeMatcher(m: Matcher): string {
  return typeof m === 'string' ? `'${m}'` : 'predicate';
}

interface Waiter {
  test: (p: ReceivedPacket) => boolean;
  remaining: number;
  resolve: (p: ReceivedPacket) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** A list of received packets that promise-waiters can watch. */
class PacketLog {
  readonly items: ReceivedPacket[] = [];
  #waiters = new Set<Waiter>();

  push(p: ReceivedPacket): void {
    this.items.push(p);
    for (const w of [...this.#waiters]) {
      if (w.test(p) && --w.remaining === 0) {
        this.#waiters.delete(w);
        clearTimeout(w.timer);
        w.resolve(p);
      }
    }
  }

  waitFor(m: Matcher, options: WaitForOptions, what: string): Promise<ReceivedPacket> {
    const test = toMatcher(m);
    let remaining = options.count ?? 1;
    for (const p of this.items) if (test(p) && --remaining === 0) return Promise.resolve(p);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT;
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        test,
        remaining,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter);
          const seen = this.items.map((p) => `${p.connection}:${p.packet.cmd}`).join(', ') || 'nothing';
          reject(
            new Error(
              `${what}: no packet matching ${describeMatcher(m)} (count ${options.count ?? 1}) within ${timeoutMs} ms; received: ${seen}`,
            ),
          );
        }, timeoutMs),
      };
      this.#waiters.add(waiter);
    });
  }

  rejectAll(reason: string): void {
    for (const w of this.#waiters) {
      clearTimeout(w.timer);
      w.reject(new Error(reason));
    }
    this.#waiters.clear();
  }
}

function toBuffer(v: Uint8Array): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

function normalize(packet: Packet): Packet {
  if (packet.cmd === 'publish' && packet.payload instanceof Uint8Array && !Buffer.isBuffer(packet.payload)) {
    return { ...packet, payload: toBuffer(packet.payload) };
  }
  return packet;
}

/** One accepted client connection of the mock broker. */
export class MockConnection {
  /** 1, 2, … in accept order. */
  readonly id: number;
  /** The underlying stream (a net/tls socket, or a WebSocket stream). */
  readonly stream: Duplex;
  /** Packets received on this connection, in order. */
  readonly received: ReceivedPacket[];
  /** Packets sent with {@link send} (and by the default handlers), in order. */
  readonly sent: Packet[] = [];
  /** Decode errors and handler errors of this connection. */
  readonly errors: Error[] = [];
  /** The CONNECT packet, once received. */
  connectPacket: IConnectPacket | undefined;
  /** The CONNACK sent, once sent. */
  connack: IConnackPacket | undefined;
  /** Subscriptions made through the default subscribe handler, by filter. */
  readonly subscriptions = new Map<string, MockSubscription>();
  /** Inbound topic aliases (client → broker) seen through the default publish handler. */
  readonly topicAliases = new Map<number, string>();
  /** Resolves once the connection is closed. */
  readonly closedPromise: Promise<void>;
  /** The broker this connection belongs to. */
  readonly broker: MockBroker;
  #log = new PacketLog();
  #closed = false;
  #timers = new Set<NodeJS.Timeout>();
  #nextId = 0;
  #rst: (() => void) | undefined;

  /** @internal */
  constructor(id: number, stream: Duplex, broker: MockBroker, rst?: () => void) {
    this.id = id;
    this.stream = stream;
    this.broker = broker;
    this.received = this.#log.items;
    this.#rst = rst;
    this.closedPromise = new Promise((resolve) => {
      stream.once('close', () => {
        this.#closed = true;
        for (const t of this.#timers) clearTimeout(t);
        this.#timers.clear();
        this.#log.rejectAll(`connection ${id} closed`);
        resolve();
      });
    });
  }

  /** `true` once the stream has closed (or {@link close}/{@link destroy} was called). */
  get closed(): boolean {
    return this.#closed || this.stream.destroyed;
  }

  /** The client id from CONNECT (`undefined` before CONNECT). */
  get clientId(): string | undefined {
    return this.connectPacket?.clientId;
  }

  /** MQTT protocol version from CONNECT (5 before CONNECT). */
  get protocolVersion(): 3 | 4 | 5 {
    return this.connectPacket?.protocolVersion ?? 5;
  }

  /**
   * Encodes `packet` with mqtt-packet (protocol version of the connection) and writes it. Throws
   * when mqtt-packet cannot encode it. Returns `false` (and sends nothing) once closed.
   */
  send(packet: Packet): boolean {
    const bytes = mqttPacket.generate(normalize(packet), { protocolVersion: this.protocolVersion });
    if (this.closed) return false;
    this.sent.push(packet);
    this.stream.write(bytes);
    return true;
  }

  /** Writes raw bytes (anything mqtt-packet cannot generate). Returns `false` once closed. */
  sendRaw(bytes: Uint8Array): boolean {
    if (this.closed) return false;
    this.stream.write(toBuffer(bytes));
    return true;
  }

  /**
   * Sends a PUBLISH. `messageId` is allocated for QoS > 0 unless given.
   * @returns the packet sent
   */
  publish(
    topic: string,
    payload: string | Uint8Array,
    options: {
      qos?: 0 | 1 | 2;
      retain?: boolean;
      dup?: boolean;
      messageId?: number;
      properties?: IPublishPacket['properties'];
    } = {},
  ): IPublishPacket {
    const qos = options.qos ?? 0;
    const packet: IPublishPacket = {
      cmd: 'publish',
      topic,
      payload: typeof payload === 'string' ? Buffer.from(payload) : toBuffer(payload),
      qos,
      retain: options.retain ?? false,
      dup: options.dup ?? false,
      ...(qos > 0 ? { messageId: options.messageId ?? this.nextMessageId() } : {}),
      ...(options.properties ? { properties: options.properties } : {}),
    };
    this.send(packet);
    return packet;
  }

  /** Sends DISCONNECT with `reasonCode` (and properties), then closes the connection (FIN). */
  disconnect(reasonCode = 0, properties?: IDisconnectPacket['properties']): void {
    if (this.closed) return;
    this.send({ cmd: 'disconnect', reasonCode, ...(properties ? { properties } : {}) });
    this.close();
  }

  /** The next packet id for a broker → client PUBLISH (1…65535, wrapping). */
  nextMessageId(): number {
    this.#nextId = (this.#nextId % 0xffff) + 1;
    return this.#nextId;
  }

  /** Close gracefully: flush what was written, then FIN. */
  close(): void {
    if (this.closed) return;
    this.stream.end();
    // A peer that never closes its side must not keep the socket (and the test) alive.
    const t = setTimeout(() => this.stream.destroy(), 1000);
    t.unref();
  }

  /** Close abruptly: TCP RST on a plain TCP connection, a plain destroy otherwise. */
  destroy(): void {
    if (this.stream.destroyed) return;
    if (this.#rst) this.#rst();
    else this.stream.destroy();
  }

  /** Runs `fn` after `ms` unless the connection closes first (cleared on close / broker stop). */
  schedule(ms: number, fn: () => void): void {
    if (this.closed) return;
    const t = setTimeout(() => {
      this.#timers.delete(t);
      if (!this.closed) this.broker.guard(this, fn);
    }, ms);
    this.#timers.add(t);
  }

  /** Like {@link MockBroker.waitFor}, for packets of this connection only. */
  waitFor<C extends PacketCmd>(cmd: C, options?: WaitForOptions): Promise<ReceivedPacketOf<C>>;
  waitFor(predicate: (p: ReceivedPacket) => boolean, options?: WaitForOptions): Promise<ReceivedPacket>;
  waitFor(match: Matcher, options: WaitForOptions = {}): Promise<ReceivedPacket> {
    return this.#log.waitFor(match, options, `connection ${this.id}`);
  }

  /** Resolves once the connection is closed, rejects after `timeoutMs` (default 5000). */
  waitClosed(timeoutMs = DEFAULT_TIMEOUT): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`connection ${this.id} still open after ${timeoutMs} ms`)),
        timeoutMs,
      );
      void this.closedPromise.then(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** @internal */
  record(p: ReceivedPacket): void {
    this.#log.push(p);
  }
}

const ALL_HANDLERS = [
  'connect',
  'publish',
  'puback',
  'pubrec',
  'pubrel',
  'pubcomp',
  'subscribe',
  'unsubscribe',
  'pingreq',
  'disconnect',
  'auth',
] as const;

/** A scripted, in-process MQTT 5 broker (see README). Create with {@link startMockBroker}. */
export class MockBroker {
  /** Always 127.0.0.1. */
  readonly host = LOOPBACK;
  /** The listening port. */
  port = 0;
  /** The transport it listens with. */
  readonly transport: 'tcp' | 'tls' | 'ws' | 'wss';
  /** Every packet received on every connection, in arrival order. */
  readonly received: ReceivedPacket[];
  /** All accepted connections (live and closed), in accept order; `connections[i].id === i + 1`. */
  readonly connections: MockConnection[] = [];
  /** Decode errors, handler errors, listener errors; never thrown at the test. */
  readonly errors: MockBrokerError[] = [];
  /** Mutable handlers: replace entries at any time (a missing entry runs the default). */
  handlers: MockHandlers;
  /** What the default connect handler answers; mutable. */
  connack: MockConnackOptions;
  /** Whether the default publish handler delivers to subscribers; mutable. */
  route: boolean;
  /** Retained messages kept by the default publish handler, by topic. */
  readonly retained = new Map<string, IPublishPacket>();
  #log = new PacketLog();
  #connWaiters = new Set<{
    n: number;
    resolve: (c: MockConnection) => void;
    reject: (e: Error) => void;
    timer: NodeJS.Timeout;
  }>();
  #server: net.Server | undefined;
  #wss: WebSocketServer | undefined;
  #stopped = false;

  /** @internal */
  constructor(options: MockBrokerOptions) {
    this.received = this.#log.items;
    this.handlers = { ...options.handlers };
    this.connack = { ...options.connack };
    this.route = options.route ?? true;
    this.transport = options.transport ?? 'tcp';
  }

  /** The most recently accepted connection (throws if none). */
  get latest(): MockConnection {
    const c = this.connections[this.connections.length - 1];
    if (!c) throw new Error('mock broker has no connection yet');
    return c;
  }

  /** Connections that are still open. */
  get live(): MockConnection[] {
    return this.connections.filter((c) => !c.closed);
  }

  /**
   * Resolves with the `count`-th received packet (default the first) matching `match` (a packet type
   * like `'subscribe'` or a predicate), whether it arrived before or after the call. Rejects after
   * `timeoutMs` (default 5000) with the list of what was received.
   */
  waitFor<C extends PacketCmd>(cmd: C, options?: WaitForOptions): Promise<ReceivedPacketOf<C>>;
  waitFor(predicate: (p: ReceivedPacket) => boolean, options?: WaitForOptions): Promise<ReceivedPacket>;
  waitFor(match: Matcher, options: WaitForOptions = {}): Promise<ReceivedPacket> {
    return this.#log.waitFor(match, options, 'mock broker');
  }

  /** Resolves with connection number `n` (1-based, default 1) once it has been accepted. */
  waitForConnection(n = 1, options: { timeoutMs?: number } = {}): Promise<MockConnection> {
    const existing = this.connections[n - 1];
    if (existing) return Promise.resolve(existing);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT;
    return new Promise((resolve, reject) => {
      const w = {
        n,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#connWaiters.delete(w);
          reject(
            new Error(
              `mock broker: connection ${n} not accepted within ${timeoutMs} ms (have ${this.connections.length})`,
            ),
          );
        }, timeoutMs),
      };
      this.#connWaiters.add(w);
    });
  }

  /** Close every live connection at once, without DISCONNECT: FIN, or RST (plain TCP) with `rst: true`. */
  dropAll(options: { rst?: boolean } = {}): void {
    for (const c of this.live) {
      if (options.rst) c.destroy();
      else c.stream.destroy();
    }
  }

  /** Close the listener and every connection, reject pending waits. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const w of this.#connWaiters) {
      clearTimeout(w.timer);
      w.reject(new Error('mock broker stopped'));
    }
    this.#connWaiters.clear();
    this.#log.rejectAll('mock broker stopped');
    for (const c of this.connections) c.stream.destroy();
    const server = this.#server;
    const wss = this.#wss;
    await Promise.all([
      server
        ? new Promise<void>((resolve) => {
            server.close(() => resolve());
            (server as Partial<http.Server>).closeAllConnections?.(); // http/https (WebSocket) servers
          })
        : undefined,
      wss ? new Promise<void>((resolve) => wss.close(() => resolve())) : undefined,
    ]);
    await Promise.all(this.connections.map((c) => c.closedPromise));
  }

  /** Runs the default behaviour for `packet` (for handlers that want to wrap it). */
  runDefault(packet: Packet, conn: MockConnection): void {
    const fn = defaultHandlers[packet.cmd as keyof MockHandlers] as MockHandler | undefined;
    if (fn) void fn(packet, conn, this);
  }

  /** @internal Runs `fn`, recording (not throwing) its error and destroying the connection. */
  guard(conn: MockConnection, fn: () => MockHandlerResult): void {
    const fail = (err: unknown): void => {
      const error = err instanceof Error ? err : new Error(String(err));
      conn.errors.push(error);
      this.errors.push({ connection: conn.id, error });
      conn.stream.destroy();
    };
    try {
      const r = fn();
      if (r && typeof r === 'object' && typeof r.then === 'function') r.catch(fail);
    } catch (err) {
      fail(err);
    }
  }

  /** @internal */
  async listen(options: MockBrokerOptions): Promise<void> {
    const tlsOptions = (): Promise<tls.TlsOptions> =>
      options.tlsOptions
        ? Promise.resolve(options.tlsOptions)
        : getTestCertificates().then((c) => ({
            cert: fs.readFileSync(c.serverCert),
            key: fs.readFileSync(c.serverKey),
          }));
    let server: net.Server;
    if (this.transport === 'tcp') {
      server = net.createServer((s) => this.#accept(s, () => s.resetAndDestroy()));
    } else if (this.transport === 'tls') {
      server = tls.createServer(await tlsOptions(), (s) => this.#accept(s));
      server.on('tlsClientError', (err) => this.errors.push({ connection: 0, error: err }));
    } else {
      server = this.transport === 'wss' ? https.createServer(await tlsOptions()) : http.createServer();
      server.on('tlsClientError', (err: Error) => this.errors.push({ connection: 0, error: err }));
      const wss = new WebSocketServer({
        server: server as http.Server,
        handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : false),
      });
      wss.on('error', (err) => this.errors.push({ connection: 0, error: err }));
      wss.on('connection', (ws: WebSocket) => {
        const stream = createWebSocketStream(ws);
        this.#accept(stream);
      });
      this.#wss = wss;
    }
    server.on('error', (err) => this.errors.push({ connection: 0, error: err }));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, LOOPBACK, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as net.AddressInfo).port;
  }

  #accept(stream: Duplex, rst?: () => void): void {
    if (this.#stopped) {
      stream.destroy();
      return;
    }
    if (stream instanceof net.Socket) stream.setNoDelay(true);
    const conn = new MockConnection(this.connections.length + 1, stream, this, rst);
    this.connections.push(conn);
    const parser = mqttPacket.parser({ protocolVersion: 5 });
    let failed = false;
    stream.on('error', (err) => {
      if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || (err as NodeJS.ErrnoException).code === 'EPIPE')
        return;
      conn.errors.push(err);
      this.errors.push({ connection: conn.id, error: err });
    });
    parser.on('packet', (packet: Packet) => {
      if (failed) return;
      const rec: ReceivedPacket = { connection: conn.id, packet, at: Date.now(), index: this.received.length };
      this.#log.push(rec);
      conn.record(rec);
      if (conn.closed) return;
      this.#dispatch(packet, conn);
    });
    parser.on('error', (err: Error) => {
      if (failed) return;
      failed = true;
      const error = new Error(`malformed data from client on connection ${conn.id}: ${err.message}`, { cause: err });
      conn.errors.push(error);
      this.errors.push({ connection: conn.id, error });
      // Like a real broker: DISCONNECT 0x81 (Malformed Packet) once connected over v5, then close.
      if (conn.connack && conn.protocolVersion === 5) {
        try {
          conn.send({ cmd: 'disconnect', reasonCode: 0x81 });
        } catch {
          // nothing more to do
        }
      }
      conn.close();
    });
    stream.on('data', (chunk: Buffer) => {
      if (failed) return;
      try {
        parser.parse(chunk);
      } catch (err) {
        parser.emit('error', err instanceof Error ? err : new Error(String(err)));
      }
    });
    for (const w of [...this.#connWaiters]) {
      if (w.n === conn.id) {
        this.#connWaiters.delete(w);
        clearTimeout(w.timer);
        w.resolve(conn);
      }
    }
  }

  #dispatch(packet: Packet, conn: MockConnection): void {
    const cmd = packet.cmd as keyof MockHandlers;
    if (!(ALL_HANDLERS as readonly string[]).includes(cmd)) {
      // A server-only packet type from the client (CONNACK, SUBACK, …): protocol error.
      const error = new Error(`client sent ${packet.cmd}, which only a server may send`);
      conn.errors.push(error);
      this.errors.push({ connection: conn.id, error });
      if (conn.connack && conn.protocolVersion === 5) conn.disconnect(0x82);
      else conn.destroy();
      return;
    }
    if (packet.cmd === 'connect' && !conn.connectPacket) conn.connectPacket = packet;
    const custom = this.handlers[cmd] as MockHandler | undefined;
    this.guard(conn, () => {
      if (!custom) return (defaultHandlers[cmd] as MockHandler)(packet, conn, this);
      const r = custom(packet, conn, this);
      if (r === 'default') return (defaultHandlers[cmd] as MockHandler)(packet, conn, this);
      if (r && typeof r === 'object') {
        return r.then((v) =>
          v === 'default' && !conn.closed ? (defaultHandlers[cmd] as MockHandler)(packet, conn, this) : undefined,
        );
      }
      return undefined;
    });
  }

  /** @internal Deliver a PUBLISH (topic already resolved) to every matching subscription. */
  deliver(topic: string, source: IPublishPacket, from: MockConnection | undefined): void {
    for (const conn of this.live) {
      if (!conn.connack || (conn.connack.reasonCode ?? conn.connack.returnCode ?? 0) !== 0) continue;
      let best: MockSubscription | undefined;
      const ids: number[] = [];
      for (const sub of conn.subscriptions.values()) {
        if (sub.nl && conn === from) continue;
        if (!topicMatches(sub.filter, topic)) continue;
        if (!best || sub.qos > best.qos) best = sub;
        if (sub.subscriptionIdentifier !== undefined) ids.push(sub.subscriptionIdentifier);
      }
      if (!best) continue;
      const { topicAlias: _alias, subscriptionIdentifier: _ids, ...props } = source.properties ?? {};
      const properties = {
        ...props,
        ...(ids.length ? { subscriptionIdentifier: ids.length === 1 ? ids[0] : ids } : {}),
      };
      conn.publish(topic, source.payload as Buffer, {
        qos: Math.min(source.qos, best.qos) as 0 | 1 | 2,
        retain: best.rap ? source.retain : false,
        ...(Object.keys(properties).length ? { properties: properties as IPublishPacket['properties'] } : {}),
      });
    }
  }
}

function maxQos(conn: MockConnection): 0 | 1 | 2 {
  const q = conn.connack?.properties?.maximumQoS;
  return q === 0 || q === 1 ? q : 2;
}

/** Send the CONNACK for `fields` (merged over the broker's `connack`); close if it refuses. */
export function sendConnack(conn: MockConnection, broker: MockBroker, fields: MockConnackOptions = {}): void {
  const connect = conn.connectPacket;
  const reasonCode = fields.reasonCode ?? broker.connack.reasonCode ?? 0;
  const properties: NonNullable<IConnackPacket['properties']> = { ...broker.connack.properties, ...fields.properties };
  if (reasonCode < 0x80 && connect && connect.clientId === '' && properties.assignedClientIdentifier === undefined) {
    properties.assignedClientIdentifier = `mock-client-${conn.id}`;
  }
  const connack: IConnackPacket = {
    cmd: 'connack',
    sessionPresent: reasonCode < 0x80 ? (fields.sessionPresent ?? broker.connack.sessionPresent ?? false) : false,
    ...(conn.protocolVersion === 5 ? { reasonCode } : { returnCode: reasonCode }),
    ...(Object.keys(properties).length ? { properties } : {}),
  };
  conn.connack = connack;
  conn.send(connack);
  if (reasonCode >= 0x80) conn.close();
}

/** The well-behaved default for every packet type (see {@link MockHandlers}). */
export const defaultHandlers: Required<MockHandlers> = {
  connect(packet, conn, broker) {
    if (conn.connectPacket !== packet) {
      conn.disconnect(0x82); // a second CONNECT is a protocol error
      return;
    }
    sendConnack(conn, broker);
  },
  publish(packet, conn, broker) {
    let topic = packet.topic;
    const alias = packet.properties?.topicAlias;
    if (alias !== undefined) {
      const max = conn.connack?.properties?.topicAliasMaximum ?? 0;
      if (alias < 1 || alias > max) {
        conn.disconnect(0x94);
        return;
      }
      if (topic === '') {
        const known = conn.topicAliases.get(alias);
        if (known === undefined) {
          conn.disconnect(0x82);
          return;
        }
        topic = known;
      } else {
        conn.topicAliases.set(alias, topic);
      }
    }
    if (packet.qos === 1) conn.send({ cmd: 'puback', messageId: packet.messageId as number, reasonCode: 0 });
    else if (packet.qos === 2) conn.send({ cmd: 'pubrec', messageId: packet.messageId as number, reasonCode: 0 });
    if (packet.retain) {
      if ((packet.payload as Buffer).length === 0) broker.retained.delete(topic);
      else broker.retained.set(topic, { ...packet, topic });
    }
    if (broker.route) broker.deliver(topic, packet, conn);
  },
  puback() {},
  pubrec(packet, conn) {
    conn.send({ cmd: 'pubrel', messageId: packet.messageId as number, reasonCode: 0 });
  },
  pubrel(packet, conn) {
    conn.send({ cmd: 'pubcomp', messageId: packet.messageId as number, reasonCode: 0 });
  },
  pubcomp() {},
  subscribe(packet, conn, broker) {
    const cap = maxQos(conn);
    const granted: number[] = [];
    const fresh: MockSubscription[] = [];
    for (const s of packet.subscriptions) {
      const qos = Math.min(s.qos, cap) as 0 | 1 | 2;
      granted.push(qos);
      const id = packet.properties?.subscriptionIdentifier;
      const sub: MockSubscription = {
        filter: s.topic,
        qos,
        nl: s.nl ?? false,
        rap: s.rap ?? false,
        rh: s.rh ?? 0,
        ...(id !== undefined ? { subscriptionIdentifier: id } : {}),
      };
      const existed = conn.subscriptions.has(s.topic);
      conn.subscriptions.set(s.topic, sub);
      if (sub.rh === 0 || (sub.rh === 1 && !existed)) fresh.push(sub);
    }
    conn.send({ cmd: 'suback', messageId: packet.messageId as number, granted });
    const shareless = (f: string): string => (f.startsWith('$share/') ? f.split('/').slice(2).join('/') : f);
    for (const sub of fresh) {
      if (sub.filter.startsWith('$share/')) continue; // no retained messages for shared subscriptions
      for (const [topic, msg] of broker.retained) {
        if (!topicMatches(shareless(sub.filter), topic)) continue;
        const { topicAlias: _a, subscriptionIdentifier: _s, ...props } = msg.properties ?? {};
        const properties = {
          ...props,
          ...(sub.subscriptionIdentifier !== undefined ? { subscriptionIdentifier: sub.subscriptionIdentifier } : {}),
        };
        conn.publish(topic, msg.payload as Buffer, {
          qos: Math.min(msg.qos, sub.qos) as 0 | 1 | 2,
          retain: true,
          ...(Object.keys(properties).length ? { properties } : {}),
        });
      }
    }
  },
  unsubscribe(packet, conn) {
    for (const f of packet.unsubscriptions) conn.subscriptions.delete(f);
    conn.send({ cmd: 'unsuback', messageId: packet.messageId as number, granted: packet.unsubscriptions.map(() => 0) });
  },
  pingreq(_packet, conn) {
    conn.send({ cmd: 'pingresp' });
  },
  disconnect(_packet, conn) {
    conn.close();
  },
  auth() {},
};

/**
 * Starts a scripted MQTT 5 broker in this process on a free port of 127.0.0.1. Every packet it
 * receives is recorded (`received`); behaviour per packet type comes from `handlers` (mutable),
 * falling back to a well-behaved default. Garbage from a client closes that connection and is
 * recorded in `errors`; nothing is thrown at the test.
 *
 * @example
 * const broker = await startMockBroker({ handlers: { connect: mock.refuseConnack(0x87) } });
 * // … connect a client to broker.port …
 * await broker.waitFor('connect');
 * await broker.stop();
 */
export async function startMockBroker(options: MockBrokerOptions = {}): Promise<MockBroker> {
  const broker = new MockBroker(options);
  await broker.listen(options);
  return broker;
}
