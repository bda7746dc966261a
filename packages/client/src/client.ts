/**
 * `Mqtt5Client`: the MQTT 5 client engine. One object per broker connection that, once started,
 * keeps connecting, reconnecting with backoff, and carrying the user's operations until stopped.
 *
 * Architecture (one file per concern):
 * - lifecycle state machine (this file): STOPPED → CONNECTING → MQTT_CONNECT → CONNECTED →
 *   CLEAN_DISCONNECT → (channel shutdown) → PENDING_RECONNECT → CONNECTING … ; `close()` → TERMINATED;
 * - operation queue (`operations.ts`, `deque.ts`): validated operations wait in a FIFO deque, are
 *   written in batches (one buffer, one `transport.write`, at most one write pending), then wait for
 *   their ack in a packet-id table with deadline-ordered ack timeouts;
 * - receive path: the codec's streaming decoder, topic alias resolution, `messageReceived`, PUBACKs
 *   batched into the next write;
 * - one timer on the injectable clock for every deadline (CONNACK, keep-alive, ping, ack timeouts,
 *   flow-control waits, reconnect backoff).
 *
 * @packageDocumentation
 */
import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import { debuglog } from 'node:util';
import {
  type ConnackPacket,
  type ConnectPacket,
  Decoder,
  type DisconnectPacket,
  DisconnectReasonCode,
  type IncomingPublishPacket,
  Mqtt5Error,
  type Mqtt5ErrorCode,
  type Packet,
  PacketType,
  type PubackPacket,
  type PublishPacket,
  type SubackPacket,
  type SubscribePacket,
  type UnsubackPacket,
  type UnsubscribePacket,
  encode,
  encodeInto,
  encodedSize,
  toPayloadBuffer,
  validateDisconnect,
  validatePublish,
  validateSubscribe,
  validateUnsubscribe,
} from '@mqtt5/codec';
import { computeReconnectDelay } from './backoff.js';
import { type TimerHandle, systemClock } from './clock.js';
import {
  ClientExtendedValidationAndFlowControl,
  ClientOperationQueueBehavior,
  ClientSessionBehavior,
  InboundTopicAliasBehaviorType,
  type Mqtt5ClientConfig,
  OutboundTopicAliasBehaviorType,
  type ResolvedClientConfig,
  resolveClientConfig,
} from './config.js';
import { connectChannel, disconnectChannel } from './diagnostics.js';
import { Deque } from './deque.js';
import type {
  MessageReceivedEvent,
  Mqtt5ClientEvents,
  PublishAcknowledgementControl,
  PublishAcknowledgementHandle,
} from './events.js';
import {
  IOT_CORE_LIMITS,
  validatePublishForIotCore,
  validateSubscribeForIotCore,
  validateUnsubscribeForIotCore,
} from './iot-core.js';
import { type MessageStream, MessageStreamImpl, type MessagesOptions } from './message-stream.js';
import { type NegotiatedSettings, computeNegotiatedSettings } from './negotiated-settings.js';
import {
  AckDeadlines,
  LaneChunk,
  OP_DONE,
  OP_PUBLISH,
  OP_QUEUED,
  OP_SUBSCRIBE,
  OP_UNACKED,
  OP_UNSUBSCRIBE,
  OP_WRITING,
  Operation,
  type WirePacket,
  WirePublish,
} from './operations.js';
import { TokenBucket } from './rate-limiter.js';
import { TimerQueue } from './timer-queue.js';
import {
  InboundTopicAliasResolver,
  type OutboundTopicAliasResolver,
  createOutboundTopicAliasResolver,
} from './topic-alias.js';
import { ATTEMPT_ON_ABORT, type ConnectOptions, type Transport } from './transport.js';
import { isTlsError, toTransportError } from './transport-errors.js';

const debug = debuglog('mqtt5');

/** Options of `publish`, `subscribe` and `unsubscribe`. */
export interface OperationOptions {
  /**
   * Aborting removes the operation if it was not written yet; an operation already written stays
   * (it is the broker's now) but its promise rejects. Either way the promise rejects with an
   * `Mqtt5Error` whose `code` is `'ABORTED'` (and `cause` the signal's reason).
   */
  signal?: AbortSignal;
  /** Ack timeout of this operation in seconds (0 or absent: the client's `ackTimeoutSeconds`). */
  ackTimeoutSeconds?: number;
}

/**
 * Operational statistics (reference §4). Only PUBLISH, SUBSCRIBE and UNSUBSCRIBE count; sizes are the
 * encoded packet sizes as submitted (a QoS 1 PUBLISH without its packet id, no topic alias).
 */
export interface OperationalStatistics {
  /** Operations accepted and not completed yet (queued, being written, waiting for an ack, held over a disconnect). */
  incompleteOperationCount: number;
  /** Total size of the incomplete operations, in bytes. */
  incompleteOperationSize: number;
  /** Operations written and waiting for their PUBACK / SUBACK / UNSUBACK (a subset of the incomplete ones). */
  unackedOperationCount: number;
  /** Total size of the unacked operations, in bytes. */
  unackedOperationSize: number;
}

// ---------------------------------------------------------------------------------------------
// Constants

const STOPPED = 0;
const CONNECTING = 1;
const MQTT_CONNECT = 2;
const CONNECTED = 3;
const CLEAN_DISCONNECT = 4;
const PENDING_RECONNECT = 5;
const TERMINATED = 6;
const STATE_NAMES = [
  'STOPPED',
  'CONNECTING',
  'MQTT_CONNECT',
  'CONNECTED',
  'CLEAN_DISCONNECT',
  'PENDING_RECONNECT',
  'TERMINATED',
];

// Bits of the client's boolean state.
const RUNNING = 1;
const CLOSING_CLIENT = 2;
const HAS_CONNECTED = 4;
const LANE_ELIGIBLE = 8;
const SERVICE_SCHEDULED = 16;
const LISTENER_ERROR_WARNED = 32;

/** Cap of one batched write (a single operation larger than this is written alone). */
const BATCH_LIMIT = 256 * 1024;
/** Size of a QoS 0 fast-lane chunk (one write each; a larger packet gets a chunk of its own size). */
const LANE_CHUNK_SIZE = 128 * 1024;
/** Longest wait for the DISCONNECT of a clean disconnect to be written (also bounded by pingTimeoutMs). */
const CLEAN_DISCONNECT_TIMEOUT_MS = 5_000;
/** After a DISCONNECT was written and the transport ended gracefully: destroy it if it is still open then. */
const LINGER_MS = 2_000;
/** Bytes a topic alias can add to a PUBLISH (property 3 bytes + up to 2 more length bytes). */
const ALIAS_SLACK = 5;
const MAX_PACKET_ID = 65_535;
const DEFAULT_RECEIVE_MAXIMUM = 65_535;

const EVENT_MESSAGE = 'messageReceived';

// ---------------------------------------------------------------------------------------------
// Connection: the per-attempt state (transport, decoder, write state)

const WRITE_PENDING = 1;
const WAITING_DRAIN = 2;
const CLOSING = 4;
const CLOSED = 8;
const IGNORE_INBOUND = 16;
const SUCCESSFUL = 32;
const DISCONNECT_WRITTEN = 64;
const PING_PENDING = 128;

function setFlag(conn: Connection, bit: number, value: boolean): void {
  conn.flags = value ? conn.flags | bit : conn.flags & ~bit;
}

/**
 * The `ConnectOptions` of one attempt, and what aborts it. Its `signal` (an AbortController's) is
 * made only when a connector reads it. The SDK's TCP connector reads none: it registers one abort
 * callback through {@link ATTEMPT_ON_ABORT} instead, so an attempt costs it no AbortController and
 * no EventTarget listener (their creation, `addEventListener` and `removeEventListener` took about
 * as long as everything else the client does to connect).
 * @internal
 */
class ConnectAttempt implements ConnectOptions {
  /** An own enumerable accessor (see the constructor), so that `{ ...options }` copies it. */
  declare readonly signal: AbortSignal;
  #controller: AbortController | undefined = undefined;
  #aborted = false;
  #reason: unknown = undefined;
  #onAbort: ((reason: unknown) => void) | undefined = undefined;

  constructor() {
    Object.defineProperty(this, 'signal', ATTEMPT_SIGNAL);
  }

  /** The attempt's AbortSignal, made on first use (aborted at once if the attempt is). */
  lazySignal(): AbortSignal {
    let controller = this.#controller;
    if (controller === undefined) {
      controller = this.#controller = new AbortController();
      if (this.#aborted) controller.abort(this.#reason);
    }
    return controller.signal;
  }

  /**
   * Sets (or, with `undefined`, clears) the one abort callback of the attempt; returns false, and
   * sets nothing, when the attempt is aborted already (its reason is then `signal.reason`).
   */
  [ATTEMPT_ON_ABORT](listener: ((reason: unknown) => void) | undefined): boolean {
    if (this.#aborted) return false;
    this.#onAbort = listener;
    return true;
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    const listener = this.#onAbort;
    this.#onAbort = undefined;
    this.#controller?.abort(reason);
    listener?.(reason);
  }
}

const ATTEMPT_SIGNAL: PropertyDescriptor = {
  get(this: ConnectAttempt): AbortSignal {
    return this.lazySignal();
  },
  enumerable: true,
  configurable: false,
};

/** The state of a connection that exists only while it is being opened or closed. @internal */
class TransientState {
  abort: ConnectAttempt | undefined = undefined;
  connect: (ConnectPacket & { type: PacketType.Connect }) | undefined = undefined;
  connack: ConnackPacket | undefined = undefined;
  error: Mqtt5Error | undefined = undefined;
  serverDisconnect: DisconnectPacket | undefined = undefined;
  disconnectPacket: (DisconnectPacket & { type: PacketType.Disconnect }) | undefined = undefined;
  lingerTimer: TimerHandle | undefined = undefined;

  isEmpty(): boolean {
    return (
      this.abort === undefined &&
      this.connect === undefined &&
      this.connack === undefined &&
      this.error === undefined &&
      this.serverDisconnect === undefined &&
      this.disconnectPacket === undefined &&
      this.lingerTimer === undefined
    );
  }
}

/** The fields of {@link TransientState}. @internal */
type TransientField = Exclude<keyof TransientState, 'isEmpty'>;

/**
 * One connection attempt and, once connected, the connection. An idle client keeps one of these,
 * so every field counts: the booleans share one bit field, and what only matters while connecting
 * or closing lives in a {@link TransientState} that an established, idle connection does not keep
 * (both behind accessors). @internal
 */
class Connection {
  transport: Transport | undefined = undefined;
  decoder: Decoder | undefined = undefined;
  flags = 0;
  connectedAt = 0;
  /** QoS 0 PUBLISHes in the pending write: they complete with it. */
  writeOps: Operation[] | undefined = undefined;
  /** The fast-lane chunk in the pending write. */
  laneWrite: LaneChunk | undefined = undefined;
  /** Packet ids of PUBACKs to write. */
  pubacks: number[] | undefined = undefined;
  /** Received QoS 1 PUBLISHes whose PUBACK was not written yet. */
  inboundUnacked = 0;
  #transient: TransientState | undefined = new TransientState();

  constructor(
    readonly id: number,
    readonly client: Mqtt5Client,
  ) {
    (this.#transient as TransientState).abort = new ConnectAttempt();
  }

  #state(): TransientState {
    return (this.#transient ??= new TransientState());
  }

  #cleared(): void {
    if (this.#transient?.isEmpty() === true) this.#transient = undefined;
  }

  /** Sets one transient field; the state object is made on the first value and dropped when empty. */
  #set<K extends TransientField>(key: K, value: TransientState[K]): void {
    if (value === undefined && this.#transient === undefined) return;
    this.#state()[key] = value;
    if (value === undefined) this.#cleared();
  }

  /** Aborts the connector while connecting; dropped once the transport is there (it is heavy). */
  get abort(): ConnectAttempt | undefined {
    return this.#transient?.abort;
  }
  set abort(value: ConnectAttempt | undefined) {
    this.#set('abort', value);
  }
  /** The CONNECT as sent (until the CONNACK). */
  get connect(): (ConnectPacket & { type: PacketType.Connect }) | undefined {
    return this.#transient?.connect;
  }
  set connect(value: (ConnectPacket & { type: PacketType.Connect }) | undefined) {
    this.#set('connect', value);
  }
  get connack(): ConnackPacket | undefined {
    return this.#transient?.connack;
  }
  set connack(value: ConnackPacket | undefined) {
    this.#set('connack', value);
  }
  /** Why the connection ends (the first cause). */
  get error(): Mqtt5Error | undefined {
    return this.#transient?.error;
  }
  set error(value: Mqtt5Error | undefined) {
    this.#set('error', value);
  }
  get serverDisconnect(): DisconnectPacket | undefined {
    return this.#transient?.serverDisconnect;
  }
  set serverDisconnect(value: DisconnectPacket | undefined) {
    this.#set('serverDisconnect', value);
  }
  /** The DISCONNECT to write in CLEAN_DISCONNECT. */
  get disconnectPacket(): (DisconnectPacket & { type: PacketType.Disconnect }) | undefined {
    return this.#transient?.disconnectPacket;
  }
  set disconnectPacket(value: (DisconnectPacket & { type: PacketType.Disconnect }) | undefined) {
    this.#set('disconnectPacket', value);
  }
  get lingerTimer(): TimerHandle | undefined {
    return this.#transient?.lingerTimer;
  }
  set lingerTimer(value: TimerHandle | undefined) {
    this.#set('lingerTimer', value);
  }

  get writePending(): boolean {
    return (this.flags & WRITE_PENDING) !== 0;
  }
  set writePending(value: boolean) {
    setFlag(this, WRITE_PENDING, value);
  }
  get waitingDrain(): boolean {
    return (this.flags & WAITING_DRAIN) !== 0;
  }
  set waitingDrain(value: boolean) {
    setFlag(this, WAITING_DRAIN, value);
  }
  /** Shutdown decided (first cause recorded); in CLEAN_DISCONNECT the DISCONNECT may still be written. */
  get closing(): boolean {
    return (this.flags & CLOSING) !== 0;
  }
  set closing(value: boolean) {
    setFlag(this, CLOSING, value);
  }
  /** Detached from the client: every later event of the transport is ignored. */
  get closed(): boolean {
    return (this.flags & CLOSED) !== 0;
  }
  set closed(value: boolean) {
    setFlag(this, CLOSED, value);
  }
  /** Inbound bytes are ignored from now on (after a protocol error). */
  get ignoreInbound(): boolean {
    return (this.flags & IGNORE_INBOUND) !== 0;
  }
  set ignoreInbound(value: boolean) {
    setFlag(this, IGNORE_INBOUND, value);
  }
  /** A successful CONNACK was received. */
  get successful(): boolean {
    return (this.flags & SUCCESSFUL) !== 0;
  }
  set successful(value: boolean) {
    setFlag(this, SUCCESSFUL, value);
  }
  get disconnectWritten(): boolean {
    return (this.flags & DISCONNECT_WRITTEN) !== 0;
  }
  set disconnectWritten(value: boolean) {
    setFlag(this, DISCONNECT_WRITTEN, value);
  }
  get pingPending(): boolean {
    return (this.flags & PING_PENDING) !== 0;
  }
  set pingPending(value: boolean) {
    setFlag(this, PING_PENDING, value);
  }

  /** Queues the PUBACK of a received QoS 1 PUBLISH (dropped if this connection is ending). */
  acknowledge(packetId: number): void {
    if (this.closing || this.closed) return;
    (this.pubacks ??= []).push(packetId);
    scheduleServiceOf(this.client);
  }
}

// ---------------------------------------------------------------------------------------------
// Received messages and manual acknowledgement

const ACK_OPEN = 0;
const ACK_ACQUIRED = 1;
const ACK_CLOSED = 2;

/** The `messageReceived` event; for QoS 1 it is also its own acknowledgement control. @internal */
class ReceivedMessage implements MessageReceivedEvent, PublishAcknowledgementControl {
  readonly message: IncomingPublishPacket;
  readonly acknowledgementControl: PublishAcknowledgementControl | undefined;
  #conn: Connection;
  #ack = ACK_OPEN;

  constructor(conn: Connection, message: IncomingPublishPacket) {
    this.#conn = conn;
    this.message = message;
    this.acknowledgementControl = message.qos === 1 ? this : undefined;
  }

  acquireHandle(): PublishAcknowledgementHandle | null {
    if (this.#ack !== ACK_OPEN || this.message.qos !== 1) return null;
    this.#ack = ACK_ACQUIRED;
    return new AcknowledgementHandle(this.#conn, this.message.packetId as number);
  }

  /** After the listeners returned: sends the PUBACK unless a listener took it over. */
  settle(): void {
    if (this.#ack !== ACK_OPEN) return;
    this.#ack = ACK_CLOSED;
    if (this.message.qos === 1) this.#conn.acknowledge(this.message.packetId as number);
  }
}

class AcknowledgementHandle implements PublishAcknowledgementHandle {
  #conn: Connection | undefined;
  readonly #packetId: number;
  constructor(conn: Connection, packetId: number) {
    this.#conn = conn;
    this.#packetId = packetId;
  }
  invokeAcknowledgement(): void {
    const conn = this.#conn;
    if (conn === undefined) return;
    this.#conn = undefined;
    conn.acknowledge(this.#packetId);
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

function stateError(code: Mqtt5ErrorCode, message: string): Mqtt5Error {
  return new Mqtt5Error(code, message);
}

function terminatedError(what: string): Mqtt5Error {
  return new Mqtt5Error('AWS_ERROR_MQTT5_CLIENT_TERMINATED', `${what}: the client was closed`);
}

/** The message of anything thrown, never throwing itself (`String(Object.create(null))` does). */
function describeThrown(error: unknown): string {
  try {
    return error instanceof Error ? String(error.message) : String(error);
  } catch {
    return 'a value that cannot be converted to a string';
  }
}

function unreadableInput(operation: string, code: Mqtt5ErrorCode, error: unknown): Mqtt5Error {
  if (Mqtt5Error.isInstance(error)) return error;
  return new Mqtt5Error(code, `${operation}: reading the packet or options threw: ${describeThrown(error)}`, {
    cause: error,
  });
}

/** The operations watching one AbortSignal, and its one listener. */
interface AbortWatch {
  readonly ops: Set<Operation>;
  readonly listener: () => void;
}

function terminatedOperationError(): Mqtt5Error {
  return terminatedError('operation');
}

function stoppedOperationError(): Mqtt5Error {
  return stateError('AWS_ERROR_MQTT5_USER_REQUESTED_STOP', 'the client was stopped before the operation completed');
}

function abortError(reason: unknown): Mqtt5Error {
  return new Mqtt5Error('ABORTED', 'the operation was aborted', { cause: reason });
}

/** An error raised by a transport (write callback, 'error' event) as an Mqtt5Error. */
function transportError(error: unknown): Mqtt5Error {
  if (Mqtt5Error.isInstance(error)) return error;
  // TLS 1.3: the server checks the client certificate after the client's side of the handshake is
  // done, so its rejection (an alert) arrives on the established connection; map it as the
  // transports map handshake failures, AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE with the Node error as cause
  if (isTlsError(error)) return toTransportError(error, 'tls', 'the broker');
  const code = (error as { code?: unknown } | null)?.code;
  const message = describeThrown(error);
  switch (code) {
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
    case 'ERR_STREAM_DESTROYED':
    case 'ERR_STREAM_WRITE_AFTER_END':
      return new Mqtt5Error('AWS_IO_SOCKET_CLOSED', `the connection was closed: ${message}`, { cause: error });
    case 'ETIMEDOUT':
      return new Mqtt5Error('AWS_IO_SOCKET_TIMEOUT', `the connection timed out: ${message}`, { cause: error });
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
    case 'ENETDOWN':
      return new Mqtt5Error('AWS_IO_SOCKET_NETWORK_DOWN', `the network is unreachable: ${message}`, { cause: error });
    default:
      return new Mqtt5Error('AWS_ERROR_MQTT_UNEXPECTED_HANGUP', `the transport failed: ${message}`, { cause: error });
  }
}

/** A connector's rejection as an Mqtt5Error. */
function connectorError(error: unknown): Mqtt5Error {
  if (Mqtt5Error.isInstance(error)) return error;
  return new Mqtt5Error('AWS_ERROR_TRANSPORT_FAILURE', `the connector failed: ${describeThrown(error)}`, {
    cause: error,
  });
}

function isAbortSignal(value: unknown): value is AbortSignal {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AbortSignal).addEventListener === 'function' &&
    typeof (value as AbortSignal).aborted === 'boolean'
  );
}

function vbiLength(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : 4;
}

/** Size of a QoS 1 PUBLISH of `wireSize` bytes without its 2-byte packet id (statistics rule). */
function sizeWithoutPacketId(wireSize: number): number {
  let remaining = wireSize - 2;
  for (let length = 1; length <= 4; length++) {
    if (vbiLength(wireSize - 1 - length) === length) {
      remaining = wireSize - 1 - length;
      break;
    }
  }
  const statRemaining = remaining - 2;
  return 1 + vbiLength(statRemaining) + statRemaining;
}

function describeReason(reasonCode: number, names: Record<number, string>, reasonString: string | undefined): string {
  const name = names[reasonCode];
  return `${reasonCode}${name === undefined ? '' : ` (${name})`}${reasonString === undefined ? '' : `: ${reasonString}`}`;
}

const DISCONNECT_REASON_NAMES = DisconnectReasonCode as unknown as Record<number, string>;

type Listener = (this: Mqtt5Client, event: unknown) => unknown;

/** Set by the client class's static block: private entry points for the helpers above, without a closure per client. */
let scheduleServiceOf: (client: Mqtt5Client) => void;
let flushEventsOf: (client: Mqtt5Client) => void;
/** The timers of the clients on the system clock: one Node timer for all (see `timer-queue.ts`). */
let systemTimers: TimerQueue<Mqtt5Client>;
let onDataOf: (conn: Connection, chunk: Buffer) => void;
let onDrainOf: (conn: Connection) => void;
let onTransportErrorOf: (conn: Connection, error: Error) => void;
let onTransportCloseOf: (conn: Connection) => void;
let onPacketOf: (conn: Connection, packet: Packet) => void;
let onWriteDoneOf: (conn: Connection, error: Error | null | undefined) => void;

/**
 * The decoder of a connection. The codec calls `onPacket` with the decoder as `this`, so every
 * connection's decoder shares one function instead of holding a closure of its own.
 */
class ConnectionDecoder extends Decoder {
  constructor(
    readonly conn: Connection,
    maximumPacketSize: number | undefined,
  ) {
    super({ maximumPacketSize, onPacket: onConnectionPacket });
  }
}

function onConnectionPacket(this: Decoder, packet: Packet): void {
  const conn = (this as ConnectionDecoder).conn;
  onPacketOf(conn, packet);
}

function onConnectionWriteDone(this: Connection, error?: Error | null): void {
  onWriteDoneOf(this, error);
}

/** The connection of each transport that is an EventEmitter (the listeners below are shared by all). */
const connectionOf = new WeakMap<object, Connection>();

function onTransportData(this: object, chunk: Buffer): void {
  const conn = connectionOf.get(this);
  if (conn !== undefined) onDataOf(conn, chunk);
}

function onTransportDrain(this: object): void {
  const conn = connectionOf.get(this);
  if (conn !== undefined) onDrainOf(conn);
}

function onTransportError(this: object, error: Error): void {
  const conn = connectionOf.get(this);
  if (conn !== undefined) onTransportErrorOf(conn, error);
}

function onTransportClose(this: object): void {
  const conn = connectionOf.get(this);
  if (conn !== undefined) onTransportCloseOf(conn);
}

/** An encoded CONNECT and the packet it encodes. */
interface PreparedConnect {
  readonly packet: ConnectPacket & { type: PacketType.Connect };
  readonly bytes: Buffer;
}

/** The AWS IoT Core limits of a client (`AwsIotCoreDefaults`). */
interface IotLimits {
  readonly publishRate: TokenBucket;
  readonly throughput: TokenBucket;
}

/** The client state most clients never need, or need only for a while (see `Mqtt5Client#rare`). @internal */
class RareState {
  reconnectCount = 0;
  previousDelay = 0;
  reconnectAt = 0;
  cleanDisconnectDeadline = 0;
  flowWaitAt = 0;
  tombstones = 0;
  held: Operation[] | undefined = undefined;
  iotLimits: IotLimits | undefined = undefined;
  inboundAliases: InboundTopicAliasResolver | undefined = undefined;
  streams: Set<MessageStreamImpl> | undefined = undefined;
  nextConnect: PreparedConnect | undefined = undefined;

  isEmpty(): boolean {
    return (
      this.reconnectCount === 0 &&
      this.previousDelay === 0 &&
      this.reconnectAt === 0 &&
      this.cleanDisconnectDeadline === 0 &&
      this.flowWaitAt === 0 &&
      this.tombstones === 0 &&
      this.held === undefined &&
      this.iotLimits === undefined &&
      this.inboundAliases === undefined &&
      this.streams === undefined &&
      this.nextConnect === undefined
    );
  }
}

/** The operations of one `#writeBatch` (not reentrant: no user code runs inside it), shared by all clients. */
const scratchBatch: Operation[] = [];

let nextClientSerial = 1;
/** Connection numbers of the debug log (process-wide). */
let nextConnectionId = 1;
/** Client numbers of the debug log, given on the first message (no field per client for it). */
const debugIds = new WeakMap<Mqtt5Client, number>();

function debugIdOf(client: Mqtt5Client): number {
  let id = debugIds.get(client);
  if (id === undefined) {
    id = nextClientSerial++;
    debugIds.set(client, id);
  }
  return id;
}

// ---------------------------------------------------------------------------------------------

/**
 * An MQTT 5 client. Give it a `connector` (or use `@mqtt5/sdk`, which builds one from host, port
 * and TLS options), listen to its events, `start()` it, and use `publish`, `subscribe`,
 * `unsubscribe`; it reconnects by itself until `stop()` and resumes its operations.
 *
 * Events (emitted asynchronously, in order; a throwing listener affects neither the client nor the
 * other listeners): `attemptingConnect`, `connectionSuccess`, `connectionFailure`, `disconnection`,
 * `stopped`, `messageReceived`. Every `attemptingConnect` is followed by exactly one
 * `connectionSuccess` or `connectionFailure`; every `connectionSuccess` by exactly one
 * `disconnection`; `stopped` comes only after `stop()` (or `close()`).
 *
 * Every operation's promise settles: with its result, a validation error, the offline queue policy,
 * an ack timeout, `stop()`, `close()` or its abort signal.
 *
 * @example
 * ```ts
 * const client = new Mqtt5Client({ connector });
 * client.on('connectionSuccess', ({ settings }) => console.log('connected as', settings.clientId));
 * client.on('messageReceived', ({ message }) => console.log(message.topicName, message.payload.toString()));
 * client.start();
 * await client.subscribe({ subscriptions: [{ topicFilter: 'sensors/#', qos: QoS.AtLeastOnce }] });
 * const puback = await client.publish({ topicName: 'sensors/1', payload: 'hello', qos: QoS.AtLeastOnce });
 * ```
 */
export class Mqtt5Client extends EventEmitter<Mqtt5ClientEvents> {
  static {
    scheduleServiceOf = (client) => client.#scheduleService();
    flushEventsOf = (client) => client.#flushEvents();
    onDataOf = (conn, chunk) => conn.client.#onData(conn, chunk);
    onDrainOf = (conn) => conn.client.#onDrain(conn);
    onTransportErrorOf = (conn, error) => conn.client.#onTransportError(conn, error);
    onTransportCloseOf = (conn) => conn.client.#onTransportClose(conn);
    onPacketOf = (conn, packet) => conn.client.#onPacket(conn, packet);
    onWriteDoneOf = (conn, error) => conn.client.#onWriteDone(conn, error);
    systemTimers = new TimerQueue<Mqtt5Client>({
      deadlineOf: (client) => client.#timerAt,
      indexOf: (client) => client.#timerIndex,
      setIndex: (client, index) => {
        client.#timerIndex = index;
      },
      fire: (client) => client.#onTimer(),
    });
  }

  readonly #config: ResolvedClientConfig;
  #state = STOPPED;
  /**
   * The booleans, one bit each (behind the private accessors below): an idle client is mostly its
   * fields, so they are kept few.
   */
  #bits = 0;
  #conn: Connection | undefined = undefined;
  /**
   * What most clients never need, or need only for a while (reconnect backoff, operations held
   * over a disconnect, aborted operations, IoT Core limits, inbound aliases, `messages()` streams,
   * the clean-disconnect and flow-control deadlines): allocated on first use, behind the private
   * accessors below, so that an idle client does not carry a field for each.
   */
  #rare: RareState | undefined = undefined;

  // session
  #clientId: string;
  #settings: NegotiatedSettings | undefined = undefined;

  // the one timer, and the deadlines it serves (0 = none): on the system clock an entry of
  // `systemTimers` (its position in that heap), on another clock a timer of that clock
  #timer: TimerHandle | undefined = undefined;
  #timerIndex = -1;
  /** The armed timer's deadline; meaningless while no timer is armed (see #timerArmed). */
  #timerAt = 0;
  #connackDeadline = 0;
  #nextPingAt = 0;
  #pingDeadline = 0;

  // operations
  /**
   * The unsettled operations of each caller AbortSignal: one 'abort' listener per signal, however
   * many operations share it (a listener each would make settling them quadratic).
   */
  #aborts: Map<AbortSignal, AbortWatch> | undefined = undefined;
  /** Operations waiting to be written (created with the first one: an idle client holds none). */
  #queue: Deque<Operation> | undefined = undefined;
  /** Packet id → operation owning it (unacked, held QoS 1 resends, timed-out ones awaiting a late ack). */
  #idTable: Map<number, Operation> | undefined = undefined;
  #nextPacketId = 1;
  /** Created with the first operation that waits for an ack. */
  #ackDeadlines: AckDeadlines | undefined = undefined;
  #qos1InFlight = 0;
  /** QoS 0 fast lane: chunks of encoded QoS 0 PUBLISHes waiting to be written (oldest first). */
  #lane: LaneChunk[] | undefined = undefined;
  /** The chunk new fast-lane publishes are encoded into. */
  #laneTail: LaneChunk | undefined = undefined;

  // statistics
  #incompleteCount = 0;
  #incompleteSize = 0;
  #unackedCount = 0;
  #unackedSize = 0;

  // aliasing
  readonly #outboundAliases: OutboundTopicAliasResolver;

  // events
  /** Events waiting to be emitted (name, payload, …); set while a flush is scheduled. */
  #events: unknown[] | undefined = undefined;

  #rareState(): RareState {
    return (this.#rare ??= new RareState());
  }
  // reconnect backoff
  get #reconnectCount(): number {
    return this.#rare?.reconnectCount ?? 0;
  }
  set #reconnectCount(value: number) {
    if (value !== 0 || this.#rare !== undefined) this.#rareState().reconnectCount = value;
  }
  get #previousDelay(): number {
    return this.#rare?.previousDelay ?? 0;
  }
  set #previousDelay(value: number) {
    if (value !== 0 || this.#rare !== undefined) this.#rareState().previousDelay = value;
  }
  get #reconnectAt(): number {
    return this.#rare?.reconnectAt ?? 0;
  }
  set #reconnectAt(value: number) {
    if (value !== 0 || this.#rare !== undefined) this.#rareState().reconnectAt = value;
  }
  get #cleanDisconnectDeadline(): number {
    return this.#rare?.cleanDisconnectDeadline ?? 0;
  }
  set #cleanDisconnectDeadline(value: number) {
    if (value !== 0 || this.#rare !== undefined) this.#rareState().cleanDisconnectDeadline = value;
  }
  get #flowWaitAt(): number {
    return this.#rare?.flowWaitAt ?? 0;
  }
  set #flowWaitAt(value: number) {
    if (value !== 0 || this.#rare !== undefined) this.#rareState().flowWaitAt = value;
  }
  /** Tombstones (aborted operations) in the queue. */
  get #tombstones(): number {
    return this.#rare?.tombstones ?? 0;
  }
  set #tombstones(value: number) {
    if (value !== 0 || this.#rare !== undefined) this.#rareState().tombstones = value;
  }
  /** Unacked operations of a lost connection, waiting for the next one (write order). */
  get #held(): Operation[] | undefined {
    return this.#rare?.held;
  }
  set #held(value: Operation[] | undefined) {
    if (value !== undefined || this.#rare !== undefined) this.#rareState().held = value;
  }
  /** The AWS IoT Core limits (publishes per second, bytes per second), with `AwsIotCoreDefaults` only. */
  get #iotLimits(): IotLimits | undefined {
    return this.#rare?.iotLimits;
  }
  set #iotLimits(value: IotLimits | undefined) {
    if (value !== undefined || this.#rare !== undefined) this.#rareState().iotLimits = value;
  }
  get #inboundAliases(): InboundTopicAliasResolver | undefined {
    return this.#rare?.inboundAliases;
  }
  set #inboundAliases(value: InboundTopicAliasResolver | undefined) {
    if (value !== undefined || this.#rare !== undefined) this.#rareState().inboundAliases = value;
  }
  get #streams(): Set<MessageStreamImpl> | undefined {
    return this.#rare?.streams;
  }
  set #streams(value: Set<MessageStreamImpl> | undefined) {
    if (value !== undefined || this.#rare !== undefined) this.#rareState().streams = value;
  }
  /** The CONNECT of the next attempt, encoded ahead (see #prepareConnect); dropped once written. */
  get #nextConnect(): PreparedConnect | undefined {
    return this.#rare?.nextConnect;
  }
  set #nextConnect(value: PreparedConnect | undefined) {
    if (value !== undefined || this.#rare !== undefined) this.#rareState().nextConnect = value;
    if (value === undefined) this.#dropRareIfEmpty();
  }

  /** Frees the rare state once nothing is in it (after the first connection, typically). */
  #dropRareIfEmpty(): void {
    if (this.#rare?.isEmpty() === true) this.#rare = undefined;
  }

  #bit(bit: number): boolean {
    return (this.#bits & bit) !== 0;
  }
  #setBit(bit: number, value: boolean): void {
    this.#bits = value ? this.#bits | bit : this.#bits & ~bit;
  }
  /** Desired state: connected (true) or stopped (false). */
  get #running(): boolean {
    return this.#bit(RUNNING);
  }
  set #running(value: boolean) {
    this.#setBit(RUNNING, value);
  }
  /** `close()` was called: operations fail with CLIENT_TERMINATED. */
  get #closing(): boolean {
    return this.#bit(CLOSING_CLIENT);
  }
  set #closing(value: boolean) {
    this.#setBit(CLOSING_CLIENT, value);
  }
  get #hasConnectedSuccessfully(): boolean {
    return this.#bit(HAS_CONNECTED);
  }
  set #hasConnectedSuccessfully(value: boolean) {
    this.#setBit(HAS_CONNECTED, value);
  }
  get #listenerErrorWarned(): boolean {
    return this.#bit(LISTENER_ERROR_WARNED);
  }
  set #listenerErrorWarned(value: boolean) {
    this.#setBit(LISTENER_ERROR_WARNED, value);
  }

  /**
   * Validates `config` synchronously and keeps a deep-frozen copy of it.
   *
   * @throws Mqtt5Error `AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION` (client options, e.g. no
   *   `connector`) or `AWS_ERROR_MQTT5_CONNECT_OPTIONS_VALIDATION` (`connectProperties`).
   */
  constructor(config: Mqtt5ClientConfig) {
    super();
    const resolved = resolveClientConfig(config);
    this.#config = resolved;
    this.#clientId = resolved.connectProperties.clientId ?? '';
    this.#outboundAliases = createOutboundTopicAliasResolver(
      this.#config.topicAliasing.outboundBehavior,
      resolved.topicAliasing.outboundCacheMaxSize,
    );
    this.#setBit(
      LANE_ELIGIBLE,
      this.#config.topicAliasing.outboundBehavior === OutboundTopicAliasBehaviorType.Disabled &&
        resolved.extendedValidationAndFlowControlOptions !== ClientExtendedValidationAndFlowControl.AwsIotCoreDefaults,
    );
    if (
      resolved.extendedValidationAndFlowControlOptions === ClientExtendedValidationAndFlowControl.AwsIotCoreDefaults
    ) {
      this.#iotLimits = {
        publishRate: new TokenBucket({
          ratePerSecond: IOT_CORE_LIMITS.publishesPerSecond,
          capacity: IOT_CORE_LIMITS.publishesPerSecond,
          clock: this.#config.clock,
        }),
        throughput: new TokenBucket({
          ratePerSecond: IOT_CORE_LIMITS.bytesPerSecond,
          capacity: IOT_CORE_LIMITS.bytesPerSecond,
          clock: this.#config.clock,
        }),
      };
    }
    this.#prepareConnect();
  }

  /** The deep-frozen configuration of this client, every default applied. */
  get config(): ResolvedClientConfig {
    return this.#config;
  }

  // -------------------------------------------------------------------------------------------
  // Lifecycle API

  /**
   * Starts connecting (the first attempt is immediate) and keeps the client connected, reconnecting
   * with backoff after every failure or disconnection, until `stop()`.
   *
   * @throws Mqtt5Error `AWS_ERROR_MQTT5_CLIENT_TERMINATED` after `close()`.
   */
  start(): void {
    if (this.#state === TERMINATED) throw terminatedError('start()');
    if (this.#running) return;
    this.#running = true;
    if (debug.enabled) debug('client %d: start()', debugIdOf(this));
    if (this.#state === STOPPED) this.#enterConnecting();
    // Otherwise a shutdown is finishing: it continues with a reconnect since the client runs again.
  }

  /**
   * Stops the client: ends the connection (after sending `disconnect`, if given, as a clean
   * DISCONNECT), stops reconnecting, fails the remaining operations with
   * `AWS_ERROR_MQTT5_USER_REQUESTED_STOP` and emits `stopped`. The client can be started again.
   *
   * @throws Mqtt5Error `AWS_ERROR_MQTT5_DISCONNECT_OPTIONS_VALIDATION` synchronously for an invalid
   *   DISCONNECT (the client keeps running then).
   */
  stop(disconnect?: DisconnectPacket): void {
    if (this.#state === TERMINATED) return;
    let packet: (DisconnectPacket & { type: PacketType.Disconnect }) | undefined;
    if (disconnect !== undefined) packet = this.#checkDisconnect(disconnect);
    if (debug.enabled)
      debug('client %d: stop(%s)', debugIdOf(this), packet === undefined ? '' : `reason ${packet.reasonCode}`);
    this.#running = false;
    const conn = this.#conn;
    switch (this.#state) {
      case PENDING_RECONNECT:
        this.#enterStopped();
        return;
      case CONNECTING:
      case MQTT_CONNECT:
        if (conn !== undefined)
          this.#shutdown(conn, stateError('AWS_ERROR_MQTT5_USER_REQUESTED_STOP', 'stop() was called while connecting'));
        return;
      case CONNECTED:
        if (conn === undefined) return;
        if (packet !== undefined) {
          conn.closing = true;
          conn.error = stateError('AWS_ERROR_MQTT5_USER_REQUESTED_STOP', 'stop() was called');
          conn.disconnectPacket = packet;
          this.#enterCleanDisconnect();
        } else {
          this.#shutdown(conn, stateError('AWS_ERROR_MQTT5_USER_REQUESTED_STOP', 'stop() was called'));
        }
        return;
      default:
        // STOPPED: nothing to do; CLEAN_DISCONNECT: the shutdown under way ends in STOPPED now.
        return;
    }
  }

  /**
   * Terminal: stops the client if it runs, fails every operation with
   * `AWS_ERROR_MQTT5_CLIENT_TERMINATED`, ends every `messages()` iterator. Operations submitted
   * afterwards reject with that code; `start()` throws it. Idempotent.
   */
  close(): void {
    if (this.#state === TERMINATED) return;
    if (debug.enabled) debug('client %d: close()', debugIdOf(this));
    this.#running = false;
    this.#closing = true;
    const conn = this.#conn;
    if (conn !== undefined) {
      if (!conn.closing) conn.error = terminatedError('close()');
      conn.closing = true;
      this.#finishShutdown(conn);
    } else if (this.#state === PENDING_RECONNECT) {
      this.#enterStopped();
    } else {
      this.#failEverything(terminatedOperationError);
    }
    this.#setState(TERMINATED);
    this.#clearTimer();
    if (this.#streams !== undefined) for (const stream of [...this.#streams]) stream.end();
  }

  /** `await using client = new Mqtt5Client(…)`: closes the client and lets its last events be emitted. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  // -------------------------------------------------------------------------------------------
  // Operations API

  /**
   * Publishes a message. QoS 0 resolves with `undefined` once written to the transport; QoS 1 resolves
   * with the server's PUBACK, also when its reason code is a failure (check
   * `isSuccessfulPubackReasonCode(puback.reasonCode)`). Rejects with an `Mqtt5Error` on validation
   * failure (codec rules; QoS 2 is not supported yet; at send time the negotiated maximum QoS, retain
   * availability and maximum packet size), the offline queue policy, an ack timeout
   * (`AWS_ERROR_MQTT_TIMEOUT`), stop, close or abort.
   */
  publish(packet: PublishPacket, options?: OperationOptions): Promise<PubackPacket | undefined> {
    try {
      return this.#publish(packet, options);
    } catch (error) {
      // A throwing getter (or proxy) in the caller's packet or options: a rejection, never a throw.
      return Promise.reject(unreadableInput('publish', 'AWS_ERROR_MQTT5_PUBLISH_OPTIONS_VALIDATION', error));
    }
  }

  #publish(packet: PublishPacket, options?: OperationOptions): Promise<PubackPacket | undefined> {
    if (this.#state === TERMINATED) return Promise.reject(terminatedError('publish'));
    if (typeof packet !== 'object' || packet === null) {
      return Promise.reject(
        new Mqtt5Error(
          'AWS_ERROR_MQTT5_PUBLISH_OPTIONS_VALIDATION',
          'publish: the packet must be a PublishPacket object',
        ),
      );
    }
    if (packet.qos === 2) {
      return Promise.reject(
        new Mqtt5Error('AWS_ERROR_MQTT5_PUBLISH_OPTIONS_VALIDATION', 'publish: QoS 2 is not supported yet'),
      );
    }
    const invalid = validatePublish(packet);
    if (invalid !== undefined) return Promise.reject(invalid);
    if (
      packet.qos === 0 &&
      options === undefined &&
      this.#state === CONNECTED &&
      (this.#queue === undefined || this.#queue.length === 0) &&
      (this.#bits & LANE_ELIGIBLE) !== 0
    ) {
      const payload = packet.payload;
      if (payload === undefined || payload === null || typeof payload === 'string' || payload instanceof Uint8Array) {
        return this.#publishFast(packet);
      }
    }
    let payload: Buffer;
    try {
      payload = toPayloadBuffer(packet.payload);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#rare?.iotLimits?.publishRate !== undefined) {
      const iotInvalid = validatePublishForIotCore(packet, payload.byteLength);
      if (iotInvalid !== undefined) return Promise.reject(iotInvalid);
    }
    const wire = new WirePublish(packet, payload);
    if (this.#config.topicAliasing.outboundBehavior !== OutboundTopicAliasBehaviorType.Manual)
      wire.topicAlias = undefined;
    let wireSize: number;
    try {
      wireSize = encodedSize(wire);
    } catch (error) {
      return Promise.reject(
        new Mqtt5Error('AWS_ERROR_MQTT5_PACKET_VALIDATION', `publish: ${(error as Error).message}`, { cause: error }),
      );
    }
    const qos = wire.qos;
    return this.#submit(
      OP_PUBLISH,
      wire,
      qos,
      qos === 0 ? wireSize : sizeWithoutPacketId(wireSize),
      wireSize,
      options,
      'AWS_ERROR_MQTT5_PUBLISH_OPTIONS_VALIDATION',
    ) as Promise<PubackPacket | undefined>;
  }

  /**
   * QoS 0 fast lane (connected, nothing queued, no options): encodes the PUBLISH right away into the
   * current lane chunk; the returned promise is the chunk's, resolved when its write completes.
   */
  #publishFast(packet: PublishPacket): Promise<undefined> {
    const settings = this.#settings as NegotiatedSettings;
    if (packet.retain === true && !settings.retainAvailable) {
      return Promise.reject(
        new Mqtt5Error(
          'AWS_ERROR_MQTT5_PUBLISH_OPTIONS_VALIDATION',
          'publish: the server does not support retained messages',
        ),
      );
    }
    // Encoded from a transient copy: the caller's object (and its topicAlias, ignored here) is not touched.
    const wire = {
      type: PacketType.Publish as const,
      topicName: packet.topicName,
      payload: packet.payload,
      qos: 0,
      retain: packet.retain,
      payloadFormat: packet.payloadFormat,
      messageExpiryIntervalSeconds: packet.messageExpiryIntervalSeconds,
      responseTopic: packet.responseTopic,
      correlationData: packet.correlationData,
      contentType: packet.contentType,
      userProperties: packet.userProperties,
    };
    let chunk = this.#laneTail;
    let start = 0;
    let end = -1;
    if (chunk !== undefined) {
      start = chunk.length;
      try {
        end = encodeInto(wire, chunk.buffer, start);
      } catch {
        end = -1; // does not fit (or is invalid): measured below
      }
    }
    if (end < 0) {
      let size: number;
      try {
        size = encodedSize(wire);
      } catch (error) {
        return Promise.reject(
          new Mqtt5Error('AWS_ERROR_MQTT5_PACKET_VALIDATION', `publish: ${(error as Error).message}`, { cause: error }),
        );
      }
      if (size > settings.maximumPacketSizeToServer)
        return Promise.reject(tooLarge(size, settings.maximumPacketSizeToServer));
      chunk = new LaneChunk(size > LANE_CHUNK_SIZE ? size : LANE_CHUNK_SIZE);
      (this.#lane ??= []).push(chunk);
      this.#laneTail = chunk;
      start = 0;
      try {
        end = encodeInto(wire, chunk.buffer, 0);
      } catch (error) {
        return Promise.reject(
          new Mqtt5Error('AWS_ERROR_MQTT5_ENCODE_FAILURE', `publish: ${(error as Error).message}`, { cause: error }),
        );
      }
    }
    const size = end - start;
    if (size > settings.maximumPacketSizeToServer)
      return Promise.reject(tooLarge(size, settings.maximumPacketSizeToServer));
    (chunk as LaneChunk).length = end;
    (chunk as LaneChunk).count++;
    this.#incompleteCount++;
    this.#incompleteSize += size;
    this.#scheduleService();
    return (chunk as LaneChunk).done;
  }

  /**
   * Subscribes. Resolves with the SUBACK (per-filter failures are reason codes in it, not rejections).
   * Rejects as {@link Mqtt5Client.publish} does.
   */
  subscribe(packet: SubscribePacket, options?: OperationOptions): Promise<SubackPacket> {
    try {
      return this.#subscribe(packet, options);
    } catch (error) {
      // A throwing getter (or proxy) in the caller's packet or options: a rejection, never a throw.
      return Promise.reject(unreadableInput('subscribe', 'AWS_ERROR_MQTT5_SUBSCRIBE_OPTIONS_VALIDATION', error));
    }
  }

  #subscribe(packet: SubscribePacket, options?: OperationOptions): Promise<SubackPacket> {
    if (this.#state === TERMINATED) return Promise.reject(terminatedError('subscribe'));
    const invalid = validateSubscribe(packet);
    if (invalid !== undefined) return Promise.reject(invalid);
    for (const subscription of packet.subscriptions) {
      if (subscription.qos === 2) {
        return Promise.reject(
          new Mqtt5Error('AWS_ERROR_MQTT5_SUBSCRIBE_OPTIONS_VALIDATION', 'subscribe: QoS 2 is not supported yet'),
        );
      }
    }
    if (this.#rare?.iotLimits?.publishRate !== undefined) {
      const iotInvalid = validateSubscribeForIotCore(packet);
      if (iotInvalid !== undefined) return Promise.reject(iotInvalid);
    }
    const wire: SubscribePacket & { type: PacketType.Subscribe } = {
      type: PacketType.Subscribe,
      subscriptions: packet.subscriptions.map((s) => ({ ...s })),
      subscriptionIdentifier: packet.subscriptionIdentifier,
      userProperties: packet.userProperties?.slice(),
      packetId: undefined,
    };
    let size: number;
    try {
      size = encodedSize(wire);
    } catch (error) {
      return Promise.reject(
        new Mqtt5Error('AWS_ERROR_MQTT5_PACKET_VALIDATION', `subscribe: ${(error as Error).message}`, { cause: error }),
      );
    }
    return this.#submit(
      OP_SUBSCRIBE,
      wire,
      0,
      size,
      size,
      options,
      'AWS_ERROR_MQTT5_SUBSCRIBE_OPTIONS_VALIDATION',
    ) as Promise<SubackPacket>;
  }

  /** Unsubscribes. Resolves with the UNSUBACK. Rejects as {@link Mqtt5Client.publish} does. */
  unsubscribe(packet: UnsubscribePacket, options?: OperationOptions): Promise<UnsubackPacket> {
    try {
      return this.#unsubscribe(packet, options);
    } catch (error) {
      // A throwing getter (or proxy) in the caller's packet or options: a rejection, never a throw.
      return Promise.reject(unreadableInput('unsubscribe', 'AWS_ERROR_MQTT5_UNSUBSCRIBE_OPTIONS_VALIDATION', error));
    }
  }

  #unsubscribe(packet: UnsubscribePacket, options?: OperationOptions): Promise<UnsubackPacket> {
    if (this.#state === TERMINATED) return Promise.reject(terminatedError('unsubscribe'));
    const invalid = validateUnsubscribe(packet);
    if (invalid !== undefined) return Promise.reject(invalid);
    if (this.#rare?.iotLimits?.publishRate !== undefined) {
      const iotInvalid = validateUnsubscribeForIotCore(packet);
      if (iotInvalid !== undefined) return Promise.reject(iotInvalid);
    }
    const wire: UnsubscribePacket & { type: PacketType.Unsubscribe } = {
      type: PacketType.Unsubscribe,
      topicFilters: packet.topicFilters.slice(),
      userProperties: packet.userProperties?.slice(),
      packetId: undefined,
    };
    let size: number;
    try {
      size = encodedSize(wire);
    } catch (error) {
      return Promise.reject(
        new Mqtt5Error('AWS_ERROR_MQTT5_PACKET_VALIDATION', `unsubscribe: ${(error as Error).message}`, {
          cause: error,
        }),
      );
    }
    return this.#submit(
      OP_UNSUBSCRIBE,
      wire,
      0,
      size,
      size,
      options,
      'AWS_ERROR_MQTT5_UNSUBSCRIBE_OPTIONS_VALIDATION',
    ) as Promise<UnsubackPacket>;
  }

  /** Counts and sizes of the operations in flight (reference §4). */
  getOperationalStatistics(): OperationalStatistics {
    return {
      incompleteOperationCount: this.#incompleteCount,
      incompleteOperationSize: this.#incompleteSize,
      unackedOperationCount: this.#unackedCount,
      unackedOperationSize: this.#unackedSize,
    };
  }

  /**
   * Received messages as an async iterator (alongside the `messageReceived` event). QoS 1 messages
   * are acknowledged when the loop takes them, so a slow consumer slows the broker down instead of
   * buffering without bound. The iteration ends when `signal` aborts, on `return()`/`break`, or when
   * the client is closed.
   *
   * @example
   * ```ts
   * for await (const message of client.messages({ signal })) console.log(message.topicName);
   * ```
   */
  messages(options: MessagesOptions = {}): MessageStream {
    const stream = new MessageStreamImpl(options ?? {}, (s) => {
      const streams = this.#streams;
      if (streams === undefined || !streams.delete(s)) return;
      if (streams.size === 0) {
        this.off(EVENT_MESSAGE, Mqtt5Client.#feedStreams);
        this.#streams = undefined;
      }
    });
    if (this.#state === TERMINATED) {
      stream.end();
      return stream;
    }
    let streams = this.#streams;
    if (streams === undefined) {
      // One listener feeds every stream, so any number of iterators never trips MaxListenersExceeded.
      streams = this.#streams = new Set();
      this.on(EVENT_MESSAGE, Mqtt5Client.#feedStreams);
    }
    streams.add(stream);
    return stream;
  }

  /** The single `messageReceived` listener behind every `messages()` stream of a client. */
  static #feedStreams = function (this: Mqtt5Client, event: MessageReceivedEvent): void {
    const streams = this.#streams;
    if (streams !== undefined) for (const stream of streams) stream.listener(event);
  };

  // -------------------------------------------------------------------------------------------
  // State machine

  #setState(next: number): void {
    if (debug.enabled) debug('client %d: %s -> %s', debugIdOf(this), STATE_NAMES[this.#state], STATE_NAMES[next]);
    this.#state = next;
  }

  #enterConnecting(): void {
    const conn = new Connection(nextConnectionId++, this);
    this.#conn = conn;
    this.#setState(CONNECTING);
    // Queued first, but its flush is scheduled only after the connector ran: a TCP connector starts
    // the connect itself in a nextTick, which then runs before the listeners do.
    const events = this.#events;
    const flushScheduled = events !== undefined;
    if (flushScheduled) events.push('attemptingConnect', {});
    else this.#events = ['attemptingConnect', {}];
    if (connectChannel.hasSubscribers) {
      connectChannel.publish({
        client: this,
        phase: 'attempt',
        hostName: this.#config.hostName,
        port: this.#config.port,
      });
    }
    let pending: Promise<Transport>;
    try {
      pending = this.#config.connector(conn.abort as ConnectAttempt);
      if (typeof (pending as Partial<Promise<Transport>> | null)?.then !== 'function') {
        pending = Promise.reject(new TypeError('the connector did not return a promise'));
      }
    } catch (error) {
      pending = Promise.reject(error);
    }
    if (!flushScheduled) process.nextTick(flushEventsOf, this);
    pending.then(
      (transport) => {
        try {
          this.#onTransport(conn, transport);
        } catch (error) {
          // A transport whose on()/write() throws while being set up: this attempt fails.
          if (conn.closed) return;
          if (conn.transport === undefined) safeDestroy(transport);
          conn.closing = true;
          conn.error = connectorError(error);
          this.#finishShutdown(conn);
        }
      },
      (error: unknown) => {
        if (conn.closed || this.#conn !== conn) return;
        conn.closing = true;
        conn.error = connectorError(error);
        this.#finishShutdown(conn);
      },
    );
  }

  #onTransport(conn: Connection, transport: Transport): void {
    if (conn.closed || this.#conn !== conn) {
      safeDestroy(transport);
      return;
    }
    if (
      typeof transport !== 'object' ||
      transport === null ||
      typeof transport.write !== 'function' ||
      typeof transport.on !== 'function'
    ) {
      conn.closing = true;
      conn.error = new Mqtt5Error(
        'AWS_ERROR_TRANSPORT_FAILURE',
        'the connector resolved with something that is not a Transport',
      );
      this.#finishShutdown(conn);
      return;
    }
    conn.transport = transport;
    conn.abort = undefined;
    // A Node stream keeps what it receives until a 'data' listener is attached, and emits its
    // events asynchronously: the CONNECT can go out first, and the listeners, the decoder and the
    // CONNACK timer be set up while it travels. Any other transport gets its listeners first.
    const buffersInbound = transport instanceof Readable;
    if (!buffersInbound) this.#attach(conn, transport);

    this.#setState(MQTT_CONNECT);
    // The CONNECT is encoded ahead (see #prepareConnect); again here only if it no longer matches.
    let prepared = this.#nextConnect;
    this.#nextConnect = undefined;
    if (
      prepared === undefined ||
      prepared.packet.cleanStart !== this.#cleanStart() ||
      prepared.packet.clientId !== this.#clientId
    ) {
      const packet = this.#connectPacket();
      try {
        prepared = { packet, bytes: encode(packet) };
      } catch (error) {
        conn.connect = packet;
        if (buffersInbound) this.#attach(conn, transport);
        this.#shutdown(
          conn,
          new Mqtt5Error('AWS_ERROR_MQTT5_ENCODE_FAILURE', `CONNECT: ${(error as Error).message}`, { cause: error }),
        );
        return;
      }
    }
    conn.connect = prepared.packet;
    this.#write(conn, prepared.bytes);
    if (buffersInbound) this.#attach(conn, transport);
    if (conn.closed) return; // the write failed at once
    this.#connackDeadline = this.#deadlineIn(this.#config.connackTimeoutMs);
    this.#armTimer(this.#connackDeadline);
  }

  /** The connection's decoder and transport listeners. */
  #attach(conn: Connection, transport: Transport): void {
    conn.decoder = new ConnectionDecoder(conn, this.#config.connectProperties.maximumPacketSizeBytes);
    if (transport instanceof EventEmitter) {
      // Node emitters call listeners with the emitter as `this`: shared listeners find the
      // connection in a WeakMap, so a connection holds no closure per event.
      connectionOf.set(transport, conn);
      transport.on('data', onTransportData);
      transport.on('drain', onTransportDrain);
      transport.on('error', onTransportError);
      transport.on('close', onTransportClose);
    } else {
      transport.on('data', (chunk) => this.#onData(conn, chunk));
      transport.on('drain', () => this.#onDrain(conn));
      transport.on('error', (error) => this.#onTransportError(conn, error));
      transport.on('close', () => this.#onTransportClose(conn));
    }
  }

  /** The CONNECT of the next attempt (the configured one, with this attempt's clean start and client id). */
  #connectPacket(): ConnectPacket & { type: PacketType.Connect } {
    const inbound = this.#config.topicAliasing;
    return {
      ...this.#config.connectProperties,
      type: PacketType.Connect,
      cleanStart: this.#cleanStart(),
      clientId: this.#clientId,
      topicAliasMaximum:
        inbound.inboundBehavior === InboundTopicAliasBehaviorType.Enabled ? inbound.inboundCacheMaxSize : undefined,
    };
  }

  /**
   * Encodes the CONNECT of the first attempt now (construction) rather than between `start()` and
   * the write; an encoding failure is left for the attempt to report.
   */
  #prepareConnect(): void {
    const packet = this.#connectPacket();
    try {
      this.#nextConnect = { packet, bytes: encode(packet) };
    } catch {
      this.#nextConnect = undefined;
    }
  }

  #onDrain(conn: Connection): void {
    if (conn.closed) return;
    conn.waitingDrain = false;
    this.#service();
  }

  #onTransportError(conn: Connection, error: Error): void {
    if (conn.closed) return;
    this.#shutdown(conn, transportError(error));
  }

  #onTransportClose(conn: Connection): void {
    if (conn.lingerTimer !== undefined) {
      this.#config.clock.clearTimeout(conn.lingerTimer);
      conn.lingerTimer = undefined;
    }
    if (conn.closed) return;
    conn.closing = true;
    conn.error ??= stateError('AWS_ERROR_MQTT_UNEXPECTED_HANGUP', 'the server closed the connection');
    this.#finishShutdown(conn);
  }

  #cleanStart(): boolean {
    switch (this.#config.sessionBehavior) {
      case ClientSessionBehavior.RejoinAlways:
        return false;
      case ClientSessionBehavior.RejoinPostSuccess:
        return !this.#hasConnectedSuccessfully;
      default:
        return true;
    }
  }

  #onConnack(conn: Connection, connack: ConnackPacket): void {
    if (this.#state !== MQTT_CONNECT || conn.successful) throw protocolError('unexpected second CONNACK');
    this.#connackDeadline = 0;
    conn.connack = connack;
    if (connack.reasonCode >= 128) {
      this.#shutdown(
        conn,
        new Mqtt5Error(
          'AWS_ERROR_MQTT5_CONNACK_CONNECTION_REFUSED',
          `the server refused the connection: CONNACK reason ${describeReason(connack.reasonCode, CONNECT_REASON_NAMES, connack.reasonString)}`,
          { reasonCode: connack.reasonCode, packet: connack },
        ),
      );
      return;
    }
    const connect = conn.connect as ConnectPacket;
    if (connack.sessionPresent && connect.cleanStart === true) {
      this.#shutdown(
        conn,
        new Mqtt5Error(
          'AWS_ERROR_MQTT_CANCELLED_FOR_CLEAN_SESSION',
          'the server resumed a session although the client asked for a clean start',
          { packet: connack },
        ),
      );
      return;
    }
    const settings = Object.freeze(computeNegotiatedSettings(connect, connack, this.#clientId));
    this.#settings = settings;
    this.#clientId = settings.clientId;
    conn.connect = undefined; // only needed until now: keep an idle connection small
    conn.connack = undefined;
    const now = this.#deadlineBase();
    conn.successful = true;
    conn.connectedAt = now;
    this.#hasConnectedSuccessfully = true;
    this.#setState(CONNECTED);
    this.#onConnectionSuccessOperations(settings);
    if (settings.serverKeepAlive > 0) {
      this.#nextPingAt = now + settings.serverKeepAlive * 1000;
      this.#armTimer(this.#nextPingAt);
    }
    this.#queueEvent('connectionSuccess', { connack, settings });
    if (connectChannel.hasSubscribers) {
      connectChannel.publish({
        client: this,
        phase: 'success',
        hostName: this.#config.hostName,
        port: this.#config.port,
        connack,
        settings,
      });
    }
    if (debug.enabled)
      debug(
        'client %d: connected as %j (session %s)',
        debugIdOf(this),
        settings.clientId,
        settings.rejoinedSession ? 'resumed' : 'new',
      );
    // Operations queued while offline (or held over the disconnect) go out now; nothing else can be
    // pending on a connection that just started.
    if ((this.#queue !== undefined && this.#queue.length > 0) || (this.#lane !== undefined && this.#lane.length > 0)) {
      this.#scheduleService();
    }
  }

  #enterCleanDisconnect(): void {
    this.#setState(CLEAN_DISCONNECT);
    this.#nextPingAt = 0;
    this.#pingDeadline = 0;
    this.#cleanDisconnectDeadline = this.#deadlineIn(Math.min(this.#config.pingTimeoutMs, CLEAN_DISCONNECT_TIMEOUT_MS));
    this.#armTimer(this.#cleanDisconnectDeadline);
    this.#service();
  }

  /**
   * Ends a connection for `error` (the first cause wins). With `disconnectReason`, a DISCONNECT with
   * that reason code is written first (CLEAN_DISCONNECT), when the connection can still carry it.
   */
  #shutdown(conn: Connection, error: Mqtt5Error, disconnectReason?: number): void {
    if (conn.closing || conn.closed) return;
    conn.closing = true;
    conn.error = error;
    if (debug.enabled)
      debug('client %d: connection %d ends: %s %s', debugIdOf(this), conn.id, error.code, error.message);
    if (
      disconnectReason !== undefined &&
      conn.transport !== undefined &&
      (this.#state === CONNECTED || this.#state === MQTT_CONNECT)
    ) {
      conn.disconnectPacket = { type: PacketType.Disconnect, reasonCode: disconnectReason };
      this.#enterCleanDisconnect();
      return;
    }
    this.#finishShutdown(conn);
  }

  /** Channel shutdown: detach the transport, settle operations per the offline policy, emit, move on. */
  #finishShutdown(conn: Connection): void {
    if (conn.closed) return;
    conn.closed = true;
    conn.closing = true;
    const error = conn.error ?? stateError('AWS_ERROR_MQTT_UNEXPECTED_HANGUP', 'the connection was closed');
    this.#connackDeadline = 0;
    this.#nextPingAt = 0;
    this.#pingDeadline = 0;
    this.#cleanDisconnectDeadline = 0;
    this.#flowWaitAt = 0;
    if (this.#conn === conn) this.#conn = undefined;

    const transport = conn.transport;
    if (transport === undefined) {
      conn.abort?.abort(error);
      conn.abort = undefined;
    } else if (conn.disconnectWritten) {
      try {
        transport.end();
        conn.lingerTimer = this.#config.clock.setTimeout(() => {
          conn.lingerTimer = undefined;
          safeDestroy(transport);
        }, LINGER_MS);
      } catch {
        safeDestroy(transport);
      }
    } else {
      safeDestroy(transport);
    }

    this.#onDisconnectOperations(conn);

    if (conn.successful) {
      if (this.#config.clock.now() - conn.connectedAt >= this.#config.minConnectedTimeToResetReconnectDelayMs) {
        this.#reconnectCount = 0;
        this.#previousDelay = 0;
      }
      const event = conn.serverDisconnect === undefined ? { error } : { error, disconnect: conn.serverDisconnect };
      this.#queueEvent('disconnection', event);
      if (disconnectChannel.hasSubscribers) disconnectChannel.publish({ client: this, ...event });
    } else {
      const event = conn.connack === undefined ? { error } : { error, connack: conn.connack };
      this.#queueEvent('connectionFailure', event);
      if (connectChannel.hasSubscribers) {
        connectChannel.publish({
          client: this,
          phase: 'failure',
          hostName: this.#config.hostName,
          port: this.#config.port,
          ...event,
        });
      }
    }

    if (!this.#running) this.#enterStopped();
    else if (error.code === 'AWS_ERROR_MQTT5_USER_REQUESTED_STOP')
      this.#enterConnecting(); // start() during stop(packet)
    else this.#enterPendingReconnect();
  }

  #enterPendingReconnect(): void {
    const config = this.#config;
    const delay = computeReconnectDelay({
      jitterMode: config.retryJitterMode,
      attempt: this.#reconnectCount,
      minDelayMs: config.minReconnectDelayMs,
      maxDelayMs: config.maxReconnectDelayMs,
      previousDelayMs: this.#previousDelay,
      random: config.random,
    });
    this.#reconnectCount++;
    this.#previousDelay = delay;
    this.#setState(PENDING_RECONNECT);
    if (debug.enabled) debug('client %d: reconnecting in %d ms', debugIdOf(this), delay);
    this.#reconnectAt = this.#deadlineIn(delay);
    this.#armTimer(this.#reconnectAt);
  }

  #enterStopped(): void {
    this.#setState(STOPPED);
    this.#reconnectAt = 0;
    this.#clearTimer();
    this.#hasConnectedSuccessfully = false;
    this.#failEverything(this.#closing ? terminatedOperationError : stoppedOperationError);
    this.#queueEvent('stopped', {});
  }

  // -------------------------------------------------------------------------------------------
  // The timer

  #armTimer(at: number): void {
    if ((this.#timerArmed() && at >= this.#timerAt) || this.#state === TERMINATED) return;
    this.#timerAt = at;
    if (this.#config.clock === systemClock) {
      systemTimers.arm(this);
      return;
    }
    if (this.#timer !== undefined) this.#config.clock.clearTimeout(this.#timer);
    this.#timer = this.#config.clock.setTimeout(() => this.#onTimer(), at - this.#config.clock.now());
  }

  #clearTimer(): void {
    if (this.#timerIndex >= 0) systemTimers.remove(this);
    if (this.#timer !== undefined) this.#config.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #timerArmed(): boolean {
    return this.#timerIndex >= 0 || this.#timer !== undefined;
  }

  /**
   * The base of a deadline: the clock's reading, on the system clock rounded up to a whole
   * millisecond. Deadlines are then small integers, which V8 stores in the field itself (a
   * fractional one costs a 16-byte heap number per field and client), and never earlier than exact.
   */
  #deadlineBase(): number {
    const clock = this.#config.clock;
    return clock === systemClock ? Math.ceil(clock.now()) : clock.now();
  }

  /** The deadline `delayMs` from now (see #deadlineBase). */
  #deadlineIn(delayMs: number): number {
    const clock = this.#config.clock;
    return clock === systemClock ? Math.ceil(clock.now() + delayMs) : clock.now() + delayMs;
  }

  #onTimer(): void {
    this.#timer = undefined;
    const now = this.#config.clock.now();
    const conn = this.#conn;
    switch (this.#state) {
      case PENDING_RECONNECT:
        if (now >= this.#reconnectAt) {
          this.#enterConnecting();
          return;
        }
        break;
      case MQTT_CONNECT:
        if (conn !== undefined && this.#connackDeadline !== 0 && now >= this.#connackDeadline) {
          this.#connackDeadline = 0;
          this.#shutdown(
            conn,
            stateError(
              'AWS_ERROR_MQTT5_CONNACK_TIMEOUT',
              `no CONNACK within connackTimeoutMs (${this.#config.connackTimeoutMs} ms)`,
            ),
          );
          return;
        }
        break;
      case CONNECTED:
      case CLEAN_DISCONNECT:
        if (conn === undefined) break;
        if (this.#cleanDisconnectDeadline !== 0 && now >= this.#cleanDisconnectDeadline) {
          this.#finishShutdown(conn);
          return;
        }
        if (this.#pingDeadline !== 0 && now >= this.#pingDeadline) {
          this.#pingDeadline = 0;
          this.#shutdown(
            conn,
            stateError(
              'AWS_ERROR_MQTT5_PING_RESPONSE_TIMEOUT',
              'no PINGRESP in time: the connection is considered dead',
            ),
            DisconnectReasonCode.KeepAliveTimeout,
          );
          return;
        }
        if (this.#nextPingAt !== 0 && now >= this.#nextPingAt) {
          const keepAliveMs = (this.#settings as NegotiatedSettings).serverKeepAlive * 1000;
          this.#nextPingAt = this.#deadlineIn(keepAliveMs);
          if (conn.pingPending && this.#pingDeadline === 0) {
            // The previous PINGREQ could not even be written in a whole keep-alive interval (the
            // transport is blocked, the peer reads nothing): the same timeout as a missing PINGRESP.
            this.#pingDeadline = this.#deadlineIn(Math.min(this.#config.pingTimeoutMs, keepAliveMs / 2));
          }
          conn.pingPending = true;
          this.#scheduleService();
        }
        if (this.#ackDeadlines !== undefined) {
          for (
            let op = this.#ackDeadlines.popExpired(now);
            op !== undefined;
            op = this.#ackDeadlines?.popExpired(now)
          ) {
            this.#expireOperation(op);
          }
        }
        if (this.#flowWaitAt !== 0 && now >= this.#flowWaitAt) {
          this.#flowWaitAt = 0;
          this.#scheduleService();
        }
        break;
      default:
        return;
    }
    this.#rearm();
  }

  #rearm(): void {
    let at = Infinity;
    switch (this.#state) {
      case PENDING_RECONNECT:
        at = this.#reconnectAt;
        break;
      case MQTT_CONNECT:
        if (this.#connackDeadline !== 0) at = this.#connackDeadline;
        break;
      case CONNECTED:
      case CLEAN_DISCONNECT:
        for (const deadline of [
          this.#cleanDisconnectDeadline,
          this.#pingDeadline,
          this.#nextPingAt,
          this.#flowWaitAt,
        ]) {
          if (deadline !== 0 && deadline < at) at = deadline;
        }
        if (this.#ackDeadlines !== undefined) at = Math.min(at, this.#ackDeadlines.earliest());
        break;
      default:
        return;
    }
    if (at !== Infinity) this.#armTimer(at);
  }

  // -------------------------------------------------------------------------------------------
  // Operations: submission, completion, offline policy

  #submit(
    kind: number,
    packet: WirePacket,
    qos: number,
    statSize: number,
    wireSize: number,
    options: OperationOptions | undefined,
    invalidCode: Mqtt5ErrorCode,
  ): Promise<unknown> {
    let signal: AbortSignal | undefined;
    let ackTimeoutMs = 0;
    if (options !== undefined && options !== null) {
      if (typeof options !== 'object') return Promise.reject(new Mqtt5Error(invalidCode, 'options must be an object'));
      const s = options.signal;
      if (s !== undefined && s !== null) {
        if (!isAbortSignal(s))
          return Promise.reject(new Mqtt5Error(invalidCode, 'options.signal must be an AbortSignal'));
        if (s.aborted) return Promise.reject(abortError(s.reason));
        signal = s;
      }
      const seconds = options.ackTimeoutSeconds;
      if (seconds !== undefined && seconds !== null && seconds !== 0) {
        if (typeof seconds !== 'number' || !(seconds > 0) || !Number.isFinite(seconds)) {
          return Promise.reject(
            new Mqtt5Error(invalidCode, `options.ackTimeoutSeconds must be a positive number, got ${String(seconds)}`),
          );
        }
        ackTimeoutMs = seconds * 1000;
        if (ackTimeoutMs === this.#config.ackTimeoutSeconds * 1000) ackTimeoutMs = 0;
      }
    }
    if (this.#state !== CONNECTED && !this.#retainedOffline(kind, qos)) {
      return Promise.reject(
        new Mqtt5Error(
          'AWS_ERROR_MQTT5_OPERATION_FAILED_DUE_TO_OFFLINE_QUEUE_POLICY',
          'the client is not connected and its offline queue policy does not keep this operation',
        ),
      );
    }
    let resolve!: (value: never) => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const op = new Operation(kind, packet, qos, statSize, wireSize, ackTimeoutMs, resolve, reject);
    this.#incompleteCount++;
    this.#incompleteSize += statSize;
    if (signal !== undefined) {
      op.signal = signal;
      const aborts = (this.#aborts ??= new Map());
      let watch = aborts.get(signal);
      if (watch === undefined) {
        const ops = new Set<Operation>();
        const listener = (): void => {
          const map = this.#aborts;
          if (map !== undefined && map.get(signal) === watch) map.delete(signal);
          for (const aborted of ops) this.#abortOperation(aborted);
        };
        watch = { ops, listener };
        aborts.set(signal, watch);
        signal.addEventListener('abort', listener, { once: true });
      }
      watch.ops.add(op);
    }
    (this.#queue ??= new Deque<Operation>()).push(op);
    if (this.#state === CONNECTED) this.#scheduleService();
    return promise;
  }

  /** Whether the offline queue policy keeps an operation of this kind while offline. */
  #retainedOffline(kind: number, qos: number): boolean {
    switch (this.#config.offlineQueueBehavior) {
      case ClientOperationQueueBehavior.FailNonQos1PublishOnDisconnect:
        return kind === OP_PUBLISH && qos === 1;
      case ClientOperationQueueBehavior.FailAllOnDisconnect:
        return false;
      default:
        return !(kind === OP_PUBLISH && qos === 0);
    }
  }

  /** Statistics and abort-listener bookkeeping of a completing operation; false if already settled. */
  #settle(op: Operation): boolean {
    if (op.settled) return false;
    op.settled = true;
    this.#incompleteCount--;
    this.#incompleteSize -= op.statSize;
    if (op.countedUnacked) {
      op.countedUnacked = false;
      this.#unackedCount--;
      this.#unackedSize -= op.statSize;
    }
    const signal = op.signal;
    if (signal !== undefined) {
      op.signal = undefined;
      const watch = this.#aborts?.get(signal);
      if (watch !== undefined && watch.ops.delete(op) && watch.ops.size === 0) {
        signal.removeEventListener('abort', watch.listener);
        (this.#aborts as Map<AbortSignal, AbortWatch>).delete(signal);
      }
    }
    return true;
  }

  #completeOperation(op: Operation, value: unknown): void {
    if (this.#settle(op)) op.resolve(value as never);
  }

  #failOperation(op: Operation, error: Error): void {
    if (op.state === OP_QUEUED && op.packetId !== 0 && this.#idTable?.get(op.packetId) === op)
      this.#idTable.delete(op.packetId);
    op.state = OP_DONE;
    if (this.#settle(op)) op.reject(error);
  }

  #abortOperation(op: Operation): void {
    if (op.settled) return;
    const error = abortError(op.signal?.reason);
    switch (op.state) {
      case OP_QUEUED:
        // Removed: a tombstone in the queue (or the held list) that the writer skips.
        if (op.packetId !== 0 && this.#idTable?.get(op.packetId) === op) this.#idTable.delete(op.packetId);
        op.state = OP_DONE;
        this.#tombstones++;
        if (this.#settle(op)) op.reject(error);
        if (this.#queue !== undefined && this.#tombstones > 1024 && this.#tombstones * 2 > this.#queue.length) {
          this.#queue.filter((queued) => !queued.settled);
          this.#tombstones = 0;
        }
        return;
      default:
        // Written: it is the broker's now. The promise rejects; the operation stays tracked until its ack.
        if (this.#settle(op)) op.reject(error);
    }
  }

  /** An ack timeout: the operation fails; its packet id stays reserved until a late ack or the disconnect. */
  #expireOperation(op: Operation): void {
    if (op.kind === OP_PUBLISH && op.state === OP_UNACKED) this.#qos1InFlight--;
    op.state = OP_DONE;
    if (this.#settle(op)) {
      op.reject(
        new Mqtt5Error(
          'AWS_ERROR_MQTT_TIMEOUT',
          `no ${op.kind === OP_PUBLISH ? 'PUBACK' : op.kind === OP_SUBSCRIBE ? 'SUBACK' : 'UNSUBACK'} for packet id ${op.packetId} within ${(op.ackTimeoutMs || this.#config.ackTimeoutSeconds * 1000) / 1000} s`,
        ),
      );
    }
    this.#scheduleService();
  }

  /** Reference §3.5, on every disconnect. */
  #onDisconnectOperations(conn: Connection): void {
    let offlineError: Mqtt5Error | undefined;
    const offline = (): Mqtt5Error =>
      (offlineError ??= new Mqtt5Error(
        'AWS_ERROR_MQTT5_OPERATION_FAILED_DUE_TO_OFFLINE_QUEUE_POLICY',
        'the connection was lost and the offline queue policy does not keep this operation',
      ));

    // QoS 0 PUBLISHes of the pending write, and of the fast lane (never kept offline).
    const writing = conn.writeOps;
    if (writing !== undefined) {
      for (let i = 0; i < writing.length; i++) this.#failOperation(writing[i] as Operation, offline());
      writing.length = 0;
    }
    const lane = this.#lane;
    this.#lane = undefined;
    this.#laneTail = undefined;
    const chunks = conn.laneWrite === undefined ? (lane ?? []) : [conn.laneWrite, ...(lane ?? [])];
    conn.laneWrite = undefined;
    for (const chunk of chunks) {
      if (chunk.count === 0) continue;
      this.#incompleteCount -= chunk.count;
      this.#incompleteSize -= chunk.length;
      chunk.reject(offline());
    }

    // Queued operations the policy does not keep.
    const queue = this.#queue;
    if (queue !== undefined && queue.length > 0) {
      let dropped = false;
      for (let i = 0; i < queue.length; i++) {
        const op = queue.at(i) as Operation;
        if (op.settled || !this.#retainedOffline(op.kind, op.qos)) {
          dropped = true;
          break;
        }
      }
      if (dropped) {
        queue.filter((op) => {
          if (op.settled) return false;
          if (this.#retainedOffline(op.kind, op.qos)) return true;
          this.#failOperation(op, offline());
          return false;
        });
        this.#tombstones = 0;
      }
    }

    // Unacked operations: QoS 1 PUBLISHes are held with DUP=1 and their packet id; the others lose
    // their packet id and are held if the policy keeps them.
    const table = this.#idTable;
    if (table !== undefined && table.size > 0) {
      const held = (this.#held ??= []);
      for (const op of table.values()) {
        if (op.state !== OP_UNACKED) {
          if (op.state === OP_DONE) table.delete(op.packetId);
          continue;
        }
        if (op.countedUnacked) {
          op.countedUnacked = false;
          this.#unackedCount--;
          this.#unackedSize -= op.statSize;
        }
        if (op.settled) {
          op.state = OP_DONE;
          table.delete(op.packetId);
          continue;
        }
        op.state = OP_QUEUED;
        if (op.kind === OP_PUBLISH) {
          (op.packet as WirePublish).dup = true;
          held.push(op);
        } else {
          table.delete(op.packetId);
          op.packetId = 0;
          (op.packet as { packetId?: number }).packetId = undefined;
          if (this.#retainedOffline(op.kind, op.qos)) held.push(op);
          else this.#failOperation(op, offline());
        }
      }
    }
    this.#ackDeadlines?.clear();
    this.#qos1InFlight = 0;
  }

  /** Reference §3.5, on connection success. */
  #onConnectionSuccessOperations(settings: NegotiatedSettings): void {
    const held = this.#held;
    this.#held = undefined;
    if (held !== undefined && held.length > 0) {
      const front: Operation[] = [];
      if (settings.rejoinedSession) {
        for (const op of held) if (!op.settled && op.kind === OP_PUBLISH) front.push(op);
        for (const op of held) if (!op.settled && op.kind !== OP_PUBLISH) front.push(op);
      } else {
        for (const op of held) {
          if (op.settled) continue;
          if (this.#retainedOffline(op.kind, op.qos)) front.push(op);
          else
            this.#failOperation(
              op,
              new Mqtt5Error(
                'AWS_ERROR_MQTT5_OPERATION_FAILED_DUE_TO_OFFLINE_QUEUE_POLICY',
                'the session was not resumed and the offline queue policy does not keep this operation',
              ),
            );
        }
      }
      const queue = (this.#queue ??= new Deque<Operation>());
      for (let i = front.length - 1; i >= 0; i--) queue.unshift(front[i] as Operation);
    }
    this.#qos1InFlight = 0;
    this.#rare?.iotLimits?.publishRate?.reset(0);
    this.#rare?.iotLimits?.throughput?.reset(0);
    this.#outboundAliases.reset(settings.topicAliasMaximumToServer);
    this.#inboundAliases?.reset(settings.topicAliasMaximumToClient);
  }

  /**
   * Fails every remaining operation (entering STOPPED or TERMINATED) with one error, made only if
   * there is an operation to fail (an error captures a stack trace: not free on every stop).
   */
  #failEverything(makeError: () => Mqtt5Error): void {
    let made: Mqtt5Error | undefined;
    const error = (): Mqtt5Error => (made ??= makeError());
    const held = this.#held;
    this.#held = undefined;
    if (held !== undefined) for (const op of held) this.#failOperation(op, error());
    const table = this.#idTable;
    this.#idTable = undefined;
    if (table !== undefined) {
      for (const op of table.values()) {
        op.state = OP_DONE;
        if (this.#settle(op)) op.reject(error());
      }
    }
    this.#ackDeadlines?.clear();
    this.#qos1InFlight = 0;
    const queue = this.#queue;
    this.#queue = undefined;
    if (queue !== undefined) while (queue.length > 0) this.#failOperation(queue.shift() as Operation, error());
    this.#tombstones = 0;
  }

  #allocatePacketId(): number {
    const table = (this.#idTable ??= new Map());
    if (table.size >= MAX_PACKET_ID) {
      // Reuse the ids of operations that timed out (as the reference client does).
      for (const [id, op] of table) if (op.state === OP_DONE) table.delete(id);
      if (table.size >= MAX_PACKET_ID) return 0;
    }
    let id = this.#nextPacketId;
    while (table.has(id)) id = id === MAX_PACKET_ID ? 1 : id + 1;
    this.#nextPacketId = id === MAX_PACKET_ID ? 1 : id + 1;
    return id;
  }

  // -------------------------------------------------------------------------------------------
  // Writing

  #scheduleService(): void {
    // (a bit test, not a private accessor: those are calls, and this runs for every operation)
    if ((this.#bits & SERVICE_SCHEDULED) !== 0) return;
    this.#bits |= SERVICE_SCHEDULED;
    queueMicrotask(() => {
      this.#bits &= ~SERVICE_SCHEDULED;
      this.#service();
    });
  }

  /** Writes whatever may be written now: at most one write pending, everything eligible in one buffer. */
  #service(): void {
    const conn = this.#conn;
    if (conn === undefined || conn.closed || conn.writePending || conn.waitingDrain || conn.transport === undefined)
      return;
    if (this.#state === CONNECTED) {
      const lane = this.#lane;
      if (lane !== undefined && lane.length > 0) this.#writeLane(conn, lane);
      else this.#writeBatch(conn);
    } else if (this.#state === CLEAN_DISCONNECT) {
      this.#writeDisconnect(conn);
    }
  }

  /**
   * The oldest fast-lane chunk goes out as it is (everything queued is younger: the lane is only
   * used while the queue is empty). Pending PUBACKs / PINGREQ go first, in a small write of their own,
   * so a steady QoS 0 stream cannot starve them.
   */
  #writeLane(conn: Connection, lane: LaneChunk[]): void {
    if (conn.pingPending || (conn.pubacks !== undefined && conn.pubacks.length > 0)) {
      const buffer = Buffer.allocUnsafe(this.#controlSize(conn));
      this.#write(conn, buffer.subarray(0, this.#encodeControl(conn, buffer, 0)));
      return;
    }
    const chunk = lane.shift() as LaneChunk;
    if (chunk === this.#laneTail) this.#laneTail = undefined;
    if (chunk.count === 0) {
      this.#service();
      return;
    }
    conn.laneWrite = chunk;
    this.#write(conn, chunk.buffer.subarray(0, chunk.length));
  }

  #controlSize(conn: Connection): number {
    return (conn.pingPending ? 2 : 0) + (conn.pubacks === undefined ? 0 : conn.pubacks.length * 4);
  }

  /** Encodes the pending PINGREQ and PUBACKs; returns the offset after them. */
  #encodeControl(conn: Connection, buffer: Buffer, offset: number): number {
    if (conn.pingPending) {
      conn.pingPending = false;
      buffer[offset++] = 0xc0;
      buffer[offset++] = 0;
      const settings = this.#settings as NegotiatedSettings;
      this.#pingDeadline = this.#deadlineIn(
        Math.min(this.#config.pingTimeoutMs, (settings.serverKeepAlive * 1000) / 2),
      );
      this.#armTimer(this.#pingDeadline);
    }
    const pubacks = conn.pubacks;
    if (pubacks !== undefined && pubacks.length > 0) {
      const count = pubacks.length;
      for (let i = 0; i < count; i++) {
        const id = pubacks[i] as number;
        buffer[offset] = 0x40;
        buffer[offset + 1] = 2;
        buffer[offset + 2] = id >> 8;
        buffer[offset + 3] = id & 0xff;
        offset += 4;
      }
      pubacks.length = 0;
      conn.inboundUnacked -= count;
    }
    return offset;
  }

  #write(conn: Connection, bytes: Uint8Array): void {
    conn.writePending = true;
    let accepted: boolean;
    try {
      // The callback is made per write (at most one pending): an idle connection keeps none.
      accepted = (conn.transport as Transport).write(bytes, onConnectionWriteDone.bind(conn));
    } catch (error) {
      conn.writePending = false;
      this.#shutdown(conn, transportError(error));
      return;
    }
    if (accepted === false) conn.waitingDrain = true;
  }

  #onWriteDone(conn: Connection, error: Error | null | undefined): void {
    if (conn.closed) return;
    conn.writePending = false;
    if (error) {
      this.#shutdown(conn, transportError(error));
      return;
    }
    const ops = conn.writeOps;
    if (ops !== undefined && ops.length > 0) {
      for (let i = 0; i < ops.length; i++) {
        const op = ops[i] as Operation;
        op.state = OP_DONE;
        this.#completeOperation(op, undefined);
      }
      ops.length = 0;
    }
    const chunk = conn.laneWrite;
    if (chunk !== undefined) {
      conn.laneWrite = undefined;
      this.#incompleteCount -= chunk.count;
      this.#incompleteSize -= chunk.length;
      chunk.resolve(undefined);
    }
    if (conn.disconnectWritten) {
      this.#finishShutdown(conn);
      return;
    }
    this.#service();
  }

  #writeDisconnect(conn: Connection): void {
    const packet = conn.disconnectPacket;
    if (packet === undefined || conn.disconnectWritten) {
      if (packet === undefined) this.#finishShutdown(conn);
      return;
    }
    let bytes: Buffer;
    try {
      bytes = encode(packet);
    } catch {
      this.#finishShutdown(conn);
      return;
    }
    if (this.#settings !== undefined && conn.successful && bytes.length > this.#settings.maximumPacketSizeToServer) {
      if (debug.enabled)
        debug('client %d: DISCONNECT larger than the server maximum packet size; closing without it', debugIdOf(this));
      this.#finishShutdown(conn);
      return;
    }
    conn.disconnectWritten = true;
    this.#write(conn, bytes);
  }

  /** CONNECTED: control packets, then queued operations, in one buffer and one write. */
  #writeBatch(conn: Connection): void {
    const settings = this.#settings as NegotiatedSettings;
    const queue = this.#queue;
    const batch = scratchBatch;
    const publishRate = this.#rare?.iotLimits?.publishRate;
    const throughput = this.#rare?.iotLimits?.throughput;
    const aliasing = this.#config.topicAliasing.outboundBehavior !== OutboundTopicAliasBehaviorType.Disabled;
    const maximumPacketSize = settings.maximumPacketSizeToServer;
    let size = this.#controlSize(conn);
    let flowWaitMs = 0;

    while (queue !== undefined && queue.length > 0) {
      const op = queue.peek() as Operation;
      if (op.settled) {
        queue.shift();
        if (this.#tombstones > 0) this.#tombstones--;
        continue;
      }
      let opSize = op.wireSize;
      if (opSize > maximumPacketSize) {
        queue.shift();
        this.#failOperation(
          op,
          new Mqtt5Error(
            'AWS_ERROR_MQTT5_PACKET_VALIDATION',
            `the packet is ${opSize} bytes, more than the server's maximum packet size of ${maximumPacketSize} bytes`,
          ),
        );
        continue;
      }
      let wire: WirePublish | undefined;
      if (op.kind === OP_PUBLISH) {
        wire = op.packet as WirePublish;
        if (op.qos > settings.maximumQos) {
          queue.shift();
          this.#failOperation(
            op,
            new Mqtt5Error(
              'AWS_ERROR_MQTT5_PUBLISH_OPTIONS_VALIDATION',
              `publish: QoS ${op.qos} is above the server's maximum QoS ${settings.maximumQos}`,
            ),
          );
          continue;
        }
        if (wire.retain === true && !settings.retainAvailable) {
          queue.shift();
          this.#failOperation(
            op,
            new Mqtt5Error(
              'AWS_ERROR_MQTT5_PUBLISH_OPTIONS_VALIDATION',
              'publish: the server does not support retained messages',
            ),
          );
          continue;
        }
        // Flow control on the head of the queue (head-of-line blocking, as the reference client).
        if (op.qos === 1 && this.#qos1InFlight >= settings.receiveMaximumFromServer) break;
        if (publishRate !== undefined && publishRate.available() < 1) {
          flowWaitMs = publishRate.msUntilAvailable(1);
          break;
        }
        if (aliasing) opSize += ALIAS_SLACK;
      }
      if (size > 0 && size + opSize > BATCH_LIMIT) break;
      if (throughput !== undefined && throughput.available() < Math.min(opSize, IOT_CORE_LIMITS.bytesPerSecond)) {
        if (size === 0) flowWaitMs = throughput.msUntilAvailable(opSize);
        break;
      }
      const needsId = op.kind !== OP_PUBLISH || op.qos !== 0;
      if (needsId && op.packetId === 0 && (this.#idTable?.size ?? 0) >= MAX_PACKET_ID && this.#allocatePacketId() === 0)
        break;

      // Committed: nothing below blocks the operation any more.
      queue.shift();
      if (wire !== undefined) {
        publishRate?.tryTake(1);
        if (aliasing) {
          const topicName = wire.topicName;
          let alias: number;
          try {
            alias = this.#outboundAliases.resolve(topicName, wire.topicAlias);
          } catch (error) {
            this.#failOperation(op, error as Error);
            continue;
          }
          if (alias !== 0) {
            op.userAlias = wire.topicAlias;
            // Encoded from this form; restored after encoding (the stored packet keeps its topic).
            wire.topicAlias = alias > 0 ? alias : -alias;
            if (alias < 0) wire.topicName = '';
            opSize = encodedSize(wire);
            op.aliasedTopic = topicName;
          } else {
            opSize = op.wireSize;
          }
          if (opSize > maximumPacketSize) {
            this.#restoreTopic(op, wire);
            this.#outboundAliases.reset(settings.topicAliasMaximumToServer);
            this.#failOperation(
              op,
              new Mqtt5Error(
                'AWS_ERROR_MQTT5_PACKET_VALIDATION',
                `the packet is ${opSize} bytes with its topic alias, more than the server's maximum packet size of ${maximumPacketSize} bytes`,
              ),
            );
            continue;
          }
        }
      }
      throughput?.tryTake(opSize);
      if (op.kind === OP_PUBLISH && op.qos === 1) this.#qos1InFlight++;
      if (needsId) {
        if (op.packetId === 0) {
          const id = this.#allocatePacketId();
          op.packetId = id;
          (op.packet as { packetId?: number }).packetId = id;
        }
        (this.#idTable ??= new Map()).set(op.packetId, op);
      }
      batch.push(op);
      size += opSize;
    }

    if (flowWaitMs > 0) {
      this.#flowWaitAt = this.#deadlineIn(flowWaitMs);
      this.#armTimer(this.#flowWaitAt);
    }
    if (size === 0) return;

    const now = this.#deadlineBase();
    const buffer = Buffer.allocUnsafe(size);
    let offset = this.#encodeControl(conn, buffer, 0);
    const defaultAckMs = this.#config.ackTimeoutSeconds * 1000;
    let unacked = false;
    for (let i = 0; i < batch.length; i++) {
      const op = batch[i] as Operation;
      try {
        offset = encodeInto(op.packet as Packet, buffer, offset);
      } catch (error) {
        if (op.aliasedTopic !== undefined) this.#outboundAliases.reset(settings.topicAliasMaximumToServer);
        this.#restoreTopic(op, op.packet as WirePublish);
        if (op.kind === OP_PUBLISH && op.qos === 1) this.#qos1InFlight--;
        this.#failOperation(
          op,
          new Mqtt5Error(
            'AWS_ERROR_MQTT5_ENCODE_FAILURE',
            `the packet could not be encoded: ${(error as Error).message}`,
            {
              cause: error,
            },
          ),
        );
        continue;
      }
      if (op.aliasedTopic !== undefined) this.#restoreTopic(op, op.packet as WirePublish);
      if (op.kind === OP_PUBLISH && op.qos === 0) {
        op.state = OP_WRITING;
        (conn.writeOps ??= []).push(op);
      } else {
        op.state = OP_UNACKED;
        op.deadline = now + (op.ackTimeoutMs || defaultAckMs);
        (this.#ackDeadlines ??= new AckDeadlines()).add(op);
        unacked = true;
        if (!op.settled) {
          op.countedUnacked = true;
          this.#unackedCount++;
          this.#unackedSize += op.statSize;
        }
      }
    }
    batch.length = 0;
    if (unacked) this.#armTimer((this.#ackDeadlines as AckDeadlines).earliest());
    if (offset === 0) return;
    this.#write(conn, offset === size ? buffer : buffer.subarray(0, offset));
  }

  /** Puts back the topic and the user's alias after an aliased encoding. */
  #restoreTopic(op: Operation, wire: WirePublish): void {
    const topic = op.aliasedTopic;
    if (topic === undefined) return;
    op.aliasedTopic = undefined;
    wire.topicName = topic;
    wire.topicAlias =
      this.#config.topicAliasing.outboundBehavior === OutboundTopicAliasBehaviorType.Manual ? op.userAlias : undefined;
  }

  // -------------------------------------------------------------------------------------------
  // Receiving

  #onData(conn: Connection, chunk: Buffer): void {
    if (conn.closed || conn.ignoreInbound) return;
    try {
      (conn.decoder as Decoder).feed(chunk);
    } catch (error) {
      this.#protocolError(conn, error);
    }
  }

  #onPacket(conn: Connection, packet: Packet): void {
    if (conn.closed || conn.ignoreInbound) return;
    try {
      switch (packet.type) {
        case PacketType.Publish:
          this.#onPublish(conn, packet as IncomingPublishPacket);
          return;
        case PacketType.Puback:
          this.#onAck(conn, packet, OP_PUBLISH, 'PUBACK');
          return;
        case PacketType.Suback:
          this.#onAck(conn, packet, OP_SUBSCRIBE, 'SUBACK');
          return;
        case PacketType.Unsuback:
          this.#onAck(conn, packet, OP_UNSUBSCRIBE, 'UNSUBACK');
          return;
        case PacketType.Pingresp:
          if (!conn.successful) throw protocolError('PINGRESP before CONNACK');
          this.#pingDeadline = 0;
          return;
        case PacketType.Connack:
          this.#onConnack(conn, packet);
          return;
        case PacketType.Disconnect:
          this.#onServerDisconnect(conn, packet);
          return;
        default:
          throw protocolError(
            `unexpected ${PacketType[packet.type] ?? `type ${String(packet.type)}`} packet from the server`,
          );
      }
    } catch (error) {
      this.#protocolError(conn, error);
    }
  }

  #protocolError(conn: Connection, error: unknown): void {
    if (conn.closed) return;
    conn.ignoreInbound = true;
    const mqttError =
      Mqtt5Error.isInstance(error) && error.code === 'AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR'
        ? error
        : new Mqtt5Error(
            'AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR',
            `invalid data from the server: ${describeThrown(error)}`,
            { cause: error },
          );
    const reason =
      mqttError.reasonCode === DisconnectReasonCode.PacketTooLarge ||
      mqttError.reasonCode === DisconnectReasonCode.ReceiveMaximumExceeded ||
      mqttError.reasonCode === DisconnectReasonCode.TopicAliasInvalid
        ? mqttError.reasonCode
        : DisconnectReasonCode.ProtocolError;
    this.#shutdown(conn, mqttError, reason);
  }

  #onServerDisconnect(conn: Connection, packet: DisconnectPacket): void {
    conn.serverDisconnect = packet;
    conn.ignoreInbound = true;
    this.#shutdown(
      conn,
      new Mqtt5Error(
        'AWS_ERROR_MQTT5_DISCONNECT_RECEIVED',
        `the server sent DISCONNECT with reason ${describeReason(packet.reasonCode, DISCONNECT_REASON_NAMES, packet.reasonString)}`,
        { reasonCode: packet.reasonCode, packet: packet as Packet },
      ),
    );
  }

  #onAck(conn: Connection, packet: PubackPacket | SubackPacket | UnsubackPacket, kind: number, name: string): void {
    if (!conn.successful) throw protocolError(`${name} before CONNACK`);
    const table = this.#idTable;
    const id = packet.packetId;
    const op = table?.get(id);
    if (op === undefined || op.state === OP_QUEUED) {
      if (debug.enabled) debug('client %d: %s for unknown packet id %d ignored', debugIdOf(this), name, id);
      return;
    }
    if (op.kind !== kind) {
      throw protocolError(`${name} for packet id ${id}, which belongs to a pending ${KIND_NAMES[op.kind]}`);
    }
    (table as Map<number, Operation>).delete(id);
    // The freed packet id may unblock a queue that ran out of them.
    if (this.#queue !== undefined && this.#queue.length > 0) this.#scheduleService();
    if (op.state === OP_DONE) return; // a late ack after the ack timeout: the id is free again
    this.#ackDeadlines?.remove(op);
    op.state = OP_DONE;
    if (kind === OP_PUBLISH) {
      this.#qos1InFlight--;
      this.#scheduleService();
    } else {
      const requested =
        kind === OP_SUBSCRIBE
          ? (op.packet as SubscribePacket).subscriptions.length
          : (op.packet as UnsubscribePacket).topicFilters.length;
      const received = (packet as SubackPacket | UnsubackPacket).reasonCodes.length;
      if (requested !== received) {
        const error = protocolError(
          `${name} for packet id ${id} has ${received} reason codes for ${requested} requested topic filters`,
        );
        this.#failOperation(op, error);
        throw error;
      }
    }
    this.#completeOperation(op, packet);
  }

  #onPublish(conn: Connection, message: IncomingPublishPacket): void {
    if (!conn.successful) throw protocolError('PUBLISH before CONNACK');
    // Ending (e.g. stop(packet) from a listener of an earlier PUBLISH of this chunk): like stop(),
    // nothing more is delivered or acknowledged (the server redelivers QoS 1 on a resumed session).
    if (conn.closing) return;
    if (message.qos === 2) throw protocolError('QoS 2 PUBLISH received, but the client never subscribes with QoS 2');
    if (message.topicAlias !== undefined || message.topicName === '') {
      const settings = this.#settings as NegotiatedSettings;
      const resolver = (this.#inboundAliases ??= new InboundTopicAliasResolver(settings.topicAliasMaximumToClient));
      const topic = resolver.resolve(message.topicName, message.topicAlias);
      message.topicName = topic;
    }
    if (message.qos === 1) {
      const receiveMaximum = this.#config.connectProperties.receiveMaximum ?? DEFAULT_RECEIVE_MAXIMUM;
      if (++conn.inboundUnacked > receiveMaximum) {
        throw new Mqtt5Error(
          'AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR',
          `the server sent more than the client's receive maximum of ${receiveMaximum} unacknowledged QoS 1 PUBLISHes`,
          { reasonCode: DisconnectReasonCode.ReceiveMaximumExceeded },
        );
      }
    }
    const event = new ReceivedMessage(conn, message);
    if (this.#events !== undefined) this.#queueEvent(EVENT_MESSAGE, event);
    else this.#deliver(event);
  }

  #deliver(event: ReceivedMessage): void {
    this.#dispatch(EVENT_MESSAGE, event);
    event.settle();
  }

  // -------------------------------------------------------------------------------------------
  // Events

  #queueEvent(name: string, payload: unknown): void {
    const events = this.#events;
    if (events !== undefined) {
      events.push(name, payload); // a flush is scheduled (or running: it delivers these too)
      return;
    }
    this.#events = [name, payload];
    process.nextTick(flushEventsOf, this);
  }

  #flushEvents(): void {
    const events = this.#events;
    if (events === undefined) return;
    try {
      for (let i = 0; i < events.length; i += 2) {
        const name = events[i] as string;
        const payload = events[i + 1];
        events[i] = undefined;
        events[i + 1] = undefined;
        if (name === EVENT_MESSAGE) this.#deliver(payload as ReceivedMessage);
        else this.#dispatch(name, payload);
      }
    } finally {
      this.#events = undefined;
    }
  }

  /** Calls every listener of `name`; a listener that throws (or rejects) affects no other. */
  #dispatch(name: string, event: unknown): void {
    const listeners = this.rawListeners(name as keyof Mqtt5ClientEvents) as unknown as Listener[];
    for (let i = 0; i < listeners.length; i++) {
      try {
        const result = (listeners[i] as Listener).call(this, event);
        if (result !== undefined && result !== null && typeof (result as Promise<unknown>).then === 'function') {
          (result as Promise<unknown>).then(undefined, (error: unknown) => this.#listenerFailed(name, error));
        }
      } catch (error) {
        this.#listenerFailed(name, error);
      }
    }
  }

  #listenerFailed(name: string, error: unknown): void {
    const message = describeThrown(error);
    if (debug.enabled) debug('client %d: a %s listener threw: %s', debugIdOf(this), name, message);
    if (this.#listenerErrorWarned) return;
    this.#listenerErrorWarned = true;
    process.emitWarning(
      `an Mqtt5Client '${name}' listener threw (the client carries on; further ones are logged with NODE_DEBUG=mqtt5): ${message}`,
      {
        code: 'MQTT5_LISTENER_ERROR',
      },
    );
  }

  // -------------------------------------------------------------------------------------------

  #checkDisconnect(disconnect: DisconnectPacket): DisconnectPacket & { type: PacketType.Disconnect } {
    const invalid = validateDisconnect(disconnect);
    if (invalid !== undefined) throw invalid;
    const expiry = disconnect.sessionExpiryIntervalSeconds;
    if (
      expiry !== undefined &&
      expiry > 0 &&
      !((this.#config.connectProperties.sessionExpiryIntervalSeconds ?? 0) > 0)
    ) {
      throw new Mqtt5Error(
        'AWS_ERROR_MQTT5_DISCONNECT_OPTIONS_VALIDATION',
        'stop: a DISCONNECT may not set sessionExpiryIntervalSeconds when the CONNECT had none (0)',
      );
    }
    return { ...disconnect, type: PacketType.Disconnect, userProperties: disconnect.userProperties?.slice() };
  }
}

const KIND_NAMES = ['', 'PUBLISH', 'SUBSCRIBE', 'UNSUBSCRIBE'];

const CONNECT_REASON_NAMES: Record<number, string> = {
  128: 'UnspecifiedError',
  129: 'MalformedPacket',
  130: 'ProtocolError',
  131: 'ImplementationSpecificError',
  132: 'UnsupportedProtocolVersion',
  133: 'ClientIdentifierNotValid',
  134: 'BadUsernameOrPassword',
  135: 'NotAuthorized',
  136: 'ServerUnavailable',
  137: 'ServerBusy',
  138: 'Banned',
  140: 'BadAuthenticationMethod',
  144: 'TopicNameInvalid',
  149: 'PacketTooLarge',
  151: 'QuotaExceeded',
  153: 'PayloadFormatInvalid',
  154: 'RetainNotSupported',
  155: 'QosNotSupported',
  156: 'UseAnotherServer',
  157: 'ServerMoved',
  159: 'ConnectionRateExceeded',
};

function tooLarge(size: number, maximum: number): Mqtt5Error {
  return new Mqtt5Error(
    'AWS_ERROR_MQTT5_PACKET_VALIDATION',
    `the packet is ${size} bytes, more than the server's maximum packet size of ${maximum} bytes`,
  );
}

function protocolError(message: string): Mqtt5Error {
  return new Mqtt5Error('AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR', message);
}

function safeDestroy(transport: Transport): void {
  try {
    transport.destroy();
  } catch {
    // A transport that throws from destroy() is already unusable.
  }
}
