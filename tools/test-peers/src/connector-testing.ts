/**
 * Helpers for the integration tests of connectors and transports (`@mqtt5/transport-*`, `@mqtt5/sdk`):
 * an MQTT 5 handshake over any connected byte stream, waiting for a close, taking a rejection, a
 * server that never answers and a signal that never aborts.
 *
 * The transport is typed structurally ({@link HandshakeTransport}): this package does not depend on
 * `@mqtt5/client` or `@mqtt5/codec`, and any `net.Socket`, `tls.TLSSocket` or client `Transport` fits.
 */
import net from 'node:net';
import { LOOPBACK } from './ports.js';

/**
 * What the helpers need of a connected byte stream: a client `Transport`, a `net.Socket`, a
 * `tls.TLSSocket` or the stream of a websocket all fit.
 */
export interface HandshakeTransport {
  write(chunk: Uint8Array): unknown;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  removeListener(event: 'data' | 'error' | 'close', listener: (...args: never[]) => void): unknown;
}

/** The error {@link rejection} returns by default: an `Error` with the optional stable `code` of the SDK's errors. */
export type RejectionError = Error & { code?: string };

/** A minimal MQTT 5 CONNECT: clean start, keep alive 60, no properties, empty client id (server assigns). */
export const CONNECT_BYTES: Buffer = Buffer.from([
  0x10, 0x0d, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x05, 0x02, 0x00, 0x3c, 0x00, 0x00, 0x00,
]);

/**
 * Sends {@link CONNECT_BYTES} over `transport` and resolves with the CONNACK reason code; rejects when
 * the transport errors or closes first, when the first byte back is not a CONNACK, or after
 * `timeoutMs`. Removes its listeners when it settles.
 */
export function mqttHandshake(transport: HandshakeTransport, timeoutMs = 3000): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let received = Buffer.alloc(0);
    const done = (err: Error | undefined, reason?: number): void => {
      clearTimeout(timer);
      transport.removeListener('data', onData);
      transport.removeListener('error', onError);
      transport.removeListener('close', onClose);
      if (err) reject(err);
      else resolve(reason as number);
    };
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 4) {
        if (received[0] !== 0x20) done(new Error(`expected CONNACK, got first byte 0x${received[0]!.toString(16)}`));
        else done(undefined, received[3]);
      }
    };
    const onError = (err: Error): void => done(err);
    const onClose = (): void => done(new Error('closed before CONNACK'));
    const timer = setTimeout(() => done(new Error('no CONNACK in time')), timeoutMs);
    transport.on('data', onData);
    transport.on('error', onError);
    transport.on('close', onClose);
    transport.write(CONNECT_BYTES);
  });
}

/**
 * Resolves when `transport` emits `'close'`, with the last error it emitted before (if any); rejects
 * after `timeoutMs`.
 */
export function closed(transport: HandshakeTransport, timeoutMs = 3000): Promise<Error | undefined> {
  return new Promise((resolve, reject) => {
    let error: Error | undefined;
    const timer = setTimeout(() => reject(new Error('transport did not close in time')), timeoutMs);
    transport.on('error', (err) => {
      error = err;
    });
    transport.on('close', () => {
      clearTimeout(timer);
      resolve(error);
    });
  });
}

/**
 * The rejection of `promise`; throws (failing the test) when it resolves, after destroying the
 * resolved value if it has a `destroy()` (a connector that unexpectedly connected leaks nothing).
 * `E` only types the result (e.g. `rejection<Mqtt5Error>(…)`); nothing is checked at run time.
 */
export async function rejection<E = RejectionError>(promise: Promise<unknown>): Promise<E> {
  let value: unknown;
  try {
    value = await promise;
  } catch (error) {
    return error as E;
  }
  const destroy = (value as { destroy?: unknown } | null | undefined)?.destroy;
  if (typeof destroy === 'function') destroy.call(value);
  throw new Error('expected a rejection, but the promise resolved');
}

/** A TCP server on 127.0.0.1 that accepts connections and never sends a byte. */
export interface SilentServer {
  readonly port: number;
  /** Connections currently open on the server side. */
  readonly open: Set<net.Socket>;
  /** Resolves once at least `count` (default 1) connections are open (rejects after `timeoutMs`, default 2000). */
  connected(count?: number, timeoutMs?: number): Promise<void>;
  /** Resolves once no connection is open any more (rejects after `timeoutMs`, default 2000). */
  drained(timeoutMs?: number): Promise<void>;
  /** Destroys the open connections and closes the server. */
  stop(): Promise<void>;
}

/**
 * Starts a {@link SilentServer}: what a connect or handshake timeout is tested against. It reads and
 * discards what it receives, so a client's FIN is seen and {@link SilentServer.drained} works.
 */
export async function startSilentServer(): Promise<SilentServer> {
  const open = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    open.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => open.delete(socket));
    socket.resume();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    open,
    connected(count = 1, timeoutMs = 2000) {
      return pollUntil(
        () => open.size >= count,
        timeoutMs,
        () => `${open.size} of ${count} connection(s) open`,
      );
    },
    drained(timeoutMs = 2000) {
      return pollUntil(
        () => open.size === 0,
        timeoutMs,
        () => `${open.size} connection(s) still open`,
      );
    },
    stop() {
      for (const s of open) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Polls `done` every 5 ms; rejects with `failure()` once `timeoutMs` passed without it. */
async function pollUntil(done: () => boolean, timeoutMs: number, failure: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(failure());
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** An `AbortSignal` that never aborts (for a connector's `signal` when the test does not abort). */
export function neverAborted(): AbortSignal {
  return new AbortController().signal;
}
