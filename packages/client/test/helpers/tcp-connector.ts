/**
 * A tiny test-only TCP connector (the client itself imports no node:net): connects to
 * host:port, maps ECONNREFUSED to AWS_IO_SOCKET_CONNECTION_REFUSED, honours the abort signal, and
 * tracks every socket it opened so a test can assert nothing is left open.
 */
import net from 'node:net';
import { Mqtt5Error } from '@mqtt5/codec';
import type { Connector, Transport } from '../../src/transport.js';

export interface TrackedConnector extends Connector {
  sockets: net.Socket[];
  attempts: number;
  /** Sockets still open. */
  open(): net.Socket[];
}

export function tcpConnector(port: number | (() => number), host = '127.0.0.1'): TrackedConnector {
  const sockets: net.Socket[] = [];
  const connector = (({ signal }) =>
    new Promise<Transport>((resolve, reject) => {
      connector.attempts++;
      const socket = net.connect({ host, port: typeof port === 'function' ? port() : port, noDelay: true });
      sockets.push(socket);
      const onAbort = () => {
        socket.destroy();
        reject(new Mqtt5Error('ABORTED', 'connect aborted'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('connect', () => {
        signal.removeEventListener('abort', onAbort);
        socket.removeListener('error', onError);
        resolve(socket);
      });
      const onError = (error: NodeJS.ErrnoException) => {
        signal.removeEventListener('abort', onAbort);
        socket.destroy();
        reject(
          new Mqtt5Error(
            error.code === 'ECONNREFUSED' ? 'AWS_IO_SOCKET_CONNECTION_REFUSED' : 'AWS_ERROR_TRANSPORT_FAILURE',
            error.message,
            { cause: error },
          ),
        );
      };
      socket.once('error', onError);
    })) as TrackedConnector;
  connector.sockets = sockets;
  connector.attempts = 0;
  connector.open = () => sockets.filter((s) => !s.destroyed);
  return connector;
}

/** Resolves when `predicate` holds, polling every few ms; rejects after `timeoutMs`. */
export async function eventually(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
