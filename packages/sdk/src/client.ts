import { Mqtt5Error } from '@mqtt5/codec';
import {
  Mqtt5Client as CoreMqtt5Client,
  type Connector,
  type Mqtt5ClientConfig as CoreMqtt5ClientConfig,
} from '@mqtt5/client';
import { createConnector, defaultPort, validateTransportOptions, type TransportOptions } from './connector.js';

/**
 * Configuration of the facade's {@link Mqtt5Client}: every option of the core client
 * (`sessionBehavior`, `retryJitterMode`, reconnect delays, timeouts, `offlineQueueBehavior`,
 * `topicAliasingOptions`, `connectProperties`, …) plus the plain transport options from which the
 * facade builds the connector: `hostName` (required), `port`, `tls`, `websocket`,
 * `httpProxyOptions`, `socketOptions`.
 *
 * `connector` replaces the built connector (then `tls`, `websocket`, `httpProxyOptions` and
 * `socketOptions` must not be set; `hostName`/`port` stay informational).
 */
export interface Mqtt5ClientConfig extends Omit<CoreMqtt5ClientConfig, 'hostName' | 'port' | 'connector'>, TransportOptions {
  /** Broker host name or IP address (also the TLS server name unless `tls.servername` is set). */
  hostName: string;
  /** Broker port. Default: 1883, 8883 with `tls`, 80 with `websocket`, 443 with `websocket` and `tls`. */
  port?: number;
  /** A custom connector instead of the one built from the transport options. */
  connector?: Connector;
}

const TRANSPORT_KEYS = ['tls', 'websocket', 'httpProxyOptions', 'socketOptions'] as const;

/**
 * Turns a facade config into a core config: validates the transport options and builds the
 * connector.
 *
 * @throws Mqtt5Error `AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION`
 */
export function toCoreConfig(config: Mqtt5ClientConfig): CoreMqtt5ClientConfig {
  if (typeof config !== 'object' || config === null) {
    throw new Mqtt5Error('AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION', 'the client config must be an object');
  }
  const { tls, websocket, httpProxyOptions, socketOptions, connector, ...core } = config;
  validateTransportOptions(config);
  const port = config.port ?? defaultPort(config);
  if (connector !== undefined) {
    const conflicting = TRANSPORT_KEYS.filter((key) => config[key] !== undefined);
    if (conflicting.length > 0) {
      throw new Mqtt5Error(
        'AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION',
        `connector replaces the transport options; do not also set ${conflicting.join(', ')}`,
      );
    }
    return { ...core, port, connector };
  }
  const built = createConnector({
    hostName: config.hostName,
    port,
    ...(tls !== undefined ? { tls } : {}),
    ...(websocket !== undefined ? { websocket } : {}),
    ...(httpProxyOptions !== undefined ? { httpProxyOptions } : {}),
    ...(socketOptions !== undefined ? { socketOptions } : {}),
  });
  return { ...core, port, connector: built };
}

/**
 * The MQTT 5 client, set up from plain options: the core `Mqtt5Client` of `@mqtt5/client` (same
 * methods, events and behaviour) with the connector built from `hostName`, `port`, `tls`,
 * `websocket`, `httpProxyOptions` and `socketOptions`.
 *
 * @example
 * ```ts
 * import { Mqtt5Client, QoS } from '@mqtt5/sdk';
 *
 * const client = new Mqtt5Client({ hostName: '127.0.0.1', port: 1883 });
 * client.on('messageReceived', ({ message }) => console.log(message.topicName, message.payload.toString()));
 * client.start();
 * await client.subscribe({ subscriptions: [{ topicFilter: 'sensors/#', qos: QoS.AtLeastOnce }] });
 * await client.publish({ topicName: 'sensors/1', payload: 'hello', qos: QoS.AtLeastOnce });
 * ```
 */
export class Mqtt5Client extends CoreMqtt5Client {
  /**
   * Validates `config` synchronously (files named in `tls` are read when connecting) and keeps a
   * frozen copy of it.
   *
   * @throws Mqtt5Error `AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION` or
   *   `AWS_ERROR_MQTT5_CONNECT_OPTIONS_VALIDATION`
   */
  constructor(config: Mqtt5ClientConfig) {
    super(toCoreConfig(config));
  }
}
