/**
 * `@mqtt5/client`: the MQTT 5 client engine — lifecycle, reconnect with backoff, operation queue,
 * flow control, topic aliases, statistics — over any byte stream a {@link Connector} opens.
 *
 * Re-exports the packet model, enums and errors of `@mqtt5/codec`.
 *
 * @packageDocumentation
 */
export * from '@mqtt5/codec';
export { Mqtt5Client, type OperationOptions, type OperationalStatistics } from './client.js';
export {
  ClientExtendedValidationAndFlowControl,
  ClientOperationQueueBehavior,
  ClientSessionBehavior,
  DEFAULTS,
  InboundTopicAliasBehaviorType,
  type Mqtt5ClientConfig,
  OutboundTopicAliasBehaviorType,
  type ResolvedClientConfig,
  RetryJitterType,
  type TopicAliasingOptions,
} from './config.js';
export type {
  AttemptingConnectEvent,
  ConnectionFailureEvent,
  ConnectionSuccessEvent,
  DisconnectionEvent,
  MessageReceivedEvent,
  Mqtt5ClientEvents,
  PublishAcknowledgementControl,
  PublishAcknowledgementHandle,
  StoppedEvent,
} from './events.js';
export type { MessageStream, MessagesOptions } from './message-stream.js';
export type { NegotiatedSettings } from './negotiated-settings.js';
export type { Clock, TimerHandle } from './clock.js';
export { systemClock } from './clock.js';
export { DIAGNOSTICS_CHANNELS, type ClientConnectMessage, type ClientDisconnectMessage } from './diagnostics.js';
export { IOT_CORE_LIMITS } from './iot-core.js';
export type { Connector, ConnectOptions, Transport } from './transport.js';
export { abortError, isTlsError, toTransportError, type ConnectPhase } from './transport-errors.js';
