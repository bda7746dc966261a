/**
 * `@mqtt5/transport-websocket`: connect `@mqtt5/client` to a broker with MQTT over websockets
 * (`ws://`, `wss://`), with an async handshake transform for request signing.
 *
 * @packageDocumentation
 */
export {
  createWebSocketConnector,
  validateWebSocketOptions,
  DEFAULT_WEBSOCKET_PATH,
  type WebSocketConnectorOptions,
  type WebSocketHandshakeRequest,
  type WebSocketHandshakeTransform,
} from './websocket-connector.js';
export { WebSocketTransport, WEBSOCKET_WRITE_HIGH_WATER_MARK } from './websocket-transport.js';
export type { SocketTunnel, TunnelRequest } from './internal/connect.js';
export type { SocketOptions } from './internal/socket-options.js';
export type { TlsOptions, TlsSource } from './internal/tls-options.js';
