/**
 * The events of {@link Mqtt5Client} and their payloads (aws-crt's names and shapes).
 *
 * @packageDocumentation
 */
import type { ConnackPacket, DisconnectPacket, IncomingPublishPacket, Mqtt5Error } from '@mqtt5/codec';
import type { NegotiatedSettings } from './negotiated-settings.js';

/** Emitted when the client starts a connection attempt. Always followed by exactly one `connectionSuccess` or `connectionFailure`. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- no fields yet (aws-crt's shape); an interface so fields can be added
export interface AttemptingConnectEvent {}

/** Emitted when a connection attempt succeeded (a successful CONNACK was received). */
export interface ConnectionSuccessEvent {
  /** The CONNACK the server sent. */
  readonly connack: ConnackPacket;
  /** The settings in force on this connection (reference §2.2). */
  readonly settings: NegotiatedSettings;
}

/** Emitted when a connection attempt failed, before or at the CONNACK. */
export interface ConnectionFailureEvent {
  /** Why the attempt failed (`error.code` is stable: switch on it). */
  readonly error: Mqtt5Error;
  /** The refusing CONNACK, when the failure is the server's answer. */
  readonly connack?: ConnackPacket;
}

/** Emitted when an established connection ended. Exactly one per `connectionSuccess`. */
export interface DisconnectionEvent {
  /** Why the connection ended (`AWS_ERROR_MQTT5_USER_REQUESTED_STOP` after `stop()`). */
  readonly error: Mqtt5Error;
  /** The server's DISCONNECT, when the server ended the connection with one. */
  readonly disconnect?: DisconnectPacket;
}

/** Emitted when the client reached the stopped state after `stop()` (or `close()`). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- no fields yet (aws-crt's shape); an interface so fields can be added
export interface StoppedEvent {}

/**
 * A deferred acknowledgement for one received QoS 1 PUBLISH (see
 * {@link PublishAcknowledgementControl.acquireHandle}).
 */
export interface PublishAcknowledgementHandle {
  /**
   * Sends the PUBACK now. Idempotent; does nothing if the connection that delivered the message has
   * ended (the server will redeliver the message on a resumed session).
   */
  invokeAcknowledgement(): void;
}

/** Given with each received QoS 1 PUBLISH: lets a listener take over its acknowledgement. */
export interface PublishAcknowledgementControl {
  /**
   * Called synchronously inside a `messageReceived` listener, defers the PUBACK until the returned
   * handle's `invokeAcknowledgement()` is called. The first call gets the handle; later calls, and
   * any call after the listeners returned, get `null` (the PUBACK is then sent automatically once
   * every listener returned).
   */
  acquireHandle(): PublishAcknowledgementHandle | null;
}

/** Emitted for every PUBLISH the client receives. */
export interface MessageReceivedEvent {
  /** The message: payload as a `Buffer`, topic resolved from any topic alias, every property. */
  readonly message: IncomingPublishPacket;
  /** Present for QoS 1 messages: manual acknowledgement. */
  readonly acknowledgementControl?: PublishAcknowledgementControl;
}

/** The event map of {@link Mqtt5Client}: event name → listener arguments. */
export interface Mqtt5ClientEvents {
  attemptingConnect: [event: AttemptingConnectEvent];
  connectionSuccess: [event: ConnectionSuccessEvent];
  connectionFailure: [event: ConnectionFailureEvent];
  disconnection: [event: DisconnectionEvent];
  stopped: [event: StoppedEvent];
  messageReceived: [event: MessageReceivedEvent];
}
