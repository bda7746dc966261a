/**
 * One connection attempt: a deadline (the connect timeout) and the caller's abort signal folded into
 * one inner signal, plus a helper that waits for a socket event under that signal.
 *
 * Shared with transport-websocket and transport-http-proxy through `@mqtt5/transport-tcp/internal`.
 *
 * @internal
 */
import { Mqtt5Error } from '@mqtt5/codec';
import { abortError, toTransportError, type ConnectPhase } from '@mqtt5/client';

/** Default connect timeout (the reference's socket option default). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Runs `body` with a signal that aborts when `signal` aborts (reason: an `ABORTED` error) or when
 * `timeoutMs` pass (reason: an `AWS_IO_SOCKET_TIMEOUT` error). `body` must release what it opened and
 * reject with the signal's reason when that signal aborts.
 */
export async function withDeadline<T>(
  signal: AbortSignal,
  timeoutMs: number,
  target: string,
  body: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  if (signal.aborted) throw abortError(signal.reason, target);
  const inner = new AbortController();
  const onAbort = (): void => inner.abort(abortError(signal.reason, target));
  signal.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => {
    inner.abort(new Mqtt5Error('AWS_IO_SOCKET_TIMEOUT', `connection to ${target} timed out after ${timeoutMs} ms`));
  }, timeoutMs);
  try {
    return await body(inner.signal);
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}

/** The rejection for an aborted inner signal: its reason when that is an `Mqtt5Error`. */
export function reasonOf(signal: AbortSignal, target: string): Mqtt5Error {
  return abortError(signal.reason, target);
}

/** The event-emitter surface {@link waitForEvent} needs (net.Socket, tls.TLSSocket, ws, …). */
export interface EventSource {
  once(event: string, listener: (...args: never[]) => void): unknown;
  removeListener(event: string, listener: (...args: never[]) => void): unknown;
}

/**
 * Resolves when `source` emits `event`; rejects (with the mapped error) on `'error'`, on `'close'`
 * before `event`, or when `signal` aborts. On rejection `destroy` is called so nothing stays open.
 * Listeners are removed whatever happens.
 */
export function waitForEvent(
  source: EventSource,
  event: string,
  signal: AbortSignal,
  phase: ConnectPhase,
  target: string,
  destroy: () => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      source.removeListener(event, onEvent);
      source.removeListener('error', onError);
      source.removeListener('close', onClose);
      signal.removeEventListener('abort', onAbort);
    };
    const fail = (error: Mqtt5Error): void => {
      cleanup();
      destroy();
      reject(error);
    };
    const onEvent = (): void => {
      cleanup();
      resolve();
    };
    const onError = (error: Error): void => fail(toTransportError(error, phase, target));
    const onClose = (): void => {
      const closed = Object.assign(new Error('socket closed'), { code: 'ECONNRESET' });
      fail(toTransportError(closed, phase, target));
    };
    const onAbort = (): void => fail(reasonOf(signal, target));
    if (signal.aborted) {
      onAbort();
      return;
    }
    source.once(event, onEvent);
    source.once('error', onError);
    source.once('close', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Formats `host:port`, bracketing IPv6 literals. */
export function formatTarget(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
