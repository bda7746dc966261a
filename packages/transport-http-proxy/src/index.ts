/**
 * `@mqtt5/transport-http-proxy`: reach the broker through an HTTP `CONNECT` proxy (plain or HTTPS,
 * no authentication or basic authentication), under the TCP/TLS or the websocket transport.
 *
 * @packageDocumentation
 */
export { createHttpProxyTunnel, validateHttpProxyOptions, type HttpProxyOptions } from './http-proxy-tunnel.js';
// the option types of the socket layer this transport runs on, re-exported for convenience
export type { SocketOptions, SocketTunnel, TlsOptions, TlsSource, TunnelRequest } from '@mqtt5/transport-tcp';
