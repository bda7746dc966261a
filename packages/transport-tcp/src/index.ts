/**
 * `@mqtt5/transport-tcp`: connect `@mqtt5/client` to a broker over TCP, TLS or mutual TLS.
 *
 * @packageDocumentation
 */
export { createTcpConnector, type TcpConnectorOptions } from './tcp-connector.js';
export type { SocketTunnel, TunnelRequest } from './internal/connect.js';
export type { SocketOptions } from './internal/socket-options.js';
export type { TlsOptions, TlsSource } from './internal/tls-options.js';
export { DEFAULT_CONNECT_TIMEOUT_MS } from './internal/attempt.js';
