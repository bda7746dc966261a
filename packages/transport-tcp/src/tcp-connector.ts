import { connect as netConnect, type Socket } from 'node:net';
import { Mqtt5Error } from '@mqtt5/codec';
import { abortError, toTransportError, type ConnectOptions, type Connector } from '@mqtt5/client';
import { formatTarget, withDeadline } from './internal/attempt.js';
import { handOver, openStream, raceSignal, startTls, type SocketTunnel } from './internal/connect.js';
import {
  resolveSocketOptions,
  validateEndpoint,
  type ResolvedSocketOptions,
  type SocketOptions,
} from './internal/socket-options.js';
import { SecureContextLoader, tlsOptionsOf, validateTlsOptions, type TlsOptions } from './internal/tls-options.js';

/** Options of {@link createTcpConnector}. */
export interface TcpConnectorOptions {
  /** Broker host name or IP address. */
  readonly hostName: string;
  /** Broker port (1883 for MQTT, 8883 for MQTT over TLS by convention). */
  readonly port: number;
  /**
   * TLS to the broker: `true` for TLS with the default settings (system CAs, SNI, certificate check),
   * an options object for a custom CA, a client certificate (mutual TLS), PKCS#12, ALPN…
   * Absent or `false`: plaintext TCP.
   */
  readonly tls?: boolean | TlsOptions;
  /** Connect timeout and TCP keep-alive. */
  readonly socketOptions?: SocketOptions;
  /**
   * Opens the connection through an intermediary instead of connecting directly, e.g.
   * `createHttpProxyTunnel(...)` of `@mqtt5/transport-http-proxy`. TLS, when configured, runs inside
   * the tunnel, end to end with the broker.
   */
  readonly tunnel?: SocketTunnel;
}

const OPTION_KEYS = new Set(['hostName', 'port', 'tls', 'socketOptions', 'tunnel']);

/** Shared by every connector built without `socketOptions` (frozen: the connectors only read it). */
const DEFAULT_SOCKET_OPTIONS: ResolvedSocketOptions = Object.freeze(resolveSocketOptions(undefined));

function noop(): void {}

/**
 * Creates a {@link Connector} that opens a TCP connection to the broker, with TLS when configured,
 * optionally through a tunnel. The connector returns the `net.Socket` / `tls.TLSSocket` itself (no
 * wrapper), with Nagle's algorithm off.
 *
 * Options are validated here, synchronously; files named in the TLS options are read at every
 * connection attempt, so a missing or renewed file affects attempts, not construction.
 *
 * Failures reject with an `Mqtt5Error`: `AWS_IO_DNS_INVALID_NAME`, `AWS_IO_SOCKET_CONNECTION_REFUSED`,
 * `AWS_IO_SOCKET_TIMEOUT` (whole attempt over `connectTimeoutMs`), `AWS_IO_SOCKET_CLOSED`,
 * `AWS_IO_SOCKET_NETWORK_DOWN`, `AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE`, `AWS_IO_FILE_VALIDATION_FAILURE`,
 * the tunnel's own codes (`AWS_ERROR_HTTP_PROXY_CONNECT_FAILED`, …), or `ABORTED` when the signal
 * aborts; the Node error is the `cause`.
 *
 * @example
 * ```ts
 * const connector = createTcpConnector({
 *   hostName: 'broker.example.com',
 *   port: 8883,
 *   tls: { ca: '/etc/mqtt/ca.pem', cert: '/etc/mqtt/device.crt', key: '/etc/mqtt/device.key' },
 * });
 * const client = new Mqtt5Client({ connector });
 * ```
 * @throws Mqtt5Error `AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION` for invalid options
 */
export function createTcpConnector(options: TcpConnectorOptions): Connector {
  if (typeof options !== 'object' || options === null) {
    throw new Mqtt5Error('AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION', 'TCP connector options must be an object');
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key)) {
      throw new Mqtt5Error('AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION', `${key} is not a TCP connector option`);
    }
  }
  const { hostName, port, tunnel } = options;
  validateEndpoint(hostName, port, '');
  validateTlsOptions(options.tls, 'tls');
  if (tunnel !== undefined && typeof tunnel !== 'function') {
    throw new Mqtt5Error('AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION', 'tunnel must be a function');
  }
  const socketOptions =
    options.socketOptions === undefined ? DEFAULT_SOCKET_OPTIONS : resolveSocketOptions(options.socketOptions);
  const tls = tlsOptionsOf(options.tls);
  // Plain TCP (the common case, and the one connect latency is measured on): one callback-driven
  // attempt, no async functions, no inner AbortController; the closure keeps only what it uses.
  if (tls === undefined && tunnel === undefined) return plainConnector(hostName, port, socketOptions);
  const contexts = tls === undefined ? undefined : new SecureContextLoader(tls);
  const target = formatTarget(hostName, port);

  return ({ signal }) =>
    withDeadline(signal, socketOptions.connectTimeoutMs, target, async (attempt): Promise<Socket> => {
      const secureContext = contexts === undefined ? undefined : await raceSignal(contexts.load(), attempt, target);
      const socket = await openStream(hostName, port, socketOptions, tunnel, attempt, target);
      if (tls === undefined || secureContext === undefined) return handOver(socket, attempt, target);
      return handOver(await startTls(socket, hostName, tls, secureContext, attempt, target), attempt, target);
    });
}

/**
 * Plain TCP connectors with the default socket options, by `host:port`: they hold no state, so
 * clients of the same broker share one (a process running a fleet of clients keeps one closure,
 * not one per client). Bounded: past the limit, connectors are built unshared.
 */
const sharedPlainConnectors = new Map<string, Connector>();
const SHARED_PLAIN_CONNECTORS_MAX = 256;

/** The connector of plain TCP, in a scope of its own so that its closure holds only these three. */
function plainConnector(host: string, port: number, options: ResolvedSocketOptions): Connector {
  if (options !== DEFAULT_SOCKET_OPTIONS) return (attempt) => connectTcp(host, port, options, attempt);
  const key = `${port} ${host}`;
  let connector = sharedPlainConnectors.get(key);
  if (connector === undefined) {
    connector = (attempt) => connectTcp(host, port, options, attempt);
    if (sharedPlainConnectors.size < SHARED_PLAIN_CONNECTORS_MAX) sharedPlainConnectors.set(key, connector);
  }
  return connector;
}

/**
 * One plain TCP attempt: what `withDeadline` + `openTcp` + `handOver` do, with the same errors,
 * settled by the socket's events, the caller's signal or the connect timeout, without async
 * functions, inner AbortController or a Node timer of its own (see {@link AttemptDeadlines}).
 * Resolves with the socket (Nagle off, a no-op `'error'` listener so that an error emitted before
 * the caller attaches its own cannot become an uncaught exception).
 */
function connectTcp(
  host: string,
  port: number,
  options: ResolvedSocketOptions,
  attempt: ConnectOptions,
): Promise<Socket> {
  // The client's ConnectOptions take one abort callback directly (no AbortSignal listener); any
  // other caller's are listened to through `signal`.
  const hook = (attempt as { [ATTEMPT_ON_ABORT]?: unknown })[ATTEMPT_ON_ABORT];
  const onAbortHook = typeof hook === 'function' ? (hook as AbortHook) : undefined;
  const signal = onAbortHook === undefined ? attempt.signal : undefined;
  if (signal?.aborted === true) return Promise.reject(abortError(signal.reason, formatTarget(host, port)));
  return new Promise<Socket>((resolve, reject) => {
    const socket = netConnect({
      host,
      port,
      noDelay: true,
      keepAlive: options.keepAlive,
      keepAliveInitialDelay: options.keepAliveDelayMs,
    });
    const timeoutMs = options.connectTimeoutMs;
    const cleanup = (): void => {
      attemptDeadlines.remove(pending);
      socket.removeListener('connect', onConnect);
      socket.removeListener('error', onError);
      socket.removeListener('close', onClose);
      if (signal !== undefined) signal.removeEventListener('abort', onAbortEvent);
      else onAbortHook?.call(attempt, undefined);
    };
    let connected = false;
    const fail = (error: Mqtt5Error): void => {
      cleanup();
      if (connected) return; // handed over already: the socket is the caller's now
      socket.destroy();
      reject(error);
    };
    const onConnect = (): void => {
      connected = true;
      // swapped at once (not in the deferred cleanup): the socket then has one 'error' listener
      // when the caller adds its own, and keeps a 2-slot listener array rather than a grown one
      socket.removeListener('error', onError);
      socket.on('error', noop);
      resolve(socket);
      // The attempt's listeners are released in a microtask queued after the caller's reaction to
      // `resolve`, so that the caller writes its first bytes before this bookkeeping runs. Nothing
      // can fire in between: the socket emits 'connect' once, and errors, 'close' and timers come
      // from later ticks.
      queueMicrotask(cleanup);
    };
    const onError = (error: Error): void => fail(toTransportError(error, 'tcp', formatTarget(host, port)));
    const onClose = (): void => {
      const closed = Object.assign(new Error('socket closed'), { code: 'ECONNRESET' });
      fail(toTransportError(closed, 'tcp', formatTarget(host, port)));
    };
    const onAbort = (reason: unknown): void => fail(abortError(reason, formatTarget(host, port)));
    const onAbortEvent = (): void => onAbort(signal?.reason);
    const pending: PendingAttempt = {
      deadline: performance.now() + timeoutMs,
      expire: () => {
        const target = formatTarget(host, port);
        fail(new Mqtt5Error('AWS_IO_SOCKET_TIMEOUT', `connection to ${target} timed out after ${timeoutMs} ms`));
      },
    };
    if (signal !== undefined) {
      signal.addEventListener('abort', onAbortEvent); // removed by cleanup (`once` costs more to add)
    } else if (!(onAbortHook as AbortHook).call(attempt, onAbort)) {
      // aborted already: no listener was set
      socket.destroy();
      reject(abortError(attempt.signal.reason, formatTarget(host, port)));
      return;
    }
    attemptDeadlines.add(pending);
    socket.on('connect', onConnect);
    socket.on('error', onError);
    socket.on('close', onClose);
  });
}

/**
 * `@mqtt5/client`'s ConnectOptions method that sets (or clears) an attempt's one abort callback;
 * false when the attempt is aborted already. Found by its registered symbol (see
 * `ATTEMPT_ON_ABORT` in `@mqtt5/client`).
 */
type AbortHook = (this: ConnectOptions, listener: ((reason: unknown) => void) | undefined) => boolean;
const ATTEMPT_ON_ABORT = Symbol.for('@mqtt5/client.ConnectOptions.onAbort');

/** A plain TCP attempt waiting for its connect timeout. */
interface PendingAttempt {
  /** `performance.now()` milliseconds. */
  readonly deadline: number;
  readonly expire: () => void;
}

/** The longest delay Node's `setTimeout` honours. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * The connect timeouts of every pending plain TCP attempt behind one Node timer, armed for the
 * earliest deadline and kept lazily: an attempt that connects (the usual case) costs a Set insert
 * and delete, not a Node timer (with a timer list of its own, created and destroyed each time).
 * The timer is ref'd only while an attempt is pending; when it fires, expired attempts fail and it
 * is armed again for the earliest remaining deadline.
 */
class AttemptDeadlines {
  readonly #pending = new Set<PendingAttempt>();
  #timer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** When the timer fires (`performance.now()` ms), Infinity when there is none. */
  #timerAt = Infinity;
  #refed = false;
  readonly #onTimer = (): void => this.#fire();

  add(attempt: PendingAttempt): void {
    this.#pending.add(attempt);
    if (this.#timer === undefined || attempt.deadline < this.#timerAt) {
      this.#arm(attempt.deadline);
    } else if (!this.#refed) {
      this.#timer.ref();
      this.#refed = true;
    }
  }

  remove(attempt: PendingAttempt): void {
    if (!this.#pending.delete(attempt)) return;
    if (this.#pending.size === 0 && this.#refed && this.#timer !== undefined) {
      this.#timer.unref();
      this.#refed = false;
    }
  }

  #arm(at: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const now = performance.now();
    let delay = Math.ceil(at - now);
    if (!(delay >= 1)) delay = 1;
    if (delay > MAX_TIMER_MS) delay = MAX_TIMER_MS;
    this.#timerAt = now + delay;
    this.#timer = setTimeout(this.#onTimer, delay);
    this.#refed = true;
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    this.#refed = false;
    const now = performance.now();
    let next = Infinity;
    for (const attempt of [...this.#pending]) {
      if (attempt.deadline <= now)
        attempt.expire(); // removes it
      else if (attempt.deadline < next) next = attempt.deadline;
    }
    if (next !== Infinity && this.#timer === undefined) this.#arm(next);
  }
}

const attemptDeadlines = new AttemptDeadlines();
