/**
 * The MQTT 5 encoder: one pass measures the packet (and checks that every field fits its wire
 * type), a second pass writes it into a single buffer.
 *
 * The encoder never emits a truncated or ill-framed packet: a string or binary field over 65535
 * bytes, an integer outside its wire type, a QoS outside 0..2, a remaining length over 268435455 or
 * a missing packet identifier throws an `AWS_ERROR_MQTT5_ENCODE_FAILURE` `Mqtt5Error`. It does not
 * apply the client-side rules (topic syntax, MQTT UTF-8, reason-code sets); run the `validate*`
 * functions for those before queueing a packet.
 *
 * @packageDocumentation
 */
import { types } from 'node:util';
import { MAXIMUM_STRING_BYTES, MAXIMUM_VARIABLE_BYTE_INTEGER, PACKET_NAMES } from './constants.js';
import { Mqtt5Error } from './errors.js';
import {
  type AuthPacket,
  type ConnackPacket,
  type ConnectPacket,
  type DisconnectPacket,
  type Packet,
  PacketType,
  type PubackPacket,
  type PubcompPacket,
  type PublishPacket,
  type PubrecPacket,
  type PubrelPacket,
  type SubackPacket,
  type SubscribePacket,
  type UnsubackPacket,
  type UnsubscribePacket,
  type UserProperty,
} from './packets.js';

type AckPacket = PubackPacket | PubrecPacket | PubrelPacket | PubcompPacket;
type SubackLike = SubackPacket | UnsubackPacket;

interface NodeBuffer extends Buffer {
  utf8Write(s: string, offset: number): number;
}
const HAS_UTF8_WRITE = typeof (Buffer.prototype as Partial<NodeBuffer>).utf8Write === 'function';
const EMPTY = new Uint8Array(0);

// ---------------------------------------------------------------------------------------------
// Scratch state of the last measure(): write() runs right after it, synchronously, on the same
// packet, and reads these instead of measuring strings again.
let sRemaining = 0;
let sProps = 0;
let sWillProps = 0;
let sPayload: string | Uint8Array = EMPTY;
let sPayloadLength = 0;

// One-entry cache of a topic's UTF-8 length: the hot path publishes to the same topic again and
// again, and encodedSize() followed by encodeInto() measures it twice.
let lastTopic = '';
let lastTopicLength = 0;

function fail(message: string): never {
  throw new Mqtt5Error('AWS_ERROR_MQTT5_ENCODE_FAILURE', message);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return typeof v;
}

/** Number of bytes of a Variable Byte Integer. */
export function variableByteIntegerLength(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : 4;
}

function checkU8(v: unknown, what: string): number {
  if (typeof v !== 'number' || (v & 0xff) !== v) fail(`${what} must be an integer 0..255, got ${typeName(v)}`);
  return v;
}
function checkU16(v: unknown, what: string): number {
  if (typeof v !== 'number' || (v & 0xffff) !== v) fail(`${what} must be an integer 0..65535, got ${typeName(v)}`);
  return v;
}
function checkU32(v: unknown, what: string): number {
  if (typeof v !== 'number' || v >>> 0 !== v) fail(`${what} must be an integer 0..4294967295, got ${typeName(v)}`);
  return v;
}
function checkVbi(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAXIMUM_VARIABLE_BYTE_INTEGER) {
    fail(`${what} must be an integer 0..${MAXIMUM_VARIABLE_BYTE_INTEGER}, got ${typeName(v)}`);
  }
  return v;
}
function checkBool(v: unknown, what: string): void {
  if (typeof v !== 'boolean') fail(`${what} must be a boolean, got ${typeName(v)}`);
}
function checkQos(v: unknown, what: string): number {
  if (v !== 0 && v !== 1 && v !== 2) fail(`${what} must be 0, 1 or 2, got ${typeName(v)}`);
  return v;
}
function strLen(s: unknown, what: string): number {
  if (typeof s !== 'string') fail(`${what} must be a string, got ${typeName(s)}`);
  const n = Buffer.byteLength(s);
  if (n > MAXIMUM_STRING_BYTES)
    fail(`${what} is ${n} UTF-8 bytes, more than the ${MAXIMUM_STRING_BYTES} a packet can carry`);
  return n;
}
function topicLen(s: unknown, what: string): number {
  if (s === lastTopic) return lastTopicLength;
  const n = strLen(s, what);
  lastTopic = s as string;
  lastTopicLength = n;
  return n;
}
function bytesLen(v: unknown, what: string): number {
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (ArrayBuffer.isView(v) || types.isAnyArrayBuffer(v)) return v.byteLength;
  return fail(`${what} must be a string, Uint8Array, ArrayBufferView or ArrayBuffer, got ${typeName(v)}`);
}
function binLen(v: unknown, what: string): number {
  const n = bytesLen(v, what);
  if (n > MAXIMUM_STRING_BYTES) fail(`${what} is ${n} bytes, more than the ${MAXIMUM_STRING_BYTES} a packet can carry`);
  return n;
}
function userPropsLen(list: unknown, what: string): number {
  if (list === undefined) return 0;
  if (!Array.isArray(list)) fail(`${what} must be an array, got ${typeName(list)}`);
  let n = 0;
  for (let i = 0; i < list.length; i++) {
    const u: unknown = list[i];
    if (typeof u !== 'object' || u === null) fail(`${what}[${i}] must be an object, got ${typeName(u)}`);
    const { name, value } = u as UserProperty;
    n += 5 + strLen(name, `${what}[${i}].name`) + strLen(value, `${what}[${i}].value`);
  }
  return n;
}

/** Normalises a payload for measuring and writing: a string or bytes. */
function payloadOf(payload: unknown, what: string): string | Uint8Array {
  if (payload === undefined || payload === null) return EMPTY;
  if (typeof payload === 'string') return payload;
  if (payload instanceof Uint8Array) return payload;
  if (ArrayBuffer.isView(payload)) return new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
  if (types.isAnyArrayBuffer(payload)) return new Uint8Array(payload);
  if (typeof payload !== 'object') fail(`${what} must be a string, bytes or an object, got ${typeName(payload)}`);
  let json: unknown;
  try {
    json = JSON.stringify(payload);
  } catch (cause) {
    throw new Mqtt5Error('AWS_ERROR_MQTT5_ENCODE_FAILURE', `${what} could not be serialised with JSON.stringify`, {
      cause,
    });
  }
  if (typeof json !== 'string') fail(`${what} serialised to nothing (JSON.stringify returned undefined)`);
  return json;
}
function setPayload(payload: unknown, what: string): number {
  const p = payloadOf(payload, what);
  sPayload = p;
  sPayloadLength = typeof p === 'string' ? Buffer.byteLength(p) : p.byteLength;
  return sPayloadLength;
}

function finish(remaining: number, name: string): number {
  if (remaining > MAXIMUM_VARIABLE_BYTE_INTEGER) {
    fail(`${name} remaining length ${remaining} is over the MQTT maximum of ${MAXIMUM_VARIABLE_BYTE_INTEGER}`);
  }
  sRemaining = remaining;
  return 1 + variableByteIntegerLength(remaining) + remaining;
}

function withProps(props: number): number {
  if (props > MAXIMUM_VARIABLE_BYTE_INTEGER) fail(`property length ${props} is over ${MAXIMUM_VARIABLE_BYTE_INTEGER}`);
  sProps = props;
  return variableByteIntegerLength(props) + props;
}

// ---------------------------------------------------------------------------------------------
// Measuring

function measureConnect(p: ConnectPacket): number {
  let rem = 10; // protocol name (6), version (1), connect flags (1), keep alive (2)
  checkU16(p.keepAliveIntervalSeconds, 'CONNECT keepAliveIntervalSeconds');
  let props = 0;
  if (p.sessionExpiryIntervalSeconds !== undefined) {
    checkU32(p.sessionExpiryIntervalSeconds, 'CONNECT sessionExpiryIntervalSeconds');
    props += 5;
  }
  if (p.receiveMaximum !== undefined) {
    checkU16(p.receiveMaximum, 'CONNECT receiveMaximum');
    props += 3;
  }
  if (p.maximumPacketSizeBytes !== undefined) {
    checkU32(p.maximumPacketSizeBytes, 'CONNECT maximumPacketSizeBytes');
    props += 5;
  }
  if (p.topicAliasMaximum !== undefined) {
    checkU16(p.topicAliasMaximum, 'CONNECT topicAliasMaximum');
    props += 3;
  }
  if (p.requestResponseInformation !== undefined) {
    checkBool(p.requestResponseInformation, 'CONNECT requestResponseInformation');
    props += 2;
  }
  if (p.requestProblemInformation !== undefined) {
    checkBool(p.requestProblemInformation, 'CONNECT requestProblemInformation');
    props += 2;
  }
  props += userPropsLen(p.userProperties, 'CONNECT userProperties');
  if (p.authenticationMethod !== undefined) props += 3 + strLen(p.authenticationMethod, 'CONNECT authenticationMethod');
  if (p.authenticationData !== undefined) props += 3 + binLen(p.authenticationData, 'CONNECT authenticationData');
  rem += withProps(props);
  rem += 2 + (p.clientId === undefined ? 0 : strLen(p.clientId, 'CONNECT clientId'));
  const will = p.will;
  if (will !== undefined) {
    if (typeof will !== 'object' || will === null) fail(`CONNECT will must be an object, got ${typeName(will)}`);
    checkQos(will.qos, 'CONNECT will qos');
    let wp = 0;
    if (p.willDelayIntervalSeconds !== undefined) {
      checkU32(p.willDelayIntervalSeconds, 'CONNECT willDelayIntervalSeconds');
      wp += 5;
    }
    if (will.payloadFormat !== undefined) {
      checkU8(will.payloadFormat, 'CONNECT will payloadFormat');
      wp += 2;
    }
    if (will.messageExpiryIntervalSeconds !== undefined) {
      checkU32(will.messageExpiryIntervalSeconds, 'CONNECT will messageExpiryIntervalSeconds');
      wp += 5;
    }
    if (will.contentType !== undefined) wp += 3 + strLen(will.contentType, 'CONNECT will contentType');
    if (will.responseTopic !== undefined) wp += 3 + strLen(will.responseTopic, 'CONNECT will responseTopic');
    if (will.correlationData !== undefined) wp += 3 + binLen(will.correlationData, 'CONNECT will correlationData');
    wp += userPropsLen(will.userProperties, 'CONNECT will userProperties');
    if (wp > MAXIMUM_VARIABLE_BYTE_INTEGER)
      fail(`CONNECT will property length ${wp} is over ${MAXIMUM_VARIABLE_BYTE_INTEGER}`);
    sWillProps = wp;
    rem += variableByteIntegerLength(wp) + wp;
    rem += 2 + strLen(will.topicName, 'CONNECT will topicName');
    const n = setPayload(will.payload, 'CONNECT will payload');
    if (n > MAXIMUM_STRING_BYTES)
      fail(`CONNECT will payload is ${n} bytes, more than the ${MAXIMUM_STRING_BYTES} a will can carry`);
    rem += 2 + n;
  }
  if (p.username !== undefined) rem += 2 + strLen(p.username, 'CONNECT username');
  if (p.password !== undefined) rem += 2 + binLen(p.password, 'CONNECT password');
  return finish(rem, 'CONNECT');
}

function measureConnack(p: ConnackPacket): number {
  checkU8(p.reasonCode, 'CONNACK reasonCode');
  let props = 0;
  if (p.sessionExpiryInterval !== undefined) {
    checkU32(p.sessionExpiryInterval, 'CONNACK sessionExpiryInterval');
    props += 5;
  }
  if (p.receiveMaximum !== undefined) {
    checkU16(p.receiveMaximum, 'CONNACK receiveMaximum');
    props += 3;
  }
  if (p.maximumQos !== undefined) {
    checkU8(p.maximumQos, 'CONNACK maximumQos');
    props += 2;
  }
  if (p.retainAvailable !== undefined) {
    checkBool(p.retainAvailable, 'CONNACK retainAvailable');
    props += 2;
  }
  if (p.maximumPacketSize !== undefined) {
    checkU32(p.maximumPacketSize, 'CONNACK maximumPacketSize');
    props += 5;
  }
  if (p.assignedClientIdentifier !== undefined) {
    props += 3 + strLen(p.assignedClientIdentifier, 'CONNACK assignedClientIdentifier');
  }
  if (p.topicAliasMaximum !== undefined) {
    checkU16(p.topicAliasMaximum, 'CONNACK topicAliasMaximum');
    props += 3;
  }
  if (p.reasonString !== undefined) props += 3 + strLen(p.reasonString, 'CONNACK reasonString');
  props += userPropsLen(p.userProperties, 'CONNACK userProperties');
  if (p.wildcardSubscriptionsAvailable !== undefined) {
    checkBool(p.wildcardSubscriptionsAvailable, 'CONNACK wildcardSubscriptionsAvailable');
    props += 2;
  }
  if (p.subscriptionIdentifiersAvailable !== undefined) {
    checkBool(p.subscriptionIdentifiersAvailable, 'CONNACK subscriptionIdentifiersAvailable');
    props += 2;
  }
  if (p.sharedSubscriptionsAvailable !== undefined) {
    checkBool(p.sharedSubscriptionsAvailable, 'CONNACK sharedSubscriptionsAvailable');
    props += 2;
  }
  if (p.serverKeepAlive !== undefined) {
    checkU16(p.serverKeepAlive, 'CONNACK serverKeepAlive');
    props += 3;
  }
  if (p.responseInformation !== undefined) props += 3 + strLen(p.responseInformation, 'CONNACK responseInformation');
  if (p.serverReference !== undefined) props += 3 + strLen(p.serverReference, 'CONNACK serverReference');
  if (p.authenticationMethod !== undefined) props += 3 + strLen(p.authenticationMethod, 'CONNACK authenticationMethod');
  if (p.authenticationData !== undefined) props += 3 + binLen(p.authenticationData, 'CONNACK authenticationData');
  return finish(2 + withProps(props), 'CONNACK');
}

function measurePublish(p: PublishPacket): number {
  let rem = 2 + topicLen(p.topicName, 'PUBLISH topicName');
  const qos = checkQos(p.qos, 'PUBLISH qos');
  if (qos !== 0) {
    rem += 2;
    if (p.packetId !== undefined) checkU16(p.packetId, 'PUBLISH packetId');
  }
  let props = 0;
  if (p.payloadFormat !== undefined) {
    checkU8(p.payloadFormat, 'PUBLISH payloadFormat');
    props += 2;
  }
  if (p.messageExpiryIntervalSeconds !== undefined) {
    checkU32(p.messageExpiryIntervalSeconds, 'PUBLISH messageExpiryIntervalSeconds');
    props += 5;
  }
  if (p.topicAlias !== undefined) {
    checkU16(p.topicAlias, 'PUBLISH topicAlias');
    props += 3;
  }
  if (p.responseTopic !== undefined) props += 3 + strLen(p.responseTopic, 'PUBLISH responseTopic');
  if (p.correlationData !== undefined) props += 3 + binLen(p.correlationData, 'PUBLISH correlationData');
  if (p.userProperties !== undefined) props += userPropsLen(p.userProperties, 'PUBLISH userProperties');
  const ids = p.subscriptionIdentifiers;
  if (ids !== undefined) {
    if (!Array.isArray(ids)) fail(`PUBLISH subscriptionIdentifiers must be an array, got ${typeName(ids)}`);
    for (let i = 0; i < ids.length; i++) {
      props += 1 + variableByteIntegerLength(checkVbi(ids[i], `PUBLISH subscriptionIdentifiers[${i}]`));
    }
  }
  if (p.contentType !== undefined) props += 3 + strLen(p.contentType, 'PUBLISH contentType');
  rem += withProps(props);
  rem += setPayload(p.payload, 'PUBLISH payload');
  return finish(rem, 'PUBLISH');
}

function ackPropsLen(p: { reasonString?: string; userProperties?: UserProperty[] }, name: string): number {
  let props = 0;
  if (p.reasonString !== undefined) props += 3 + strLen(p.reasonString, `${name} reasonString`);
  if (p.userProperties !== undefined) props += userPropsLen(p.userProperties, `${name} userProperties`);
  return props;
}

function checkPacketId(v: unknown, name: string): number {
  if (typeof v !== 'number' || (v & 0xffff) !== v || v === 0) {
    fail(`${name} packetId must be an integer 1..65535, got ${typeName(v)}`);
  }
  return v;
}

function measureAck(p: AckPacket, name: string): number {
  checkPacketId(p.packetId, name);
  const rc = checkU8(p.reasonCode, `${name} reasonCode`);
  const props = ackPropsLen(p, name);
  if (props === 0 && rc === 0) {
    sProps = 0;
    return finish(2, name);
  }
  return finish(3 + withProps(props), name);
}

function measureSubscribe(p: SubscribePacket): number {
  if (p.packetId !== undefined) checkU16(p.packetId, 'SUBSCRIBE packetId');
  let props = 0;
  if (p.subscriptionIdentifier !== undefined) {
    props += 1 + variableByteIntegerLength(checkVbi(p.subscriptionIdentifier, 'SUBSCRIBE subscriptionIdentifier'));
  }
  props += userPropsLen(p.userProperties, 'SUBSCRIBE userProperties');
  let rem = 2 + withProps(props);
  const subs: unknown = p.subscriptions;
  if (!Array.isArray(subs) || subs.length === 0) {
    fail(
      `SUBSCRIBE subscriptions must be a non-empty array, got ${Array.isArray(subs) ? 'an empty array' : typeName(subs)}`,
    );
  }
  for (let i = 0; i < subs.length; i++) {
    const s: unknown = subs[i];
    if (typeof s !== 'object' || s === null)
      fail(`SUBSCRIBE subscriptions[${i}] must be an object, got ${typeName(s)}`);
    const sub = s as SubscribePacket['subscriptions'][number];
    checkQos(sub.qos, `SUBSCRIBE subscriptions[${i}].qos`);
    const rh = sub.retainHandlingType;
    if (rh !== undefined && rh !== 0 && rh !== 1 && rh !== 2) {
      fail(`SUBSCRIBE subscriptions[${i}].retainHandlingType must be 0, 1 or 2, got ${typeName(rh)}`);
    }
    rem += 3 + strLen(sub.topicFilter, `SUBSCRIBE subscriptions[${i}].topicFilter`);
  }
  return finish(rem, 'SUBSCRIBE');
}

function measureSuback(p: SubackLike, name: string): number {
  checkPacketId(p.packetId, name);
  let rem = 2 + withProps(ackPropsLen(p, name));
  const codes: unknown = p.reasonCodes;
  if (!Array.isArray(codes) || codes.length === 0) {
    fail(
      `${name} reasonCodes must be a non-empty array, got ${Array.isArray(codes) ? 'an empty array' : typeName(codes)}`,
    );
  }
  for (let i = 0; i < codes.length; i++) checkU8(codes[i], `${name} reasonCodes[${i}]`);
  rem += codes.length;
  return finish(rem, name);
}

function measureUnsubscribe(p: UnsubscribePacket): number {
  if (p.packetId !== undefined) checkU16(p.packetId, 'UNSUBSCRIBE packetId');
  let rem = 2 + withProps(userPropsLen(p.userProperties, 'UNSUBSCRIBE userProperties'));
  const filters: unknown = p.topicFilters;
  if (!Array.isArray(filters) || filters.length === 0) {
    fail(
      `UNSUBSCRIBE topicFilters must be a non-empty array, got ${Array.isArray(filters) ? 'an empty array' : typeName(filters)}`,
    );
  }
  for (let i = 0; i < filters.length; i++) rem += 2 + strLen(filters[i], `UNSUBSCRIBE topicFilters[${i}]`);
  return finish(rem, 'UNSUBSCRIBE');
}

function measureDisconnect(p: DisconnectPacket): number {
  const rc = checkU8(p.reasonCode, 'DISCONNECT reasonCode');
  let props = 0;
  if (p.sessionExpiryIntervalSeconds !== undefined) {
    checkU32(p.sessionExpiryIntervalSeconds, 'DISCONNECT sessionExpiryIntervalSeconds');
    props += 5;
  }
  if (p.reasonString !== undefined) props += 3 + strLen(p.reasonString, 'DISCONNECT reasonString');
  if (p.serverReference !== undefined) props += 3 + strLen(p.serverReference, 'DISCONNECT serverReference');
  props += userPropsLen(p.userProperties, 'DISCONNECT userProperties');
  if (props === 0 && rc === 0) {
    sProps = 0;
    return finish(0, 'DISCONNECT');
  }
  return finish(1 + withProps(props), 'DISCONNECT');
}

function measureAuth(p: AuthPacket): number {
  const rc = checkU8(p.reasonCode, 'AUTH reasonCode');
  let props = 0;
  if (p.authenticationMethod !== undefined) props += 3 + strLen(p.authenticationMethod, 'AUTH authenticationMethod');
  if (p.authenticationData !== undefined) props += 3 + binLen(p.authenticationData, 'AUTH authenticationData');
  if (p.reasonString !== undefined) props += 3 + strLen(p.reasonString, 'AUTH reasonString');
  props += userPropsLen(p.userProperties, 'AUTH userProperties');
  if (props === 0 && rc === 0) {
    sProps = 0;
    return finish(0, 'AUTH');
  }
  return finish(1 + withProps(props), 'AUTH');
}

function measure(packet: Packet): number {
  if (typeof packet !== 'object' || packet === null) fail(`packet must be an object, got ${typeName(packet)}`);
  switch (packet.type) {
    case PacketType.Publish:
      return measurePublish(packet);
    case PacketType.Puback:
      return measureAck(packet, 'PUBACK');
    case PacketType.Pubrec:
      return measureAck(packet, 'PUBREC');
    case PacketType.Pubrel:
      return measureAck(packet, 'PUBREL');
    case PacketType.Pubcomp:
      return measureAck(packet, 'PUBCOMP');
    case PacketType.Connect:
      return measureConnect(packet);
    case PacketType.Connack:
      return measureConnack(packet);
    case PacketType.Subscribe:
      return measureSubscribe(packet);
    case PacketType.Suback:
      return measureSuback(packet, 'SUBACK');
    case PacketType.Unsubscribe:
      return measureUnsubscribe(packet);
    case PacketType.Unsuback:
      return measureSuback(packet, 'UNSUBACK');
    case PacketType.Pingreq:
    case PacketType.Pingresp:
      return finish(0, PACKET_NAMES[packet.type] as string);
    case PacketType.Disconnect:
      return measureDisconnect(packet);
    case PacketType.Auth:
      return measureAuth(packet);
    default:
      return fail(`unknown packet type ${typeName((packet as { type?: unknown }).type)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Writing (every field was checked by measure())

function writeVbi(b: Buffer, o: number, n: number): number {
  while (n > 0x7f) {
    b[o++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  b[o++] = n;
  return o;
}
function writeU16(b: Buffer, o: number, v: number): number {
  b[o] = v >>> 8;
  b[o + 1] = v & 0xff;
  return o + 2;
}
function writeU32(b: Buffer, o: number, v: number): number {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
  return o + 4;
}
function writeUtf8(b: Buffer, s: string, o: number): number {
  return HAS_UTF8_WRITE ? (b as NodeBuffer).utf8Write(s, o) : b.write(s, o, 'utf8');
}
/** Writes the string after its 2-byte length, then fills the length in: no second byteLength. */
function writeStr(b: Buffer, o: number, s: string): number {
  const n = s.length === 0 ? 0 : writeUtf8(b, s, o + 2);
  b[o] = n >>> 8;
  b[o + 1] = n & 0xff;
  return o + 2 + n;
}
function writeBytes(b: Buffer, o: number, v: string | Uint8Array): number {
  if (typeof v === 'string') return v.length === 0 ? o : o + writeUtf8(b, v, o);
  b.set(v, o);
  return o + v.byteLength;
}
function asBytes(v: unknown): string | Uint8Array {
  if (typeof v === 'string' || v instanceof Uint8Array) return v;
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  return new Uint8Array(v as ArrayBuffer);
}
function writeBin(b: Buffer, o: number, v: unknown): number {
  const end = writeBytes(b, o + 2, asBytes(v));
  writeU16(b, o, end - o - 2);
  return end;
}
function writeStrProp(b: Buffer, o: number, id: number, s: string): number {
  b[o] = id;
  return writeStr(b, o + 1, s);
}
function writeUserProps(b: Buffer, o: number, list: UserProperty[] | undefined): number {
  if (list === undefined) return o;
  for (let i = 0; i < list.length; i++) {
    const u = list[i] as UserProperty;
    b[o++] = 0x26;
    o = writeStr(b, o, u.name);
    o = writeStr(b, o, u.value);
  }
  return o;
}
function writeAckProps(b: Buffer, o: number, p: { reasonString?: string; userProperties?: UserProperty[] }): number {
  o = writeVbi(b, o, sProps);
  if (p.reasonString !== undefined) o = writeStrProp(b, o, 0x1f, p.reasonString);
  return writeUserProps(b, o, p.userProperties);
}
function writeBoolProp(b: Buffer, o: number, id: number, v: boolean): number {
  b[o] = id;
  b[o + 1] = v ? 1 : 0;
  return o + 2;
}
function writeU16Prop(b: Buffer, o: number, id: number, v: number): number {
  b[o] = id;
  return writeU16(b, o + 1, v);
}
function writeU32Prop(b: Buffer, o: number, id: number, v: number): number {
  b[o] = id;
  return writeU32(b, o + 1, v);
}

function writeConnect(p: ConnectPacket, b: Buffer, o: number): number {
  b[o++] = 0x10;
  o = writeVbi(b, o, sRemaining);
  b[o++] = 0;
  b[o++] = 4;
  b[o++] = 0x4d; // M
  b[o++] = 0x51; // Q
  b[o++] = 0x54; // T
  b[o++] = 0x54; // T
  b[o++] = 5;
  const will = p.will;
  let flags = p.cleanStart === true ? 0x02 : 0;
  if (will !== undefined) flags |= 0x04 | (will.qos << 3) | (will.retain === true ? 0x20 : 0);
  if (p.password !== undefined) flags |= 0x40;
  if (p.username !== undefined) flags |= 0x80;
  b[o++] = flags;
  o = writeU16(b, o, p.keepAliveIntervalSeconds);
  o = writeVbi(b, o, sProps);
  if (p.sessionExpiryIntervalSeconds !== undefined) o = writeU32Prop(b, o, 0x11, p.sessionExpiryIntervalSeconds);
  if (p.receiveMaximum !== undefined) o = writeU16Prop(b, o, 0x21, p.receiveMaximum);
  if (p.maximumPacketSizeBytes !== undefined) o = writeU32Prop(b, o, 0x27, p.maximumPacketSizeBytes);
  if (p.topicAliasMaximum !== undefined) o = writeU16Prop(b, o, 0x22, p.topicAliasMaximum);
  if (p.requestResponseInformation !== undefined) o = writeBoolProp(b, o, 0x19, p.requestResponseInformation);
  if (p.requestProblemInformation !== undefined) o = writeBoolProp(b, o, 0x17, p.requestProblemInformation);
  o = writeUserProps(b, o, p.userProperties);
  if (p.authenticationMethod !== undefined) o = writeStrProp(b, o, 0x15, p.authenticationMethod);
  if (p.authenticationData !== undefined) {
    b[o++] = 0x16;
    o = writeBin(b, o, p.authenticationData);
  }
  o = writeStr(b, o, p.clientId ?? '');
  if (will !== undefined) {
    o = writeVbi(b, o, sWillProps);
    if (p.willDelayIntervalSeconds !== undefined) o = writeU32Prop(b, o, 0x18, p.willDelayIntervalSeconds);
    if (will.payloadFormat !== undefined) {
      b[o++] = 0x01;
      b[o++] = will.payloadFormat;
    }
    if (will.messageExpiryIntervalSeconds !== undefined)
      o = writeU32Prop(b, o, 0x02, will.messageExpiryIntervalSeconds);
    if (will.contentType !== undefined) o = writeStrProp(b, o, 0x03, will.contentType);
    if (will.responseTopic !== undefined) o = writeStrProp(b, o, 0x08, will.responseTopic);
    if (will.correlationData !== undefined) {
      b[o++] = 0x09;
      o = writeBin(b, o, will.correlationData);
    }
    o = writeUserProps(b, o, will.userProperties);
    o = writeStr(b, o, will.topicName);
    o = writeU16(b, o, sPayloadLength);
    o = writeBytes(b, o, sPayload);
  }
  if (p.username !== undefined) o = writeStr(b, o, p.username);
  if (p.password !== undefined) o = writeBin(b, o, p.password);
  return o;
}

function writeConnack(p: ConnackPacket, b: Buffer, o: number): number {
  b[o++] = 0x20;
  o = writeVbi(b, o, sRemaining);
  b[o++] = p.sessionPresent === true ? 1 : 0;
  b[o++] = p.reasonCode;
  o = writeVbi(b, o, sProps);
  if (p.sessionExpiryInterval !== undefined) o = writeU32Prop(b, o, 0x11, p.sessionExpiryInterval);
  if (p.receiveMaximum !== undefined) o = writeU16Prop(b, o, 0x21, p.receiveMaximum);
  if (p.maximumQos !== undefined) {
    b[o++] = 0x24;
    b[o++] = p.maximumQos;
  }
  if (p.retainAvailable !== undefined) o = writeBoolProp(b, o, 0x25, p.retainAvailable);
  if (p.maximumPacketSize !== undefined) o = writeU32Prop(b, o, 0x27, p.maximumPacketSize);
  if (p.assignedClientIdentifier !== undefined) o = writeStrProp(b, o, 0x12, p.assignedClientIdentifier);
  if (p.topicAliasMaximum !== undefined) o = writeU16Prop(b, o, 0x22, p.topicAliasMaximum);
  if (p.reasonString !== undefined) o = writeStrProp(b, o, 0x1f, p.reasonString);
  o = writeUserProps(b, o, p.userProperties);
  if (p.wildcardSubscriptionsAvailable !== undefined) o = writeBoolProp(b, o, 0x28, p.wildcardSubscriptionsAvailable);
  if (p.subscriptionIdentifiersAvailable !== undefined) {
    o = writeBoolProp(b, o, 0x29, p.subscriptionIdentifiersAvailable);
  }
  if (p.sharedSubscriptionsAvailable !== undefined) o = writeBoolProp(b, o, 0x2a, p.sharedSubscriptionsAvailable);
  if (p.serverKeepAlive !== undefined) o = writeU16Prop(b, o, 0x13, p.serverKeepAlive);
  if (p.responseInformation !== undefined) o = writeStrProp(b, o, 0x1a, p.responseInformation);
  if (p.serverReference !== undefined) o = writeStrProp(b, o, 0x1c, p.serverReference);
  if (p.authenticationMethod !== undefined) o = writeStrProp(b, o, 0x15, p.authenticationMethod);
  if (p.authenticationData !== undefined) {
    b[o++] = 0x16;
    o = writeBin(b, o, p.authenticationData);
  }
  return o;
}

function writePublish(p: PublishPacket, b: Buffer, o: number): number {
  const qos = p.qos;
  b[o++] = 0x30 | (p.dup === true ? 0x08 : 0) | (qos << 1) | (p.retain === true ? 0x01 : 0);
  o = writeVbi(b, o, sRemaining);
  o = writeStr(b, o, p.topicName);
  if (qos !== 0) o = writeU16(b, o, checkPacketId(p.packetId, 'PUBLISH'));
  if (sProps === 0) {
    b[o++] = 0;
  } else {
    o = writeVbi(b, o, sProps);
    if (p.payloadFormat !== undefined) {
      b[o++] = 0x01;
      b[o++] = p.payloadFormat;
    }
    if (p.messageExpiryIntervalSeconds !== undefined) o = writeU32Prop(b, o, 0x02, p.messageExpiryIntervalSeconds);
    if (p.topicAlias !== undefined) o = writeU16Prop(b, o, 0x23, p.topicAlias);
    if (p.responseTopic !== undefined) o = writeStrProp(b, o, 0x08, p.responseTopic);
    if (p.correlationData !== undefined) {
      b[o++] = 0x09;
      o = writeBin(b, o, p.correlationData);
    }
    o = writeUserProps(b, o, p.userProperties);
    const ids = p.subscriptionIdentifiers;
    if (ids !== undefined) {
      for (let i = 0; i < ids.length; i++) {
        b[o++] = 0x0b;
        o = writeVbi(b, o, ids[i] as number);
      }
    }
    if (p.contentType !== undefined) o = writeStrProp(b, o, 0x03, p.contentType);
  }
  return writeBytes(b, o, sPayload);
}

function writeAck(p: AckPacket, first: number, b: Buffer, o: number): number {
  b[o++] = first;
  o = writeVbi(b, o, sRemaining);
  o = writeU16(b, o, p.packetId);
  if (sRemaining === 2) return o;
  b[o++] = p.reasonCode;
  return writeAckProps(b, o, p);
}

function writeSubscribe(p: SubscribePacket, b: Buffer, o: number): number {
  b[o++] = 0x82;
  o = writeVbi(b, o, sRemaining);
  o = writeU16(b, o, checkPacketId(p.packetId, 'SUBSCRIBE'));
  o = writeVbi(b, o, sProps);
  if (p.subscriptionIdentifier !== undefined) {
    b[o++] = 0x0b;
    o = writeVbi(b, o, p.subscriptionIdentifier);
  }
  o = writeUserProps(b, o, p.userProperties);
  const subs = p.subscriptions;
  for (let i = 0; i < subs.length; i++) {
    const s = subs[i] as SubscribePacket['subscriptions'][number];
    o = writeStr(b, o, s.topicFilter);
    b[o++] =
      s.qos |
      (s.noLocal === true ? 0x04 : 0) |
      (s.retainAsPublished === true ? 0x08 : 0) |
      ((s.retainHandlingType ?? 0) << 4);
  }
  return o;
}

function writeSuback(p: SubackLike, first: number, b: Buffer, o: number): number {
  b[o++] = first;
  o = writeVbi(b, o, sRemaining);
  o = writeU16(b, o, p.packetId);
  o = writeAckProps(b, o, p);
  const codes = p.reasonCodes;
  for (let i = 0; i < codes.length; i++) b[o++] = codes[i] as number;
  return o;
}

function writeUnsubscribe(p: UnsubscribePacket, b: Buffer, o: number): number {
  b[o++] = 0xa2;
  o = writeVbi(b, o, sRemaining);
  o = writeU16(b, o, checkPacketId(p.packetId, 'UNSUBSCRIBE'));
  o = writeVbi(b, o, sProps);
  o = writeUserProps(b, o, p.userProperties);
  const filters = p.topicFilters;
  for (let i = 0; i < filters.length; i++) o = writeStr(b, o, filters[i] as string);
  return o;
}

function writeDisconnect(p: DisconnectPacket, b: Buffer, o: number): number {
  b[o++] = 0xe0;
  o = writeVbi(b, o, sRemaining);
  if (sRemaining === 0) return o;
  b[o++] = p.reasonCode;
  o = writeVbi(b, o, sProps);
  if (p.sessionExpiryIntervalSeconds !== undefined) o = writeU32Prop(b, o, 0x11, p.sessionExpiryIntervalSeconds);
  if (p.reasonString !== undefined) o = writeStrProp(b, o, 0x1f, p.reasonString);
  if (p.serverReference !== undefined) o = writeStrProp(b, o, 0x1c, p.serverReference);
  return writeUserProps(b, o, p.userProperties);
}

function writeAuth(p: AuthPacket, b: Buffer, o: number): number {
  b[o++] = 0xf0;
  o = writeVbi(b, o, sRemaining);
  if (sRemaining === 0) return o;
  b[o++] = p.reasonCode;
  o = writeVbi(b, o, sProps);
  if (p.authenticationMethod !== undefined) o = writeStrProp(b, o, 0x15, p.authenticationMethod);
  if (p.authenticationData !== undefined) {
    b[o++] = 0x16;
    o = writeBin(b, o, p.authenticationData);
  }
  if (p.reasonString !== undefined) o = writeStrProp(b, o, 0x1f, p.reasonString);
  return writeUserProps(b, o, p.userProperties);
}

function write(packet: Packet, b: Buffer, o: number): number {
  switch (packet.type) {
    case PacketType.Publish:
      return writePublish(packet, b, o);
    case PacketType.Puback:
      return writeAck(packet, 0x40, b, o);
    case PacketType.Pubrec:
      return writeAck(packet, 0x50, b, o);
    case PacketType.Pubrel:
      return writeAck(packet, 0x62, b, o);
    case PacketType.Pubcomp:
      return writeAck(packet, 0x70, b, o);
    case PacketType.Connect:
      return writeConnect(packet, b, o);
    case PacketType.Connack:
      return writeConnack(packet, b, o);
    case PacketType.Subscribe:
      return writeSubscribe(packet, b, o);
    case PacketType.Suback:
      return writeSuback(packet, 0x90, b, o);
    case PacketType.Unsubscribe:
      return writeUnsubscribe(packet, b, o);
    case PacketType.Unsuback:
      return writeSuback(packet, 0xb0, b, o);
    case PacketType.Pingreq:
      b[o] = 0xc0;
      b[o + 1] = 0;
      return o + 2;
    case PacketType.Pingresp:
      b[o] = 0xd0;
      b[o + 1] = 0;
      return o + 2;
    case PacketType.Disconnect:
      return writeDisconnect(packet, b, o);
    case PacketType.Auth:
      return writeAuth(packet, b, o);
  }
}

function asEncodeError(e: unknown): Mqtt5Error {
  if (Mqtt5Error.isInstance(e) && e.code === 'AWS_ERROR_MQTT5_ENCODE_FAILURE') return e;
  const message = e instanceof Error ? e.message : String(e);
  return new Mqtt5Error('AWS_ERROR_MQTT5_ENCODE_FAILURE', `packet could not be encoded: ${message}`, { cause: e });
}

function release(): void {
  sPayload = EMPTY;
}

function changed(packet: Packet, cause?: unknown): never {
  throw new Mqtt5Error(
    'AWS_ERROR_MQTT5_ENCODE_FAILURE',
    `${PACKET_NAMES[packet.type] ?? 'packet'} changed while it was being encoded (a getter returned different values?)`,
    cause === undefined ? {} : { cause },
  );
}

/** Writes a measured packet; a write past the measured size (the packet changed) is reported as such. */
function writeChecked(packet: Packet, target: Buffer, offset: number, size: number): number {
  let end: number;
  try {
    end = write(packet, target, offset);
  } catch (e) {
    if (Mqtt5Error.isInstance(e)) throw e;
    return changed(packet, e);
  }
  if (end !== offset + size) changed(packet);
  return end;
}

// ---------------------------------------------------------------------------------------------
// Public API

/**
 * The exact number of bytes `encode(packet)` produces (fixed header included): what the client's
 * statistics and maximum-packet-size checks use. A QoS 1/2 PUBLISH, SUBSCRIBE or UNSUBSCRIBE is
 * measured with its 2-byte packet identifier even when `packetId` is not bound yet.
 *
 * An object payload is serialised with `JSON.stringify` to be measured: normalise it once with
 * {@link toPayloadBuffer} when measuring and encoding the same packet.
 *
 * @throws {@link Mqtt5Error} `AWS_ERROR_MQTT5_ENCODE_FAILURE` when a field does not fit its wire type.
 */
export function encodedSize(packet: Packet): number {
  try {
    return measure(packet);
  } catch (e) {
    throw asEncodeError(e);
  } finally {
    release();
  }
}

/**
 * Encodes one packet into a new `Buffer` of exactly {@link encodedSize} bytes (one allocation).
 *
 * @throws {@link Mqtt5Error} `AWS_ERROR_MQTT5_ENCODE_FAILURE` when a field does not fit its wire type,
 * or when a QoS 1/2 PUBLISH, SUBSCRIBE, UNSUBSCRIBE or acknowledgement has no packet identifier 1..65535.
 */
export function encode(packet: Packet): Buffer {
  try {
    const size = measure(packet);
    const buffer = Buffer.allocUnsafe(size);
    writeChecked(packet, buffer, 0, size);
    return buffer;
  } catch (e) {
    throw asEncodeError(e);
  } finally {
    release();
  }
}

/**
 * Encodes one packet into `target` at `offset` and returns the offset after it: the batching hot
 * path (size the buffer with {@link encodedSize}, then encode several packets into it).
 *
 * @throws {@link Mqtt5Error} `AWS_ERROR_MQTT5_ENCODE_FAILURE` as {@link encode}, and when the packet
 * does not fit between `offset` and the end of `target` (nothing is written then). After any other
 * failure the bytes of `target` from `offset` on are unspecified.
 */
export function encodeInto(packet: Packet, target: Uint8Array, offset: number): number {
  try {
    const size = measure(packet);
    if (!Number.isInteger(offset) || offset < 0 || offset + size > target.length) {
      fail(
        `${PACKET_NAMES[packet.type] ?? 'packet'} of ${size} bytes does not fit in the target at offset ${offset} (length ${target.length})`,
      );
    }
    const buffer = Buffer.isBuffer(target) ? target : Buffer.from(target.buffer, target.byteOffset, target.byteLength);
    return writeChecked(packet, buffer, offset, size);
  } catch (e) {
    throw asEncodeError(e);
  } finally {
    release();
  }
}
