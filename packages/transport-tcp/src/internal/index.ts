/**
 * `@mqtt5/transport-tcp/internal`: the socket layer the other `@mqtt5` transports run on — connection
 * attempts under a deadline, TCP connect and TLS handshake, TLS and socket options (validation,
 * loading certificates, `tls.connect` options).
 *
 * For @mqtt5 transports (`@mqtt5/transport-websocket`, `@mqtt5/transport-http-proxy`); no semver
 * guarantee: anything here may change in any release. Applications use the package's main entry.
 * The mapping of Node.js errors to SDK codes is public in `@mqtt5/client` (`toTransportError`).
 *
 * @internal
 * @packageDocumentation
 */
export {
  DEFAULT_CONNECT_TIMEOUT_MS,
  formatTarget,
  reasonOf,
  waitForEvent,
  withDeadline,
  type EventSource,
} from './attempt.js';
export { handOver, openStream, openTcp, raceSignal, startTls, type SocketTunnel, type TunnelRequest } from './connect.js';
export {
  resolveSocketOptions,
  validateEndpoint,
  type ResolvedSocketOptions,
  type SocketOptions,
} from './socket-options.js';
export {
  SecureContextLoader,
  isPemText,
  tlsConnectOptions,
  tlsOptionsOf,
  validateTlsOptions,
  type TlsOptions,
  type TlsSource,
} from './tls-options.js';
