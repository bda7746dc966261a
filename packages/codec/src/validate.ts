/**
 * Client-side validation of outbound packets, with the rules and error codes of the reference
 * client (aws-c-mqtt `aws_mqtt5_packet_*_view_validate`): run before anything is queued.
 *
 * Every validator returns an `Mqtt5Error` saying exactly what is wrong, or `undefined`; none throws,
 * whatever it is given (`null`, strings for numbers, out-of-range or non-integer numbers, …). The
 * common valid case allocates nothing. Packets are checked as the user gives them: QoS 2 is valid
 * here (the client decides what it supports), and packet identifiers must be left unset.
 *
 * String values of user properties, passwords and authentication data are never echoed in messages.
 *
 * @packageDocumentation
 */
import { isUtf8 } from 'node:buffer';
import { types } from 'node:util';
import {
  MAXIMUM_STRING_BYTES,
  MAXIMUM_TOPIC_FILTERS,
  MAXIMUM_USER_PROPERTIES,
  MAXIMUM_VARIABLE_BYTE_INTEGER,
  isValidReasonCode,
} from './constants.js';
import { Mqtt5Error, type Mqtt5ErrorCode } from './errors.js';
import { PacketType } from './packets.js';
import { toPayloadBuffer } from './payload.js';
import { isSharedSubscription, quote, stringProblem, topicFilterProblem, topicNameProblem } from './topics.js';

const PUBLISH = 'AWS_ERROR_MQTT5_PUBLISH_OPTIONS_VALIDATION';
const SUBSCRIBE = 'AWS_ERROR_MQTT5_SUBSCRIBE_OPTIONS_VALIDATION';
const UNSUBSCRIBE = 'AWS_ERROR_MQTT5_UNSUBSCRIBE_OPTIONS_VALIDATION';
const DISCONNECT = 'AWS_ERROR_MQTT5_DISCONNECT_OPTIONS_VALIDATION';
const CONNECT = 'AWS_ERROR_MQTT5_CONNECT_OPTIONS_VALIDATION';
const USER_PROPERTY = 'AWS_ERROR_MQTT5_USER_PROPERTY_VALIDATION';

type Fields = Record<string, unknown>;

/** A value for an error message: numbers as they are, strings quoted, other things by kind. */
function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  switch (typeof v) {
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(v);
    case 'bigint':
      return `${v}n`;
    case 'string':
      return `string ${quote(v)}`;
    case 'object':
      return 'an object';
    default:
      return `a ${typeof v}`;
  }
}

function isInt(v: unknown, min: number, max: number): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

/** `${field} must be an integer min..max, got …` when an optional integer is out of range. */
function optionalInt(o: Fields, field: string, min: number, max: number): string | undefined {
  const v = o[field];
  if (v === undefined || isInt(v, min, max)) return undefined;
  return `${field} must be an integer ${min}..${max}, got ${describe(v)}`;
}
function optionalBool(o: Fields, field: string): string | undefined {
  const v = o[field];
  if (v === undefined || typeof v === 'boolean') return undefined;
  return `${field} must be a boolean, got ${describe(v)}`;
}
function optionalString(o: Fields, field: string): string | undefined {
  const v = o[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') return `${field} must be a string, got ${describe(v)}`;
  const problem = stringProblem(v);
  return problem === undefined ? undefined : `${field} ${problem}`;
}
/** The byte length of binary data (exact when it matters: over 21845 UTF-16 units), -1 when not binary. */
function binaryLength(v: unknown): number {
  if (typeof v === 'string') return v.length > MAXIMUM_STRING_BYTES / 3 ? Buffer.byteLength(v) : v.length;
  if (ArrayBuffer.isView(v) || types.isAnyArrayBuffer(v)) return v.byteLength;
  return -1;
}
function optionalBinary(o: Fields, field: string): string | undefined {
  const v = o[field];
  if (v === undefined) return undefined;
  const n = binaryLength(v);
  if (n < 0)
    return `${field} must be a string, Uint8Array, ArrayBufferView or ArrayBuffer, got ${v === null ? 'null' : typeof v}`;
  return n > MAXIMUM_STRING_BYTES ? `${field} must be at most ${MAXIMUM_STRING_BYTES} bytes, got ${n}` : undefined;
}
function unsetPacketId(o: Fields): string | undefined {
  const v = o.packetId;
  if (v === undefined || v === 0) return undefined;
  return `packetId is managed by the client and must be left unset, got ${describe(v)}`;
}
function isObject(v: unknown): v is Fields {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function fail(code: Mqtt5ErrorCode, context: string, problem: string): Mqtt5Error {
  return new Mqtt5Error(code, `${context}: ${problem}`);
}

/** True when `s` has no unpaired surrogate (it encodes to well-formed UTF-8). */
function isWellFormedString(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    const d = s.charCodeAt(i + 1);
    if (c >= 0xdc00 || !(d >= 0xdc00 && d <= 0xdfff)) return false;
    i++;
  }
  return true;
}

/**
 * Checks a list of user properties: an array of at most 1024 `{ name, value }` objects whose
 * strings are at most 65535 UTF-8 bytes of valid MQTT UTF-8. Empty names and values and repeated
 * names are allowed.
 *
 * @param userProperties - the list (`undefined` is valid).
 * @param context - how messages name the packet, e.g. `'publish'`.
 * @returns an `AWS_ERROR_MQTT5_USER_PROPERTY_VALIDATION` error, or `undefined` when valid.
 */
export function validateUserProperties(userProperties: unknown, context = 'packet'): Mqtt5Error | undefined {
  if (userProperties === undefined) return undefined;
  if (!Array.isArray(userProperties)) {
    return fail(USER_PROPERTY, context, `userProperties must be an array, got ${describe(userProperties)}`);
  }
  if (userProperties.length > MAXIMUM_USER_PROPERTIES) {
    return fail(
      USER_PROPERTY,
      context,
      `userProperties has ${userProperties.length} entries, at most ${MAXIMUM_USER_PROPERTIES} are allowed`,
    );
  }
  for (let i = 0; i < userProperties.length; i++) {
    const u: unknown = userProperties[i];
    if (!isObject(u)) return fail(USER_PROPERTY, context, `userProperties[${i}] must be an object, got ${describe(u)}`);
    const problem = userPropertyStringProblem(u.name, 'name') ?? userPropertyStringProblem(u.value, 'value');
    if (problem !== undefined) return fail(USER_PROPERTY, context, `userProperties[${i}].${problem}`);
  }
  return undefined;
}

function userPropertyStringProblem(v: unknown, field: string): string | undefined {
  if (typeof v !== 'string') return `${field} must be a string, got ${typeof v === 'object' ? describe(v) : typeof v}`;
  const problem = stringProblem(v);
  return problem === undefined ? undefined : `${field} ${problem}`;
}

function publishProblem(p: Fields): string | undefined {
  if (p.type !== undefined && p.type !== PacketType.Publish)
    return `type must be PacketType.Publish (3) or unset, got ${describe(p.type)}`;
  const qos = p.qos;
  if (qos !== 0 && qos !== 1 && qos !== 2) return `qos must be 0, 1 or 2, got ${describe(qos)}`;
  const topic = p.topicName;
  if (typeof topic !== 'string') return `topicName must be a string, got ${describe(topic)}`;
  const topicProblem = topicNameProblem(topic);
  if (topicProblem !== undefined) return `topicName ${topicProblem}`;
  let problem = optionalBool(p, 'retain') ?? optionalBool(p, 'dup');
  if (problem !== undefined) return problem;
  if (p.dup === true && qos === 0) return 'dup must not be set on a QoS 0 publish';
  problem = unsetPacketId(p);
  if (problem !== undefined) return problem;
  const payload = p.payload;
  if (payload !== undefined && payload !== null && typeof payload !== 'string' && typeof payload !== 'object') {
    return `payload must be a string, bytes or an object, got ${describe(payload)}`;
  }
  const format = p.payloadFormat;
  if (format !== undefined) {
    if (format !== 0 && format !== 1) return `payloadFormat must be 0 (Bytes) or 1 (Utf8), got ${describe(format)}`;
    if (format === 1 && payload !== undefined && payload !== null) {
      if (typeof payload === 'string') {
        if (!isWellFormedString(payload))
          return 'payloadFormat is Utf8 but the payload string has an unpaired surrogate';
      } else if (ArrayBuffer.isView(payload) || types.isAnyArrayBuffer(payload)) {
        const bytes = ArrayBuffer.isView(payload)
          ? new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength)
          : new Uint8Array(payload);
        if (!isUtf8(bytes)) return 'payloadFormat is Utf8 but the payload is not well-formed UTF-8';
      }
    }
  }
  problem = optionalInt(p, 'messageExpiryIntervalSeconds', 0, 0xffffffff) ?? optionalInt(p, 'topicAlias', 1, 0xffff);
  if (problem !== undefined) return problem;
  const responseTopic = p.responseTopic;
  if (responseTopic !== undefined) {
    if (typeof responseTopic !== 'string') return `responseTopic must be a string, got ${describe(responseTopic)}`;
    const rtProblem = topicNameProblem(responseTopic);
    if (rtProblem !== undefined) return `responseTopic ${rtProblem}`;
  }
  problem = optionalBinary(p, 'correlationData') ?? optionalString(p, 'contentType');
  if (problem !== undefined) return problem;
  const ids = p.subscriptionIdentifiers;
  if (ids !== undefined && !(Array.isArray(ids) && ids.length === 0)) {
    return 'subscriptionIdentifiers are set by the server on delivery and must not be sent';
  }
  return undefined;
}

/**
 * Checks an outbound PUBLISH (reference §3.2): qos 0..2; a topic name that is non-empty, at most
 * 65535 bytes, valid MQTT UTF-8 and without wildcards (also when a topic alias is used); no DUP on
 * QoS 0 and no packet identifier; payloadFormat 0 or 1, and a well-formed UTF-8 payload when 1;
 * messageExpiryIntervalSeconds 0..4294967295; topicAlias 1..65535; a valid responseTopic;
 * correlationData and contentType at most 65535 bytes; no subscriptionIdentifiers; user properties.
 *
 * @returns an `AWS_ERROR_MQTT5_PUBLISH_OPTIONS_VALIDATION` error (`AWS_ERROR_MQTT5_USER_PROPERTY_VALIDATION`
 * for a user property), or `undefined` when the packet is valid.
 */
export function validatePublish(packet: unknown): Mqtt5Error | undefined {
  if (!isObject(packet)) return fail(PUBLISH, 'publish', `packet must be an object, got ${describe(packet)}`);
  const problem = publishProblem(packet);
  if (problem !== undefined) return fail(PUBLISH, 'publish', problem);
  return validateUserProperties(packet.userProperties, 'publish');
}

/**
 * Checks an outbound SUBSCRIBE (reference §3.2): 1..1024 subscriptions, each with a valid topic
 * filter, qos 0..2, boolean noLocal/retainAsPublished, retainHandlingType 0..2, and no noLocal on a
 * shared subscription; subscriptionIdentifier 1..268435455; no packet identifier; user properties.
 *
 * @returns an `AWS_ERROR_MQTT5_SUBSCRIBE_OPTIONS_VALIDATION` error (`…USER_PROPERTY_VALIDATION` for a
 * user property), or `undefined` when the packet is valid.
 */
export function validateSubscribe(packet: unknown): Mqtt5Error | undefined {
  if (!isObject(packet)) return fail(SUBSCRIBE, 'subscribe', `packet must be an object, got ${describe(packet)}`);
  const problem = subscribeProblem(packet);
  if (problem !== undefined) return fail(SUBSCRIBE, 'subscribe', problem);
  return validateUserProperties(packet.userProperties, 'subscribe');
}

function subscribeProblem(p: Fields): string | undefined {
  if (p.type !== undefined && p.type !== PacketType.Subscribe)
    return `type must be PacketType.Subscribe (8) or unset, got ${describe(p.type)}`;
  const subs = p.subscriptions;
  if (!Array.isArray(subs)) return `subscriptions must be an array, got ${describe(subs)}`;
  if (subs.length === 0) return 'subscriptions must not be empty';
  if (subs.length > MAXIMUM_TOPIC_FILTERS)
    return `subscriptions has ${subs.length} entries, at most ${MAXIMUM_TOPIC_FILTERS} are allowed`;
  for (let i = 0; i < subs.length; i++) {
    const s: unknown = subs[i];
    if (!isObject(s)) return `subscriptions[${i}] must be an object, got ${describe(s)}`;
    const filter = s.topicFilter;
    if (typeof filter !== 'string') return `subscriptions[${i}].topicFilter must be a string, got ${describe(filter)}`;
    const filterProblem = topicFilterProblem(filter);
    if (filterProblem !== undefined) return `subscriptions[${i}].topicFilter ${filterProblem}`;
    const qos = s.qos;
    if (qos !== 0 && qos !== 1 && qos !== 2) return `subscriptions[${i}].qos must be 0, 1 or 2, got ${describe(qos)}`;
    const problem =
      optionalBool(s, 'noLocal') ?? optionalBool(s, 'retainAsPublished') ?? optionalInt(s, 'retainHandlingType', 0, 2);
    if (problem !== undefined) return `subscriptions[${i}].${problem}`;
    if (s.noLocal === true && isSharedSubscription(filter)) {
      return `subscriptions[${i}].noLocal must not be set on a shared subscription: ${quote(filter)}`;
    }
  }
  return optionalInt(p, 'subscriptionIdentifier', 1, MAXIMUM_VARIABLE_BYTE_INTEGER) ?? unsetPacketId(p);
}

/**
 * Checks an outbound UNSUBSCRIBE (reference §3.2): 1..1024 valid topic filters, no packet
 * identifier, user properties.
 *
 * @returns an `AWS_ERROR_MQTT5_UNSUBSCRIBE_OPTIONS_VALIDATION` error (`…USER_PROPERTY_VALIDATION` for a
 * user property), or `undefined` when the packet is valid.
 */
export function validateUnsubscribe(packet: unknown): Mqtt5Error | undefined {
  if (!isObject(packet)) return fail(UNSUBSCRIBE, 'unsubscribe', `packet must be an object, got ${describe(packet)}`);
  const problem = unsubscribeProblem(packet);
  if (problem !== undefined) return fail(UNSUBSCRIBE, 'unsubscribe', problem);
  return validateUserProperties(packet.userProperties, 'unsubscribe');
}

function unsubscribeProblem(p: Fields): string | undefined {
  if (p.type !== undefined && p.type !== PacketType.Unsubscribe)
    return `type must be PacketType.Unsubscribe (10) or unset, got ${describe(p.type)}`;
  const filters = p.topicFilters;
  if (!Array.isArray(filters)) return `topicFilters must be an array, got ${describe(filters)}`;
  if (filters.length === 0) return 'topicFilters must not be empty';
  if (filters.length > MAXIMUM_TOPIC_FILTERS)
    return `topicFilters has ${filters.length} entries, at most ${MAXIMUM_TOPIC_FILTERS} are allowed`;
  for (let i = 0; i < filters.length; i++) {
    const f: unknown = filters[i];
    if (typeof f !== 'string') return `topicFilters[${i}] must be a string, got ${describe(f)}`;
    const problem = topicFilterProblem(f);
    if (problem !== undefined) return `topicFilters[${i}] ${problem}`;
  }
  return unsetPacketId(p);
}

/**
 * Checks an outbound DISCONNECT (reference §3.2): reasonCode a DISCONNECT reason code;
 * sessionExpiryIntervalSeconds 0..4294967295; reasonString at most 65535 bytes of valid MQTT UTF-8;
 * no serverReference (only a server sends one); user properties.
 *
 * @returns an `AWS_ERROR_MQTT5_DISCONNECT_OPTIONS_VALIDATION` error (`…USER_PROPERTY_VALIDATION` for a
 * user property), or `undefined` when the packet is valid.
 */
export function validateDisconnect(packet: unknown): Mqtt5Error | undefined {
  if (!isObject(packet)) return fail(DISCONNECT, 'disconnect', `packet must be an object, got ${describe(packet)}`);
  const problem = disconnectProblem(packet);
  if (problem !== undefined) return fail(DISCONNECT, 'disconnect', problem);
  return validateUserProperties(packet.userProperties, 'disconnect');
}

function disconnectProblem(p: Fields): string | undefined {
  if (p.type !== undefined && p.type !== PacketType.Disconnect)
    return `type must be PacketType.Disconnect (14) or unset, got ${describe(p.type)}`;
  const rc = p.reasonCode;
  if (typeof rc !== 'number' || !isValidReasonCode(PacketType.Disconnect, rc)) {
    return `reasonCode must be a DISCONNECT reason code (DisconnectReasonCode), got ${describe(rc)}`;
  }
  const problem = optionalInt(p, 'sessionExpiryIntervalSeconds', 0, 0xffffffff) ?? optionalString(p, 'reasonString');
  if (problem !== undefined) return problem;
  if (p.serverReference !== undefined) return 'serverReference must not be set: only a server sends it';
  return undefined;
}

/**
 * Checks a CONNECT (the client's `connectProperties`, reference §1): keepAliveIntervalSeconds
 * 0..65535 (required); clientId and username at most 65535 bytes of valid MQTT UTF-8; password at
 * most 65535 bytes; sessionExpiryIntervalSeconds and willDelayIntervalSeconds 0..4294967295; boolean
 * request flags and cleanStart; receiveMaximum 1..65535; maximumPacketSizeBytes 1..4294967295;
 * topicAliasMaximum 0..65535; a will that is a valid PUBLISH without topicAlias and with a payload of
 * at most 65535 bytes; authentication data only with an authentication method; user properties.
 *
 * @returns an `AWS_ERROR_MQTT5_CONNECT_OPTIONS_VALIDATION` error (`…USER_PROPERTY_VALIDATION` for a
 * user property, the will's included), or `undefined` when the packet is valid.
 */
export function validateConnect(packet: unknown): Mqtt5Error | undefined {
  if (!isObject(packet)) return fail(CONNECT, 'connect', `packet must be an object, got ${describe(packet)}`);
  if (packet.type !== undefined && packet.type !== PacketType.Connect) {
    return fail(CONNECT, 'connect', `type must be PacketType.Connect (1) or unset, got ${describe(packet.type)}`);
  }
  if (!isInt(packet.keepAliveIntervalSeconds, 0, 0xffff)) {
    return fail(
      CONNECT,
      'connect',
      `keepAliveIntervalSeconds must be an integer 0..65535, got ${describe(packet.keepAliveIntervalSeconds)}`,
    );
  }
  const problem =
    optionalString(packet, 'clientId') ??
    optionalString(packet, 'username') ??
    optionalBinary(packet, 'password') ??
    optionalInt(packet, 'sessionExpiryIntervalSeconds', 0, 0xffffffff) ??
    optionalBool(packet, 'requestResponseInformation') ??
    optionalBool(packet, 'requestProblemInformation') ??
    optionalInt(packet, 'receiveMaximum', 1, 0xffff) ??
    optionalInt(packet, 'maximumPacketSizeBytes', 1, 0xffffffff) ??
    optionalInt(packet, 'willDelayIntervalSeconds', 0, 0xffffffff) ??
    optionalInt(packet, 'topicAliasMaximum', 0, 0xffff) ??
    optionalBool(packet, 'cleanStart') ??
    optionalString(packet, 'authenticationMethod') ??
    optionalBinary(packet, 'authenticationData');
  if (problem !== undefined) return fail(CONNECT, 'connect', problem);
  if (packet.authenticationData !== undefined && packet.authenticationMethod === undefined) {
    return fail(CONNECT, 'connect', 'authenticationData requires an authenticationMethod');
  }
  const will = packet.will;
  if (will !== undefined) {
    const willError = validateWill(will);
    if (willError !== undefined) return willError;
  }
  return validateUserProperties(packet.userProperties, 'connect');
}

function validateWill(will: unknown): Mqtt5Error | undefined {
  if (!isObject(will)) return fail(CONNECT, 'connect', `will must be an object, got ${describe(will)}`);
  const problem = publishProblem(will);
  if (problem !== undefined) return fail(CONNECT, 'connect: will', problem);
  if (will.topicAlias !== undefined) return fail(CONNECT, 'connect: will', 'topicAlias cannot be used in a will');
  if (will.dup === true) return fail(CONNECT, 'connect: will', 'dup cannot be set in a will');
  let size: number;
  try {
    size = toPayloadBuffer(will.payload as Parameters<typeof toPayloadBuffer>[0]).length;
  } catch (e) {
    return new Mqtt5Error(CONNECT, `connect: will: ${(e as Error).message.replace(/^publish: /, '')}`, { cause: e });
  }
  if (size > MAXIMUM_STRING_BYTES) {
    return fail(CONNECT, 'connect: will', `payload must be at most ${MAXIMUM_STRING_BYTES} bytes, got ${size}`);
  }
  return validateUserProperties(will.userProperties, 'connect: will');
}
