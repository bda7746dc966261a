/**
 * Opening the byte stream of one attempt: a TCP connection (or a tunnel someone else opens), then
 * optionally a TLS handshake over it.
 *
 * Shared with transport-websocket and transport-http-proxy through `@mqtt5/transport-tcp/internal`.
 *
 * @internal
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type SecureContext, type TLSSocket } from 'node:tls';
import { toTransportError } from '@mqtt5/client';
import { reasonOf, waitForEvent } from './attempt.js';
import type { ResolvedSocketOptions } from './socket-options.js';
import { tlsConnectOptions, type TlsOptions } from './tls-options.js';

/** Where a tunnel must lead, and the signal that ends the attempt. */
export interface TunnelRequest {
  /** Broker host name (as the proxy must resolve it). */
  readonly host: string;
  /** Broker port. */
  readonly port: number;
  /** Aborted when the attempt is given up (timeout, `stop()`); the tunnel must then reject and close. */
  readonly signal: AbortSignal;
}

/**
 * Opens a connected byte stream to `host:port` through some intermediary (an HTTP CONNECT proxy, for
 * example: `createHttpProxyTunnel` of `@mqtt5/transport-http-proxy`). Rejects with an `Mqtt5Error`.
 */
export type SocketTunnel = (request: TunnelRequest) => Promise<Socket>;

function noop(): void {}

/**
 * Hands a connected socket over: destroys it and rejects when the attempt was aborted meanwhile;
 * otherwise adds a no-op `'error'` listener so that an error emitted before the consumer attaches
 * its own cannot become an uncaught exception (the consumer still receives every `'error'` and
 * `'close'`).
 */
export function handOver<T extends Socket>(socket: T, signal: AbortSignal, target: string): T {
  if (signal.aborted) {
    socket.destroy();
    throw reasonOf(signal, target);
  }
  socket.on('error', noop);
  return socket;
}

/** Opens a TCP connection with Nagle's algorithm off and the configured keep-alive. */
export async function openTcp(
  host: string,
  port: number,
  options: ResolvedSocketOptions,
  signal: AbortSignal,
  target: string,
): Promise<Socket> {
  const socket = netConnect({
    host,
    port,
    noDelay: true,
    keepAlive: options.keepAlive,
    keepAliveInitialDelay: options.keepAliveDelayMs,
  });
  await waitForEvent(socket, 'connect', signal, 'tcp', target, () => socket.destroy());
  return socket;
}

/** Opens the raw stream of an attempt: through `tunnel` when given, else a direct TCP connection. */
export async function openStream(
  host: string,
  port: number,
  options: ResolvedSocketOptions,
  tunnel: SocketTunnel | undefined,
  signal: AbortSignal,
  target: string,
): Promise<Socket> {
  if (tunnel === undefined) return openTcp(host, port, options, signal, target);
  let socket: Socket;
  try {
    socket = await tunnel({ host, port, signal });
  } catch (error) {
    if (signal.aborted) throw reasonOf(signal, target);
    throw toTransportError(error, 'proxy', target);
  }
  if (signal.aborted) {
    socket.destroy();
    throw reasonOf(signal, target);
  }
  return socket;
}

/** Runs a TLS client handshake over the connected `socket`. */
export async function startTls(
  socket: Socket,
  host: string,
  tls: TlsOptions,
  secureContext: SecureContext,
  signal: AbortSignal,
  target: string,
): Promise<TLSSocket> {
  let tlsSocket: TLSSocket;
  try {
    tlsSocket = tlsConnect({ ...tlsConnectOptions(tls, host, secureContext), socket });
  } catch (error) {
    socket.destroy();
    throw toTransportError(error, 'tls', target);
  }
  await waitForEvent(tlsSocket, 'secureConnect', signal, 'tls', target, () => {
    tlsSocket.destroy();
    socket.destroy();
  });
  return tlsSocket;
}

/** Awaits `promise` unless `signal` aborts first (then rejects with the signal's reason). */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal, target: string): Promise<T> {
  if (signal.aborted) return Promise.reject(reasonOf(signal, target));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(reasonOf(signal, target));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
