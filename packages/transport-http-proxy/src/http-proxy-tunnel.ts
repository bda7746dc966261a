import type { Socket } from 'node:net';
import { Mqtt5Error } from '@mqtt5/codec';
import { toTransportError } from '@mqtt5/client';
import type { SocketOptions, SocketTunnel, TlsOptions } from '@mqtt5/transport-tcp';
import { formatTarget, reasonOf, withDeadline } from '@mqtt5/transport-tcp/internal';
import { handOver, openTcp, raceSignal, startTls } from '@mqtt5/transport-tcp/internal';
import { resolveSocketOptions, validateEndpoint } from '@mqtt5/transport-tcp/internal';
import { SecureContextLoader, tlsOptionsOf, validateTlsOptions } from '@mqtt5/transport-tcp/internal';

/** How the proxy is reached and how the client authenticates to it. */
export interface HttpProxyOptions {
  /** Proxy host name or IP address. */
  readonly hostName: string;
  /** Proxy port. */
  readonly port: number;
  /**
   * `'basic'`: send `Proxy-Authorization: Basic …` with `authUsername`/`authPassword`.
   * Default: `'basic'` when `authUsername` is set, else `'none'`.
   */
  readonly authType?: 'none' | 'basic';
  /** User name for basic authentication (must not contain `:`). */
  readonly authUsername?: string;
  /** Password for basic authentication. Never logged. */
  readonly authPassword?: string;
  /** TLS to the proxy itself (an HTTPS proxy): `true` or TLS options. Default: plaintext to the proxy. */
  readonly tls?: boolean | TlsOptions;
  /**
   * Socket settings of the connection to the proxy. `connectTimeoutMs` bounds opening the tunnel
   * (TCP, TLS to the proxy and the CONNECT exchange); default 10000 ms.
   */
  readonly socketOptions?: SocketOptions;
}

/** Largest proxy response header accepted. */
const MAX_RESPONSE_HEADER_BYTES = 16 * 1024;
const OPTION_KEYS = new Set(['hostName', 'port', 'authType', 'authUsername', 'authPassword', 'tls', 'socketOptions']);
const HEADER_END = Buffer.from('\r\n\r\n');
/** True when `host` has characters that may not appear in a CONNECT target (header injection, smuggling). */
function unsafeHost(host: string): boolean {
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || '/@?#'.includes(host.charAt(i))) return true;
  }
  return false;
}

function invalid(message: string): Mqtt5Error {
  return new Mqtt5Error('AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION', message);
}

/**
 * Validates proxy options synchronously.
 *
 * @param options - the options to check
 * @param name - prefix for messages, e.g. `'httpProxyOptions.'`
 * @throws Mqtt5Error `AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION`
 */
export function validateHttpProxyOptions(options: unknown, name = ''): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalid(`${name || 'HTTP proxy options'} must be an object`);
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!OPTION_KEYS.has(key)) throw invalid(`${name}${key} is not an HTTP proxy option`);
  validateEndpoint(o.hostName, o.port, name);
  if (unsafeHost(o.hostName as string)) throw invalid(`${name}hostName contains characters not allowed in a host name`);
  const { authType, authUsername, authPassword } = o;
  if (authType !== undefined && authType !== 'none' && authType !== 'basic') {
    throw invalid(`${name}authType must be 'none' or 'basic'`);
  }
  if (authUsername !== undefined && typeof authUsername !== 'string') throw invalid(`${name}authUsername must be a string`);
  if (authPassword !== undefined && typeof authPassword !== 'string') throw invalid(`${name}authPassword must be a string`);
  const basic = authType === 'basic' || (authType === undefined && authUsername !== undefined);
  if (basic) {
    if (typeof authUsername !== 'string' || authUsername.length === 0) {
      throw invalid(`${name}authUsername is required for basic proxy authentication`);
    }
    if (authUsername.includes(':')) throw invalid(`${name}authUsername must not contain ':'`);
  } else if (authUsername !== undefined || authPassword !== undefined) {
    throw invalid(`${name}authUsername/authPassword are given but authType is 'none'`);
  }
  validateTlsOptions(o.tls, `${name}tls`);
  resolveSocketOptions(o.socketOptions, `${name}socketOptions`);
}

/** The parsed head of the proxy's answer to CONNECT. */
interface ProxyResponse {
  readonly status: number;
  readonly statusLine: string;
  /** Bytes received after the header: the first bytes of the tunnel. */
  readonly rest: Buffer;
}

function readResponse(socket: Socket, signal: AbortSignal, target: string, proxy: string): Promise<ProxyResponse> {
  return new Promise<ProxyResponse>((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0);
    const cleanup = (): void => {
      socket.removeListener('readable', onReadable);
      socket.removeListener('error', onError);
      socket.removeListener('end', onEnd);
      socket.removeListener('close', onEnd);
      signal.removeEventListener('abort', onAbort);
    };
    const fail = (error: Mqtt5Error): void => {
      cleanup();
      socket.destroy();
      reject(error);
    };
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null) {
        buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
        const end = buffered.indexOf(HEADER_END);
        if (end >= 0) {
          cleanup();
          const head = buffered.subarray(0, end).toString('latin1');
          const statusLine = head.split('\r\n', 1)[0] ?? '';
          const match = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(statusLine);
          if (match === null) {
            socket.destroy();
            reject(
              new Mqtt5Error('AWS_ERROR_HTTP_PROXY_CONNECT_FAILED', `proxy ${proxy} sent an invalid response to CONNECT ${target}: ${JSON.stringify(statusLine.slice(0, 100))}`),
            );
            return;
          }
          resolve({ status: Number(match[1]), statusLine, rest: buffered.subarray(end + HEADER_END.length) });
          return;
        }
        if (buffered.length > MAX_RESPONSE_HEADER_BYTES) {
          fail(new Mqtt5Error('AWS_ERROR_HTTP_PROXY_CONNECT_FAILED', `proxy ${proxy} sent a response header over ${MAX_RESPONSE_HEADER_BYTES} bytes`));
          return;
        }
      }
    };
    const onError = (error: Error): void => fail(toTransportError(error, 'proxy', proxy));
    const onEnd = (): void =>
      fail(new Mqtt5Error('AWS_ERROR_HTTP_PROXY_CONNECT_FAILED', `proxy ${proxy} closed the connection before answering CONNECT ${target}`));
    const onAbort = (): void => fail(reasonOf(signal, target));
    if (signal.aborted) {
      onAbort();
      return;
    }
    socket.on('readable', onReadable);
    socket.once('error', onError);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    signal.addEventListener('abort', onAbort, { once: true });
    onReadable();
  });
}

/**
 * Creates a tunnel factory that opens an HTTP `CONNECT` tunnel through a proxy for every connection
 * attempt. Hand it to `createTcpConnector({ tunnel })` of `@mqtt5/transport-tcp` or
 * `createWebSocketConnector({ tunnel })` of `@mqtt5/transport-websocket`: TLS to the broker and the
 * websocket upgrade then run inside the tunnel.
 *
 * Failures reject with an `Mqtt5Error`: `AWS_ERROR_HTTP_PROXY_CONNECT_FAILED` with `httpStatus` when
 * the proxy answers anything but 2xx (407 missing credentials, 401/407 wrong credentials, 403 port not
 * allowed, 502/503 broker unreachable…) or closes the connection, and the socket codes
 * (`AWS_IO_SOCKET_CONNECTION_REFUSED`, `AWS_IO_DNS_INVALID_NAME`, `AWS_IO_SOCKET_TIMEOUT`,
 * `AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE` for TLS to the proxy, …) for the way to the proxy.
 *
 * @example
 * ```ts
 * const tunnel = createHttpProxyTunnel({ hostName: 'proxy.corp', port: 3128, authUsername: 'me', authPassword: 'secret' });
 * const connector = createTcpConnector({ hostName: 'broker.example.com', port: 8883, tls: true, tunnel });
 * ```
 * @throws Mqtt5Error `AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION` for invalid options
 */
export function createHttpProxyTunnel(options: HttpProxyOptions): SocketTunnel {
  validateHttpProxyOptions(options);
  const { hostName, port, authUsername, authPassword } = options;
  const basic = options.authType === 'basic' || (options.authType === undefined && authUsername !== undefined);
  const authorization = basic
    ? `Basic ${Buffer.from(`${authUsername ?? ''}:${authPassword ?? ''}`, 'utf8').toString('base64')}`
    : undefined;
  const socketOptions = resolveSocketOptions(options.socketOptions);
  const tls = tlsOptionsOf(options.tls);
  const contexts = tls === undefined ? undefined : new SecureContextLoader(tls);
  const proxy = formatTarget(hostName, port);

  return ({ host, port: targetPort, signal }) => {
    if (typeof host !== 'string' || host.length === 0 || unsafeHost(host)) {
      return Promise.reject(invalid(`invalid tunnel target host ${JSON.stringify(host)}`));
    }
    const target = formatTarget(host, targetPort);
    return withDeadline(signal, socketOptions.connectTimeoutMs, proxy, async (attempt): Promise<Socket> => {
      const secureContext = contexts === undefined ? undefined : await raceSignal(contexts.load(), attempt, proxy);
      let socket = await openTcp(hostName, port, socketOptions, attempt, proxy);
      if (tls !== undefined && secureContext !== undefined) {
        socket = await startTls(socket, hostName, tls, secureContext, attempt, proxy);
      }
      const request =
        `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n` +
        (authorization === undefined ? '' : `Proxy-Authorization: ${authorization}\r\n`) +
        '\r\n';
      socket.write(request);
      const response = await readResponse(socket, attempt, target, proxy);
      if (response.status < 200 || response.status > 299) {
        socket.destroy();
        throw new Mqtt5Error(
          'AWS_ERROR_HTTP_PROXY_CONNECT_FAILED',
          `proxy ${proxy} refused CONNECT ${target}: ${response.statusLine}`,
          { httpStatus: response.status },
        );
      }
      if (response.rest.length > 0) socket.unshift(response.rest);
      return handOver(socket, attempt, target);
    });
  };
}
