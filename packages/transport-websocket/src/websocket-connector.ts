import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { Mqtt5Error } from '@mqtt5/codec';
import { toTransportError, type Connector } from '@mqtt5/client';
import type { SocketOptions, SocketTunnel, TlsOptions } from '@mqtt5/transport-tcp';
import { formatTarget, reasonOf, withDeadline } from '@mqtt5/transport-tcp/internal';
import { openStream, raceSignal, startTls } from '@mqtt5/transport-tcp/internal';
import { resolveSocketOptions, validateEndpoint } from '@mqtt5/transport-tcp/internal';
import { SecureContextLoader, tlsOptionsOf, validateTlsOptions } from '@mqtt5/transport-tcp/internal';
import WebSocket from 'ws';
import { WebSocketTransport } from './websocket-transport.js';

/** The websocket upgrade request of one connection attempt, as a handshake transform sees it. */
export interface WebSocketHandshakeRequest {
  /** Full URL of the upgrade, e.g. `wss://broker.example.com:443/mqtt` (query string included). */
  url: string;
  /** Extra request headers (the websocket headers themselves are added by the transport). */
  headers: Record<string, string>;
}

/**
 * Called before every connection attempt with the upgrade request; resolves with the request to
 * send (a signed URL, extra headers…). This is where SigV4 presigning and custom-authorizer signing
 * plug in, so credentials are fresh at every reconnect.
 *
 * Reject with an `Mqtt5Error` to choose the code of the connection failure (e.g.
 * `AWS_AUTH_CREDENTIALS_PROVIDER_FAILURE`); see {@link createWebSocketConnector} for other errors.
 */
export type WebSocketHandshakeTransform = (request: WebSocketHandshakeRequest) => Promise<WebSocketHandshakeRequest>;

/** Options of {@link createWebSocketConnector}. */
export interface WebSocketConnectorOptions {
  /** Broker host name or IP address. */
  readonly hostName: string;
  /** Broker port (80/443 or the broker's websocket listener). */
  readonly port: number;
  /** `wss://` with these TLS settings (`true`: defaults). Absent or `false`: `ws://`. */
  readonly tls?: boolean | TlsOptions;
  /** Path (and optional query string) of the upgrade request. Default `/mqtt`. */
  readonly path?: string;
  /** Extra headers of the upgrade request. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Async rewrite of the upgrade request, called for every attempt. */
  readonly handshakeTransform?: WebSocketHandshakeTransform;
  /** Connect timeout (covers the transform, TCP, TLS and the upgrade) and TCP keep-alive. */
  readonly socketOptions?: SocketOptions;
  /** Opens the connection through an intermediary, e.g. `createHttpProxyTunnel(...)` of `@mqtt5/transport-http-proxy`. */
  readonly tunnel?: SocketTunnel;
}

/** Default path of the upgrade request. */
export const DEFAULT_WEBSOCKET_PATH = '/mqtt';
/** The largest MQTT packet (256 MiB + 5 header bytes): the largest websocket message accepted. */
const MAX_MESSAGE_BYTES = 268_435_460;
/** How long `end()` waits for the server's close frame before dropping the connection. */
const CLOSE_TIMEOUT_MS = 5_000;
const OPTION_KEYS = new Set(['hostName', 'port', 'tls', 'path', 'headers', 'handshakeTransform', 'socketOptions', 'tunnel']);
/** Headers the transport owns; setting them would break the upgrade. */
const RESERVED_HEADERS = new Set([
  'connection',
  'upgrade',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
]);
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** True when `value` contains a character in `set` or a control character (tab allowed when `tabOk`). */
function hasUnsafe(value: string, set: string, tabOk: boolean): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && !(tabOk && c === 0x09)) || c === 0x7f || set.includes(value.charAt(i))) return true;
  }
  return false;
}

function invalid(message: string): Mqtt5Error {
  return new Mqtt5Error('AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION', message);
}

function checkHeaders(headers: unknown, onError: (message: string) => Mqtt5Error): Record<string, string> {
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) throw onError('headers must be an object');
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
    if (!HEADER_NAME.test(name)) throw onError(`invalid header name ${JSON.stringify(name)}`);
    if (RESERVED_HEADERS.has(name.toLowerCase())) throw onError(`header ${name} is set by the websocket transport`);
    if (typeof value !== 'string' || hasUnsafe(value, '', true)) throw onError(`invalid value of header ${name}`);
    out[name] = value;
  }
  return out;
}

/**
 * Validates websocket options synchronously.
 *
 * @param options - `path`, `headers`, `handshakeTransform` (the facade's `websocket` option)
 * @param name - prefix for messages, e.g. `'websocket.'`
 * @throws Mqtt5Error `AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION`
 */
export function validateWebSocketOptions(
  options: { readonly path?: unknown; readonly headers?: unknown; readonly handshakeTransform?: unknown },
  name = '',
): void {
  const { path, headers, handshakeTransform } = options;
  if (path !== undefined && (typeof path !== 'string' || !path.startsWith('/') || hasUnsafe(path, ' #', false))) {
    throw invalid(`${name}path must start with '/' and contain no whitespace, control characters or '#'`);
  }
  if (headers !== undefined) checkHeaders(headers, (m) => invalid(`${name}${m}`));
  if (handshakeTransform !== undefined && typeof handshakeTransform !== 'function') {
    throw invalid(`${name}handshakeTransform must be a function`);
  }
}

function transformError(error: unknown): Mqtt5Error {
  if (Mqtt5Error.isInstance(error)) return error;
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  // the AWS SDK's credential providers fail with a CredentialsProviderError
  const code = name === 'CredentialsProviderError' ? 'AWS_AUTH_CREDENTIALS_PROVIDER_FAILURE' : 'AWS_ERROR_HTTP_WEBSOCKET_UPGRADE_FAILURE';
  return new Mqtt5Error(code, `websocket handshake transform failed: ${message}`, { cause: error });
}

function checkTransformed(value: unknown, secure: boolean): { url: URL; headers: Record<string, string> } {
  const fail = (message: string): Mqtt5Error =>
    new Mqtt5Error('AWS_ERROR_HTTP_WEBSOCKET_UPGRADE_FAILURE', `websocket handshake transform returned an invalid request: ${message}`);
  if (typeof value !== 'object' || value === null) throw fail('not an object');
  const { url, headers } = value as { url?: unknown; headers?: unknown };
  if (typeof url !== 'string') throw fail('url is not a string');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw fail(`url ${JSON.stringify(url)} is not a URL`);
  }
  if (parsed.protocol !== (secure ? 'wss:' : 'ws:')) throw fail(`url scheme must stay ${secure ? 'wss:' : 'ws:'}`);
  if (parsed.hash !== '') throw fail('url must not have a fragment');
  return { url: parsed, headers: checkHeaders(headers ?? {}, fail) };
}

function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

function upgrade(
  socket: Socket,
  url: URL,
  headers: Record<string, string>,
  signal: AbortSignal,
  target: string,
): Promise<WebSocketTransport> {
  return new Promise<WebSocketTransport>((resolve, reject) => {
    let settled = false;
    let ws: WebSocket;
    const cleanup = (): void => {
      settled = true;
      signal.removeEventListener('abort', onAbort);
      ws.removeListener('open', onOpen);
      ws.removeListener('unexpected-response', onResponse);
    };
    const fail = (error: Mqtt5Error): void => {
      if (settled) return;
      cleanup();
      ws.terminate();
      socket.destroy();
      reject(error);
    };
    const onOpen = (): void => {
      if (settled) return;
      cleanup();
      ws.removeListener('error', onError);
      resolve(new WebSocketTransport(ws));
    };
    const onResponse = (_request: unknown, response: IncomingMessage): void => {
      const status = response.statusCode ?? 0;
      fail(
        new Mqtt5Error(
          'AWS_ERROR_HTTP_WEBSOCKET_UPGRADE_FAILURE',
          `websocket upgrade at ${target} rejected: HTTP ${status}${response.statusMessage ? ` ${response.statusMessage}` : ''}`,
          { httpStatus: status },
        ),
      );
    };
    // stays attached until open: ws reports late handshake errors (and the terminate() of fail) here
    const onError = (error: Error): void => fail(toTransportError(error, 'websocket', target));
    const onAbort = (): void => fail(reasonOf(signal, target));
    try {
      ws = new WebSocket(url, ['mqtt'], {
        headers,
        perMessageDeflate: false,
        followRedirects: false,
        maxPayload: MAX_MESSAGE_BYTES,
        closeTimeout: CLOSE_TIMEOUT_MS,
        createConnection: () => socket,
      } as WebSocket.ClientOptions);
    } catch (error) {
      socket.destroy();
      reject(toTransportError(error, 'websocket', target));
      return;
    }
    ws.on('open', onOpen);
    ws.on('unexpected-response', onResponse);
    ws.on('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
  });
}

/**
 * Creates a {@link Connector} for MQTT over websockets (`ws://` or `wss://`): subprotocol `mqtt`,
 * binary frames in both directions, the upgrade request rewritten per attempt by
 * `handshakeTransform`, optionally through a tunnel (HTTP proxy).
 *
 * The connector opens TCP itself (Nagle off, keep-alive as configured), runs TLS over it for `wss:`,
 * then the upgrade with `ws`; it resolves with a lean {@link WebSocketTransport}.
 *
 * Failures reject with an `Mqtt5Error` and the Node error as `cause`:
 * - `AWS_ERROR_HTTP_WEBSOCKET_UPGRADE_FAILURE` (`httpStatus` set) when the server answers the
 *   upgrade with anything but 101, when the connection drops during the upgrade, when the server does
 *   not accept subprotocol `mqtt`, or when `handshakeTransform` fails (message
 *   `websocket handshake transform failed: …`);
 * - a transform's own `Mqtt5Error` as it is, and `AWS_AUTH_CREDENTIALS_PROVIDER_FAILURE` when it
 *   fails with the AWS SDK's `CredentialsProviderError`;
 * - the socket and TLS codes of `@mqtt5/transport-tcp` (`AWS_IO_DNS_INVALID_NAME`,
 *   `AWS_IO_SOCKET_CONNECTION_REFUSED`, `AWS_IO_SOCKET_TIMEOUT`, `AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE`,
 *   `AWS_IO_FILE_VALIDATION_FAILURE`, …), the tunnel's codes, or `ABORTED`.
 *
 * @example
 * ```ts
 * const connector = createWebSocketConnector({ hostName: 'broker.example.com', port: 443, tls: true });
 * const client = new Mqtt5Client({ connector });
 * ```
 * @throws Mqtt5Error `AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION` for invalid options
 */
export function createWebSocketConnector(options: WebSocketConnectorOptions): Connector {
  if (typeof options !== 'object' || options === null) throw invalid('websocket connector options must be an object');
  for (const key of Object.keys(options)) if (!OPTION_KEYS.has(key)) throw invalid(`${key} is not a websocket connector option`);
  const { hostName, port, tunnel, handshakeTransform } = options;
  validateEndpoint(hostName, port, '');
  validateTlsOptions(options.tls, 'tls');
  validateWebSocketOptions(options);
  if (tunnel !== undefined && typeof tunnel !== 'function') throw invalid('tunnel must be a function');
  const headers = checkHeaders(options.headers ?? {}, invalid);
  const socketOptions = resolveSocketOptions(options.socketOptions);
  const tls = tlsOptionsOf(options.tls);
  const secure = tls !== undefined;
  const contexts = tls === undefined ? undefined : new SecureContextLoader(tls);
  const baseUrl = `${secure ? 'wss' : 'ws'}://${formatTarget(hostName, port)}${options.path ?? DEFAULT_WEBSOCKET_PATH}`;
  // fail at construction, not at every attempt, when host or path do not make a URL
  try {
    new URL(baseUrl);
  } catch {
    throw invalid(`hostName/port/path do not form a valid URL: ${baseUrl}`);
  }
  const defaultTarget = formatTarget(hostName, port);

  return ({ signal }) =>
    withDeadline(signal, socketOptions.connectTimeoutMs, defaultTarget, async (attempt): Promise<WebSocketTransport> => {
      let request = { url: new URL(baseUrl), headers: { ...headers } };
      if (handshakeTransform !== undefined) {
        let transformed: unknown;
        try {
          transformed = await raceSignal(
            Promise.resolve().then(() => handshakeTransform({ url: baseUrl, headers: { ...headers } })),
            attempt,
            defaultTarget,
          );
        } catch (error) {
          if (attempt.aborted) throw reasonOf(attempt, defaultTarget);
          throw transformError(error);
        }
        request = checkTransformed(transformed, secure);
      }
      const host = hostOf(request.url);
      const targetPort = request.url.port === '' ? (secure ? 443 : 80) : Number(request.url.port);
      const target = formatTarget(host, targetPort);
      const secureContext = contexts === undefined ? undefined : await raceSignal(contexts.load(), attempt, target);
      let socket = await openStream(host, targetPort, socketOptions, tunnel, attempt, target);
      if (tls !== undefined && secureContext !== undefined) {
        socket = await startTls(socket, host, tls, secureContext, attempt, target);
      }
      const transport = await upgrade(socket, request.url, request.headers, attempt, target);
      if (attempt.aborted) {
        transport.destroy();
        throw reasonOf(attempt, target);
      }
      return transport;
    });
}
