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
// the option types of the socket layer this transport runs on, re-exported for convenience
export type { SocketOptions, SocketTunnel, TlsOptions, TlsSource, TunnelRequest } from '@mqtt5/transport-tcp';
