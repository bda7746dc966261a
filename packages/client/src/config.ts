/**
 * Client configuration: the enums of the options, the config type, its validation, defaults and the
 * deep-frozen resolved copy the client keeps (changing the caller's object afterwards changes nothing).
 *
 * @packageDocumentation
 */
import { types } from 'node:util';
import {
  type BinaryData,
  type ConnectPacket,
  MAXIMUM_USER_PROPERTIES,
  type Mqtt5ErrorCode,
  Mqtt5Error,
  toBinaryBuffer,
  validateConnect,
} from '@mqtt5/codec';
import { type Clock, systemClock } from './clock.js';
import { generateIotCoreClientId, validateConnectForIotCore } from './iot-core.js';
import type { Connector } from './transport.js';

/** Whether the client asks to resume its session (`cleanStart = false`) when it connects. */
export enum ClientSessionBehavior {
  /** Resolves to {@link ClientSessionBehavior.Clean}. */
  Default = 0,
  /** Always start a clean session. */
  Clean = 1,
  /** Clean session until the first successful connection of a `start()` cycle, then resume. */
  RejoinPostSuccess = 2,
  /** Always ask to resume, also on the first connection (technically spec-breaking). */
  RejoinAlways = 3,
}

/** How the reconnect delay is randomised; formulas in `computeReconnectDelay`. */
export enum RetryJitterType {
  /** Resolves to {@link RetryJitterType.Full}. */
  Default = 0,
  /** Plain exponential backoff: `min(max, min·2^attempt)`. */
  None = 1,
  /** Uniform in `[0, min(max, min·2^attempt)]`. */
  Full = 2,
  /** Depends on the previous delay: `min(max, uniform in [min, 3·previous])`. */
  Decorrelated = 3,
}

/** What happens to operations while the client is not connected. */
export enum ClientOperationQueueBehavior {
  /** Resolves to {@link ClientOperationQueueBehavior.FailQos0PublishOnDisconnect}. */
  Default = 0,
  /** Only QoS 1 PUBLISHes are kept while offline; everything else fails. */
  FailNonQos1PublishOnDisconnect = 1,
  /** QoS 0 PUBLISHes fail while offline; QoS 1 PUBLISH, SUBSCRIBE and UNSUBSCRIBE are kept. */
  FailQos0PublishOnDisconnect = 2,
  /** Everything queued fails on disconnect, and every submission fails while offline. */
  FailAllOnDisconnect = 3,
}

/** How outbound PUBLISHes use topic aliases. */
export enum OutboundTopicAliasBehaviorType {
  /** Resolves to {@link OutboundTopicAliasBehaviorType.Disabled}. */
  Default = 0,
  /** The caller picks each PUBLISH's `topicAlias`. */
  Manual = 1,
  /** The client assigns aliases with a least-recently-used cache; `topicAlias` is ignored. */
  LRU = 2,
  /** No outbound aliasing: `topicAlias` is ignored and the full topic is always sent. */
  Disabled = 3,
}

/** Whether the server may send topic aliases to the client. */
export enum InboundTopicAliasBehaviorType {
  /** Resolves to {@link InboundTopicAliasBehaviorType.Disabled}. */
  Default = 0,
  /** CONNECT advertises a Topic Alias Maximum of `inboundCacheMaxSize`. */
  Enabled = 1,
  /** CONNECT advertises no aliases; any inbound alias is a protocol error. */
  Disabled = 2,
}

/** Extra validation and flow control for a specific broker. */
export enum ClientExtendedValidationAndFlowControl {
  /** Plain MQTT 5. */
  None = 0,
  /**
   * AWS IoT Core: publish rate (100/s) and throughput (512 KiB/s) limits, IoT Core's topic, payload
   * and subscription limits, and a generated client id (`gen` + 32 hex digits) when none is configured.
   */
  AwsIotCoreDefaults = 1,
}

/** Topic alias options of {@link Mqtt5ClientConfig}. */
export interface TopicAliasingOptions {
  /** Outbound aliasing (default Disabled). */
  outboundBehavior?: OutboundTopicAliasBehaviorType;
  /** LRU cache size; the effective size is `min(this, CONNACK topicAliasMaximum)` (1..65535, default 25). */
  outboundCacheMaxSize?: number;
  /** Inbound aliasing (default Disabled). */
  inboundBehavior?: InboundTopicAliasBehaviorType;
  /** Topic Alias Maximum advertised in CONNECT when inbound aliasing is enabled (1..65535, default 25). */
  inboundCacheMaxSize?: number;
}

/**
 * Configuration of an `Mqtt5Client`. A numeric option that is 0 or undefined takes its default
 * ({@link DEFAULTS}); a `Default` enum value takes the documented resolved value.
 */
export interface Mqtt5ClientConfig {
  /** Broker host: informational in the core client (logs, events); required by the `@mqtt5/sdk` facade. */
  hostName?: string;
  /** Broker port (0..65535): informational in the core client. */
  port?: number;
  /** Opens the byte stream of each connection attempt. Required by the core client. */
  connector?: Connector;
  /** Session resumption (default Clean). */
  sessionBehavior?: ClientSessionBehavior;
  /** Reconnect delay randomisation (default Full). */
  retryJitterMode?: RetryJitterType;
  /** Base of the exponential reconnect backoff (default 1000 ms). */
  minReconnectDelayMs?: number;
  /** Cap of the reconnect backoff (default 120000 ms). */
  maxReconnectDelayMs?: number;
  /** Staying connected this long resets the backoff (default 30000 ms). */
  minConnectedTimeToResetReconnectDelayMs?: number;
  /** Wait for PINGRESP (default 30000 ms; effective `min(this, serverKeepAlive·1000/2)`). */
  pingTimeoutMs?: number;
  /** Wait for CONNACK after CONNECT (default 20000 ms). */
  connackTimeoutMs?: number;
  /** Wait for PUBACK/SUBACK/UNSUBACK (default 60 s; cannot be disabled). */
  ackTimeoutSeconds?: number;
  /** Offline queue policy (default FailQos0PublishOnDisconnect). */
  offlineQueueBehavior?: ClientOperationQueueBehavior;
  /** Topic alias options (default: all disabled). */
  topicAliasingOptions?: TopicAliasingOptions;
  /** Broker-specific validation and flow control (default None). */
  extendedValidationAndFlowControlOptions?: ClientExtendedValidationAndFlowControl;
  /** The CONNECT used for every connection (default `{ keepAliveIntervalSeconds: 1200 }`). */
  connectProperties?: ConnectPacket;
  /** Testing hook: the clock of every timer (default {@link systemClock}). */
  clock?: Clock;
  /** Testing hook: random source in [0,1) for jitter (default `Math.random`). */
  random?: () => number;
}

/** The config with every default applied, deep-frozen. Enum fields hold the resolved (non-Default) values. */
export interface ResolvedClientConfig {
  /** Broker host ('' when not given). */
  readonly hostName: string;
  /** Broker port (0 when not given). */
  readonly port: number;
  /** The connector of every connection attempt. */
  readonly connector: Connector;
  /** Never `Default`. */
  readonly sessionBehavior: ClientSessionBehavior;
  /** Never `Default`. */
  readonly retryJitterMode: RetryJitterType;
  /** Backoff base in ms. */
  readonly minReconnectDelayMs: number;
  /** Backoff cap in ms (≥ `minReconnectDelayMs`). */
  readonly maxReconnectDelayMs: number;
  /** Connected time that resets the backoff, in ms. */
  readonly minConnectedTimeToResetReconnectDelayMs: number;
  /** PINGRESP wait in ms (before clamping to half the keep-alive). */
  readonly pingTimeoutMs: number;
  /** CONNACK wait in ms. */
  readonly connackTimeoutMs: number;
  /** Ack wait in seconds. */
  readonly ackTimeoutSeconds: number;
  /** Never `Default`. */
  readonly offlineQueueBehavior: ClientOperationQueueBehavior;
  /** Topic alias options with defaults applied; behaviours never `Default`. */
  readonly topicAliasing: Readonly<Required<TopicAliasingOptions>>;
  /** Broker-specific validation and flow control. */
  readonly extendedValidationAndFlowControlOptions: ClientExtendedValidationAndFlowControl;
  /**
   * Deep-frozen copy of the CONNECT properties (binary fields are private `Buffer` copies, which
   * cannot be frozen; object payloads are JSON strings). `cleanStart` and `topicAliasMaximum` are not
   * kept: the client sets them per connection from `sessionBehavior` and `topicAliasingOptions`.
   * With `AwsIotCoreDefaults` and no client id, `clientId` is a generated `gen…` id.
   */
  readonly connectProperties: Readonly<ConnectPacket>;
  /** The clock of every timer. */
  readonly clock: Clock;
  /** Random source in [0,1). */
  readonly random: () => number;
}

/** Default values of the numeric options (reference client's). */
export const DEFAULTS = Object.freeze({
  minReconnectDelayMs: 1000,
  maxReconnectDelayMs: 120000,
  minConnectedTimeToResetReconnectDelayMs: 30000,
  pingTimeoutMs: 30000,
  connackTimeoutMs: 20000,
  ackTimeoutSeconds: 60,
  keepAliveIntervalSeconds: 1200,
  outboundCacheMaxSize: 25,
  inboundCacheMaxSize: 25,
} as const);

const U16_MAX = 65_535;
const U32_MAX = 4_294_967_295;

const CLIENT: Mqtt5ErrorCode = 'AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION';
const CONNECT: Mqtt5ErrorCode = 'AWS_ERROR_MQTT5_CONNECT_OPTIONS_VALIDATION';

/**
 * Validates a client config synchronously, applies the defaults and returns a deep-frozen resolved
 * copy: changing the caller's object afterwards changes nothing.
 *
 * @throws Mqtt5Error `AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION` for a bad client option (including a
 *   missing `connector`); for bad `connectProperties`, the error of the codec's `validateConnect`
 *   (`AWS_ERROR_MQTT5_CONNECT_OPTIONS_VALIDATION`, or `AWS_ERROR_MQTT5_USER_PROPERTY_VALIDATION` for a
 *   user property, the will's included). Never anything else, whatever the input.
 */
export function resolveClientConfig(config: Mqtt5ClientConfig): ResolvedClientConfig {
  if (!isObject(config)) fail(CLIENT, `the client config must be an object, got ${describe(config)}`);
  const c = config as Record<string, unknown>;

  const connector = c.connector;
  if (connector == null) fail(CLIENT, 'no connector: pass `connector` or use @mqtt5/sdk');
  if (typeof connector !== 'function') fail(CLIENT, `connector must be a function, got ${describe(connector)}`);

  const hostName = c.hostName ?? '';
  if (typeof hostName !== 'string') fail(CLIENT, `hostName must be a string, got ${describe(hostName)}`);
  const port = c.port ?? 0;
  if (!isIntegerIn(port, 0, U16_MAX)) fail(CLIENT, `port must be an integer in 0..65535, got ${describe(port)}`);

  const sessionBehavior = enumOption<ClientSessionBehavior>(c, 'sessionBehavior', ClientSessionBehavior.Clean, 3);
  const retryJitterMode = enumOption<RetryJitterType>(c, 'retryJitterMode', RetryJitterType.Full, 3);
  const offlineQueueBehavior = enumOption<ClientOperationQueueBehavior>(
    c,
    'offlineQueueBehavior',
    ClientOperationQueueBehavior.FailQos0PublishOnDisconnect,
    3,
  );
  const extended = c.extendedValidationAndFlowControlOptions ?? ClientExtendedValidationAndFlowControl.None;
  if (!isIntegerIn(extended, 0, 1)) {
    fail(
      CLIENT,
      `extendedValidationAndFlowControlOptions must be a ClientExtendedValidationAndFlowControl value, got ${describe(extended)}`,
    );
  }

  const minReconnectDelayMs = numberOption(
    c,
    'minReconnectDelayMs',
    DEFAULTS.minReconnectDelayMs,
    Number.MAX_SAFE_INTEGER,
  );
  const maxReconnectDelayMs = numberOption(
    c,
    'maxReconnectDelayMs',
    DEFAULTS.maxReconnectDelayMs,
    Number.MAX_SAFE_INTEGER,
  );
  if (minReconnectDelayMs > maxReconnectDelayMs) {
    fail(
      CLIENT,
      `minReconnectDelayMs (${minReconnectDelayMs}) must not exceed maxReconnectDelayMs (${maxReconnectDelayMs})`,
    );
  }
  const minConnectedTimeToResetReconnectDelayMs = numberOption(
    c,
    'minConnectedTimeToResetReconnectDelayMs',
    DEFAULTS.minConnectedTimeToResetReconnectDelayMs,
    Number.MAX_SAFE_INTEGER,
  );
  const pingTimeoutMs = numberOption(c, 'pingTimeoutMs', DEFAULTS.pingTimeoutMs, Number.MAX_SAFE_INTEGER);
  const connackTimeoutMs = numberOption(c, 'connackTimeoutMs', DEFAULTS.connackTimeoutMs, Number.MAX_SAFE_INTEGER);
  const ackTimeoutSeconds = numberOption(c, 'ackTimeoutSeconds', DEFAULTS.ackTimeoutSeconds, U32_MAX);

  const topicAliasing = resolveTopicAliasing(c.topicAliasingOptions);

  const clock = c.clock ?? systemClock;
  if (!isClock(clock)) fail(CLIENT, 'clock must have now(), setTimeout() and clearTimeout() methods');
  const random = c.random ?? Math.random;
  if (typeof random !== 'function') fail(CLIENT, `random must be a function, got ${describe(random)}`);

  const iot = extended === ClientExtendedValidationAndFlowControl.AwsIotCoreDefaults;
  const connectProperties = resolveConnectProperties(c.connectProperties, iot);

  return Object.freeze({
    hostName: hostName as string,
    port: port as number,
    connector: connector as Connector,
    sessionBehavior,
    retryJitterMode,
    minReconnectDelayMs,
    maxReconnectDelayMs,
    minConnectedTimeToResetReconnectDelayMs,
    pingTimeoutMs,
    connackTimeoutMs,
    ackTimeoutSeconds,
    offlineQueueBehavior,
    topicAliasing,
    extendedValidationAndFlowControlOptions: extended as ClientExtendedValidationAndFlowControl,
    connectProperties,
    clock: clock as Clock,
    random: random as () => number,
  });
}

function resolveTopicAliasing(value: unknown): Readonly<Required<TopicAliasingOptions>> {
  if (value != null && !isObject(value)) fail(CLIENT, `topicAliasingOptions must be an object, got ${describe(value)}`);
  const o = (value ?? {}) as Record<string, unknown>;
  const prefix = 'topicAliasingOptions.';
  const outboundBehavior = enumOption<OutboundTopicAliasBehaviorType>(
    o,
    'outboundBehavior',
    OutboundTopicAliasBehaviorType.Disabled,
    3,
    prefix,
  );
  const outboundCacheMaxSize = numberOption(o, 'outboundCacheMaxSize', DEFAULTS.outboundCacheMaxSize, U16_MAX, prefix);
  const inboundBehavior = enumOption<InboundTopicAliasBehaviorType>(
    o,
    'inboundBehavior',
    InboundTopicAliasBehaviorType.Disabled,
    2,
    prefix,
  );
  const inboundCacheMaxSize = numberOption(o, 'inboundCacheMaxSize', DEFAULTS.inboundCacheMaxSize, U16_MAX, prefix);
  const d = DEFAULT_TOPIC_ALIASING;
  if (
    outboundBehavior === d.outboundBehavior &&
    outboundCacheMaxSize === d.outboundCacheMaxSize &&
    inboundBehavior === d.inboundBehavior &&
    inboundCacheMaxSize === d.inboundCacheMaxSize
  ) {
    return d; // the common case: one frozen object for every client
  }
  return Object.freeze({ outboundBehavior, outboundCacheMaxSize, inboundBehavior, inboundCacheMaxSize });
}

const DEFAULT_TOPIC_ALIASING: Readonly<Required<TopicAliasingOptions>> = Object.freeze({
  outboundBehavior: OutboundTopicAliasBehaviorType.Disabled,
  outboundCacheMaxSize: DEFAULTS.outboundCacheMaxSize,
  inboundBehavior: InboundTopicAliasBehaviorType.Disabled,
  inboundCacheMaxSize: DEFAULTS.inboundCacheMaxSize,
});

/** An enum option whose `Default` (0) or absence resolves to `resolved`; valid values 0..max. */
function enumOption<E extends number>(
  o: Record<string, unknown>,
  name: string,
  resolved: E,
  max: number,
  prefix = '',
): E {
  const value = o[name];
  if (value == null || value === 0) return resolved;
  if (!isIntegerIn(value, 0, max))
    fail(CLIENT, `${prefix}${name} must be one of its enum values (0..${max}), got ${describe(value)}`);
  return value as E;
}

/** A numeric option where 0 or absence means the default; otherwise an integer in 1..max. */
function numberOption(
  o: Record<string, unknown>,
  name: string,
  defaultValue: number,
  max: number,
  prefix = '',
): number {
  const value = o[name];
  if (value == null || value === 0) return defaultValue;
  if (!isIntegerIn(value, 0, max))
    fail(CLIENT, `${prefix}${name} must be an integer in 0..${max}, got ${describe(value)}`);
  return value as number;
}

function isClock(value: unknown): boolean {
  if (!isObject(value)) return false;
  const v = value as Record<string, unknown>;
  return typeof v.now === 'function' && typeof v.setTimeout === 'function' && typeof v.clearTimeout === 'function';
}

// ---------------------------------------------------------------------------------------------
// connectProperties: deep-frozen copy, validated by the codec

/**
 * Copies the CONNECT fields the client sends (absent and null ones skipped; cleanStart,
 * topicAliasMaximum and the will's dup/packetId are the client's to set) and validates the copy
 * with the codec's `validateConnect`, so what is checked is exactly what is kept.
 */
function resolveConnectProperties(value: unknown, iot: boolean): Readonly<ConnectPacket> {
  if (value == null) {
    const generated: ConnectPacket = { keepAliveIntervalSeconds: DEFAULTS.keepAliveIntervalSeconds };
    if (iot) generated.clientId = generateIotCoreClientId();
    return Object.freeze(generated);
  }
  if (!isObject(value)) fail(CONNECT, `connectProperties must be an object, got ${describe(value)}`);
  const p = value as Record<string, unknown>;
  if (p.authenticationMethod != null || p.authenticationData != null) {
    fail(
      CONNECT,
      'enhanced authentication (AUTH) is not supported yet: leave authenticationMethod and authenticationData unset',
    );
  }

  const out = copyFields(p, CONNECT_FIELDS);
  if (iot && (out.clientId === undefined || out.clientId === '')) out.clientId = generateIotCoreClientId();
  const error = validateConnect(out) ?? (iot ? validateConnectForIotCore(out as unknown as ConnectPacket) : undefined);
  if (error) throw error;
  return Object.freeze(out) as unknown as ConnectPacket;
}

type Copier = (value: unknown) => unknown;
const keep: Copier = (value) => value;

const WILL_FIELDS: Readonly<Record<string, Copier>> = {
  topicName: keep,
  qos: keep,
  retain: keep,
  payloadFormat: keep,
  payload: copyPayload,
  messageExpiryIntervalSeconds: keep,
  topicAlias: keep, // copied only to be rejected: a will cannot use a topic alias
  responseTopic: keep,
  correlationData: copyBinary,
  subscriptionIdentifiers: (value) => (Array.isArray(value) ? Object.freeze([...value]) : value),
  contentType: keep,
  userProperties: copyUserProperties,
};

const CONNECT_FIELDS: Readonly<Record<string, Copier>> = {
  keepAliveIntervalSeconds: keep,
  clientId: keep,
  username: keep,
  password: copyBinary,
  sessionExpiryIntervalSeconds: keep,
  requestResponseInformation: keep,
  requestProblemInformation: keep,
  receiveMaximum: keep,
  maximumPacketSizeBytes: keep,
  willDelayIntervalSeconds: keep,
  will: (will) => {
    if (!isObject(will)) return will;
    const copy = copyFields(will as Record<string, unknown>, WILL_FIELDS);
    copy.qos ??= 0; // a will's qos defaults to 0
    return Object.freeze(copy);
  },
  userProperties: copyUserProperties,
};

/** The non-null `fields` of `o`, each through its copier. Values of the wrong type are kept for the validator. */
function copyFields(o: Record<string, unknown>, fields: Readonly<Record<string, Copier>>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const name in fields) {
    const value = o[name];
    if (value != null) copy[name] = (fields[name] as Copier)(value);
  }
  return copy;
}

function copyUserProperties(value: unknown): unknown {
  if (!Array.isArray(value) || value.length > MAXIMUM_USER_PROPERTIES) return value; // the validator rejects these
  return Object.freeze(
    value.map((entry: unknown) => {
      if (!isObject(entry)) return entry;
      const { name, value: v } = entry as Record<string, unknown>;
      return Object.freeze({ name, value: v });
    }),
  );
}

/** Bytes into a private Buffer; strings (immutable) and non-binary values as they are. */
function copyBinary(value: unknown): unknown {
  if (ArrayBuffer.isView(value) || types.isAnyArrayBuffer(value)) {
    return Buffer.from(toBinaryBuffer(value as BinaryData));
  }
  return value;
}

/**
 * A payload's private copy: binary data as {@link copyBinary}, any other object as its JSON text,
 * serialised here once. An object JSON cannot serialise is kept for `validateConnect` to report.
 */
function copyPayload(value: unknown): unknown {
  if (typeof value !== 'object' || ArrayBuffer.isView(value) || types.isAnyArrayBuffer(value)) return copyBinary(value);
  try {
    return (JSON.stringify(value) as string | undefined) ?? value;
  } catch {
    return value;
  }
}

// ---------------------------------------------------------------------------------------------

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isIntegerIn(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/** A short, secret-free description of a bad value for error messages. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'string':
      return value.length > 32 ? `${JSON.stringify(value.slice(0, 32))}…` : JSON.stringify(value);
    default:
      return `a ${typeof value}`;
  }
}

function fail(code: Mqtt5ErrorCode, message: string): never {
  throw new Mqtt5Error(code, message);
}
