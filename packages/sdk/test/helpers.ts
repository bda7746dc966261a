import net from 'node:net';
import type { Mqtt5Error } from '@mqtt5/codec';
import type { Transport } from '@mqtt5/client';

/** A minimal MQTT 5 CONNECT: clean start, keep alive 60, no properties, empty client id (server assigns). */
export const CONNECT_BYTES = Buffer.from([0x10, 0x0d, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x05, 0x02, 0x00, 0x3c, 0x00, 0x00, 0x00]);

/**
 * Sends CONNECT over `transport` and resolves with the CONNACK reason code; rejects when the
 * transport errors or closes first, or after `timeoutMs`.
 */
export function mqttHandshake(transport: Transport, timeoutMs = 3000): Promise<number> {
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

/** Resolves when `transport` emits 'close' (with the error seen before, if any). */
export function closed(transport: Transport, timeoutMs = 3000): Promise<Error | undefined> {
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

/** The rejection of `promise` (fails the test when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Mqtt5Error> {
  try {
    const value = await promise;
    if (value && typeof (value as { destroy?: unknown }).destroy === 'function') (value as Transport).destroy();
  } catch (error) {
    return error as Mqtt5Error;
  }
  throw new Error('expected a rejection, but the promise resolved');
}

/** A TCP server on 127.0.0.1 that accepts connections and never sends a byte. */
export interface SilentServer {
  readonly port: number;
  /** Connections currently open on the server side. */
  readonly open: Set<net.Socket>;
  /** Resolves once no connection is open any more (rejects after `timeoutMs`). */
  drained(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts a {@link SilentServer}. */
export async function startSilentServer(): Promise<SilentServer> {
  const open = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    open.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => open.delete(socket));
    socket.resume(); // read (and discard) so that the client's FIN is seen
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    open,
    async drained(timeoutMs = 2000) {
      const deadline = Date.now() + timeoutMs;
      while (open.size > 0) {
        if (Date.now() > deadline) throw new Error(`${open.size} connection(s) still open`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    close() {
      for (const s of open) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port on 127.0.0.1 with nothing listening (bound and released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A never-aborted signal. */
export function neverAborted(): AbortSignal {
  return new AbortController().signal;
}
