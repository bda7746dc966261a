/**
 * Errors raised by every layer of the SDK.
 *
 * `code` is a stable string (the reference client's error name) that callers switch on; the
 * message says what exactly went wrong. `describeError(code)` gives the one-sentence meaning of a code.
 *
 * @packageDocumentation
 */
import type { Packet } from './packets.js';

/** Every error code the SDK raises, with its one-sentence description. */
export const ERROR_DESCRIPTIONS = {
  AWS_ERROR_MQTT_INVALID_TOPIC: 'The topic or topic filter is not valid.',
  AWS_ERROR_MQTT_TIMEOUT: 'Time limit between request and response has been exceeded.',
  AWS_ERROR_MQTT_PROTOCOL_ERROR: 'The peer violated the MQTT protocol.',
  AWS_ERROR_MQTT_UNEXPECTED_HANGUP: 'The connection was closed unexpectedly.',
  AWS_ERROR_MQTT_CANCELLED_FOR_CLEAN_SESSION:
    'The server reported a session that the client did not ask to resume; the connection was dropped.',
  AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION: 'Invalid mqtt5 client configuration.',
  AWS_ERROR_MQTT5_CONNECT_OPTIONS_VALIDATION: 'Invalid CONNECT packet (connect properties).',
  AWS_ERROR_MQTT5_DISCONNECT_OPTIONS_VALIDATION: 'Invalid DISCONNECT packet.',
  AWS_ERROR_MQTT5_PUBLISH_OPTIONS_VALIDATION: 'Invalid PUBLISH packet.',
  AWS_ERROR_MQTT5_SUBSCRIBE_OPTIONS_VALIDATION: 'Invalid SUBSCRIBE packet.',
  AWS_ERROR_MQTT5_UNSUBSCRIBE_OPTIONS_VALIDATION: 'Invalid UNSUBSCRIBE packet.',
  AWS_ERROR_MQTT5_USER_PROPERTY_VALIDATION: 'Invalid user property.',
  AWS_ERROR_MQTT5_PACKET_VALIDATION: 'The packet is larger than the maximum packet size the server accepts.',
  AWS_ERROR_MQTT5_ENCODE_FAILURE: 'The packet could not be encoded.',
  AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR: 'An inbound packet violated the MQTT 5 protocol; the connection was closed.',
  AWS_ERROR_MQTT5_CONNACK_CONNECTION_REFUSED: 'The server refused the connection in its CONNACK.',
  AWS_ERROR_MQTT5_CONNACK_TIMEOUT: 'The server did not answer CONNECT with a CONNACK in time.',
  AWS_ERROR_MQTT5_PING_RESPONSE_TIMEOUT: 'The server did not answer a PINGREQ in time.',
  AWS_ERROR_MQTT5_USER_REQUESTED_STOP: 'The client was stopped by the user.',
  AWS_ERROR_MQTT5_DISCONNECT_RECEIVED: 'The server sent a DISCONNECT packet.',
  AWS_ERROR_MQTT5_CLIENT_TERMINATED: 'The client was closed; no further operations are possible.',
  AWS_ERROR_MQTT5_OPERATION_FAILED_DUE_TO_OFFLINE_QUEUE_POLICY:
    'The operation failed because of the client offline queue policy while disconnected.',
  AWS_ERROR_MQTT5_ENCODE_SIZE_UNSUPPORTED_PACKET_TYPE: 'The size of this packet type cannot be computed.',
  AWS_ERROR_MQTT5_OPERATION_PROCESSING_FAILURE: 'An operation could not be processed; the connection was reset.',
  AWS_ERROR_MQTT5_INVALID_INBOUND_TOPIC_ALIAS: 'The server sent an invalid topic alias.',
  AWS_ERROR_MQTT5_INVALID_OUTBOUND_TOPIC_ALIAS: 'The outbound topic alias is not valid for this connection.',
  AWS_ERROR_MQTT5_INVALID_UTF8_STRING: 'The string is not valid MQTT UTF-8.',
  AWS_IO_DNS_INVALID_NAME: 'Host name was invalid for dns resolution.',
  AWS_IO_SOCKET_CONNECTION_REFUSED: 'The connection was refused by the remote host.',
  AWS_IO_SOCKET_TIMEOUT: 'The socket operation timed out.',
  AWS_IO_SOCKET_CLOSED: 'The socket was closed or reset by the peer.',
  AWS_IO_SOCKET_NETWORK_DOWN: 'The network is unreachable.',
  AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE: 'The TLS handshake failed.',
  AWS_IO_FILE_VALIDATION_FAILURE: 'A certificate, key or CA file could not be read or parsed.',
  AWS_ERROR_HTTP_WEBSOCKET_UPGRADE_FAILURE: 'The websocket upgrade request was rejected.',
  AWS_ERROR_HTTP_PROXY_CONNECT_FAILED: 'The HTTP proxy refused or failed the CONNECT request.',
  AWS_ERROR_TRANSPORT_FAILURE: 'The transport failed to open a connection.',
  AWS_AUTH_CREDENTIALS_PROVIDER_FAILURE: 'Credentials could not be obtained for signing the connection.',
  ABORTED: 'The operation was aborted through its AbortSignal.',
} as const;

/** A stable error code: switch on `error.code`, not on the message. */
export type Mqtt5ErrorCode = keyof typeof ERROR_DESCRIPTIONS;

/** Every code, for tables and iteration. */
export const ERROR_CODES = Object.keys(ERROR_DESCRIPTIONS) as readonly Mqtt5ErrorCode[];

/** The one-sentence human meaning of an error code (the reference's `aws_error_debug_str`). */
export function describeError(code: Mqtt5ErrorCode | string): string {
  return (ERROR_DESCRIPTIONS as Record<string, string>)[code] ?? `Unknown error code ${String(code)}.`;
}

const kMqtt5Error = Symbol.for('mqtt5.error');

/** Options of {@link Mqtt5Error}. */
export interface Mqtt5ErrorOptions {
  /** The underlying error (a Node socket or TLS error, for example). */
  cause?: unknown;
  /** The MQTT reason code that caused the error, when there is one. */
  reasonCode?: number;
  /** The packet that caused the error (a refusing CONNACK, a server DISCONNECT, …). */
  packet?: Packet;
  /** HTTP status of a failed websocket upgrade or proxy CONNECT. */
  httpStatus?: number;
}

/**
 * The error type of the SDK. `instanceof` works across duplicate installs of the package; prefer
 * `Mqtt5Error.isInstance(e)` or checking `e.code`.
 */
export class Mqtt5Error extends Error {
  /** The stable code of this error. */
  readonly code: Mqtt5ErrorCode;
  /** The MQTT reason code behind the error, when there is one. */
  readonly reasonCode?: number;
  /** The packet behind the error, when there is one. */
  readonly packet?: Packet;
  /** HTTP status of a failed websocket upgrade or proxy CONNECT. */
  readonly httpStatus?: number;

  constructor(code: Mqtt5ErrorCode, message?: string, options: Mqtt5ErrorOptions = {}) {
    super(message ?? describeError(code), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'Mqtt5Error';
    this.code = code;
    if (options.reasonCode !== undefined) this.reasonCode = options.reasonCode;
    if (options.packet !== undefined) this.packet = options.packet;
    if (options.httpStatus !== undefined) this.httpStatus = options.httpStatus;
  }

  /** True for any Mqtt5Error, including one created by another copy of this package. */
  static isInstance(e: unknown): e is Mqtt5Error {
    return typeof e === 'object' && e !== null && (e as Record<symbol, unknown>)[kMqtt5Error] === true;
  }

  static override [Symbol.hasInstance](e: unknown): boolean {
    return Mqtt5Error.isInstance(e);
  }
}
Object.defineProperty(Mqtt5Error.prototype, kMqtt5Error, { value: true });
