import { Mqtt5Error } from '@mqtt5/codec';
import type { Connector } from '@mqtt5/client';
import { createHttpProxyTunnel, validateHttpProxyOptions, type HttpProxyOptions } from '@mqtt5/transport-http-proxy';
import { createTcpConnector, type SocketOptions, type TlsOptions } from '@mqtt5/transport-tcp';
import { createWebSocketConnector, validateWebSocketOptions, type WebSocketHandshakeTransform } from '@mqtt5/transport-websocket';

/** MQTT over websockets: presence of this option (an object, or `true` for the defaults) selects it. */
export interface WebsocketOptions {
  /** Path (and optional query string) of the upgrade request. Default `/mqtt`. */
  readonly path?: string;
  /** Extra headers of the upgrade request. */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Rewrites the upgrade request before every connection attempt (SigV4 presigning, custom
   * authorizer signing…): `(request: { url, headers }) => Promise<{ url, headers }>`.
   */
  readonly handshakeTransform?: WebSocketHandshakeTransform;
}

/** The plain transport options of the facade, from which it builds the connector. */
export interface TransportOptions {
  /** Broker host name or IP address. Also the TLS server name unless `tls.servername` is set. */
  readonly hostName: string;
  /**
   * Broker port. Default: 1883 for MQTT over TCP, 8883 with `tls`, 80 for `websocket`, 443 for
   * `websocket` with `tls`.
   */
  readonly port?: number;
  /** TLS to the broker: `true` for the defaults, or TLS options (CA, client certificate, PKCS#12, ALPN…). */
  readonly tls?: boolean | TlsOptions;
  /** MQTT over websockets (`ws://`, or `wss://` with `tls`). */
  readonly websocket?: boolean | WebsocketOptions;
  /**
   * Reach the broker through an HTTP CONNECT proxy (TLS and websockets run inside the tunnel):
   * `{ hostName, port, authType?, authUsername?, authPassword?, tls? }`. The proxy connection uses
   * `socketOptions` unless `httpProxyOptions.socketOptions` is set.
   */
  readonly httpProxyOptions?: HttpProxyOptions;
  /** Connect timeout (default 10000 ms, the whole attempt) and TCP keep-alive; also used for the proxy connection. */
  readonly socketOptions?: SocketOptions;
}

function invalid(message: string): Mqtt5Error {
  return new Mqtt5Error('AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION', message);
}

function enabled(value: unknown): boolean {
  return value !== undefined && value !== false;
}

/**
 * The port used when none is configured: 1883 (TCP), 8883 (TLS), 80 (websocket), 443 (websocket + TLS).
 */
export function defaultPort(options: Pick<TransportOptions, 'tls' | 'websocket'>): number {
  const tls = enabled(options.tls);
  if (enabled(options.websocket)) return tls ? 443 : 80;
  return tls ? 8883 : 1883;
}

/**
 * Checks the transport options synchronously (shapes only: files are read when connecting).
 *
 * @throws Mqtt5Error `AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION`
 */
export function validateTransportOptions(options: TransportOptions): void {
  if (typeof options.hostName !== 'string' || options.hostName.length === 0) throw invalid('hostName must be a non-empty string');
  const { port, websocket, httpProxyOptions } = options;
  if (port !== undefined && (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)) {
    throw invalid('port must be an integer from 1 to 65535');
  }
  if (websocket !== undefined && typeof websocket !== 'boolean') {
    if (typeof websocket !== 'object' || websocket === null || Array.isArray(websocket)) {
      throw invalid('websocket must be true or an object { path?, headers?, handshakeTransform? }');
    }
    for (const key of Object.keys(websocket)) {
      if (key !== 'path' && key !== 'headers' && key !== 'handshakeTransform') throw invalid(`websocket.${key} is not a websocket option`);
    }
    validateWebSocketOptions(websocket, 'websocket.');
  }
  if (httpProxyOptions !== undefined) validateHttpProxyOptions(httpProxyOptions, 'httpProxyOptions.');
}

/**
 * Builds the connector for plain transport options: TCP, TLS, websockets, each optionally through
 * an HTTP CONNECT proxy.
 *
 * @example
 * ```ts
 * const connector = createConnector({
 *   hostName: 'broker.example.com',
 *   tls: { ca: '/etc/mqtt/ca.pem' },
 *   websocket: { path: '/mqtt' },
 *   httpProxyOptions: { hostName: 'proxy.corp', port: 3128 },
 * });
 * ```
 * @throws Mqtt5Error `AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION` for invalid options
 */
export function createConnector(options: TransportOptions): Connector {
  validateTransportOptions(options);
  const { hostName, tls, websocket, httpProxyOptions, socketOptions } = options;
  const port = options.port ?? defaultPort(options);
  const tunnel =
    httpProxyOptions === undefined
      ? undefined
      : createHttpProxyTunnel(
          httpProxyOptions.socketOptions !== undefined || socketOptions === undefined ? httpProxyOptions : { ...httpProxyOptions, socketOptions },
        );
  const common = {
    hostName,
    port,
    ...(tls !== undefined ? { tls } : {}),
    ...(socketOptions !== undefined ? { socketOptions } : {}),
    ...(tunnel !== undefined ? { tunnel } : {}),
  };
  if (!enabled(websocket)) return createTcpConnector(common);
  const ws = websocket === true ? {} : (websocket as WebsocketOptions);
  return createWebSocketConnector({
    ...common,
    ...(ws.path !== undefined ? { path: ws.path } : {}),
    ...(ws.headers !== undefined ? { headers: ws.headers } : {}),
    ...(ws.handshakeTransform !== undefined ? { handshakeTransform: ws.handshakeTransform } : {}),
  });
}
