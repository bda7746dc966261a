import type { Socket } from 'node:net';
import { Mqtt5Error } from '@mqtt5/codec';
import type { Connector } from '@mqtt5/client';
import { formatTarget, withDeadline } from './internal/attempt.js';
import { handOver, openStream, raceSignal, startTls, type SocketTunnel } from './internal/connect.js';
import { resolveSocketOptions, validateEndpoint, type SocketOptions } from './internal/socket-options.js';
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
  const socketOptions = resolveSocketOptions(options.socketOptions);
  const tls = tlsOptionsOf(options.tls);
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
