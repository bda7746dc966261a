/**
 * `@mqtt5/transport-http-proxy`: reach the broker through an HTTP `CONNECT` proxy (plain or HTTPS,
 * no authentication or basic authentication), under the TCP/TLS or the websocket transport.
 *
 * @packageDocumentation
 */
export { createHttpProxyTunnel, validateHttpProxyOptions, type HttpProxyOptions } from './http-proxy-tunnel.js';
export type { SocketTunnel, TunnelRequest } from './internal/connect.js';
export type { SocketOptions } from './internal/socket-options.js';
export type { TlsOptions, TlsSource } from './internal/tls-options.js';
