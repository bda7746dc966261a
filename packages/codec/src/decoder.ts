/**
 * The streaming MQTT 5 decoder.
 *
 * Feed it chunks of any size; it calls `onPacket` for every complete packet, in order. It reads the
 * fixed header first and refuses a frame larger than `maximumPacketSize` before buffering any of it.
 * Frames wholly inside a chunk are decoded in place: PUBLISH payloads and binary properties are
 * `Buffer` views of the chunk (zero-copy; do not reuse a chunk's memory after feeding it). Only a
 * frame split across chunks is accumulated, in one buffer of exactly its size.
 *
 * Every malformed input raises an `Mqtt5Error` with code `AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR`
 * and a message that says what was wrong; its `reasonCode` is the DISCONNECT reason the receiver
 * should send: 0x81 Malformed Packet, 0x82 Protocol Error, or 0x95 Packet Too Large. After an error
 * the decoder is poisoned: every later `feed()` throws the same error.
 *
 * @packageDocumentation
 */
import { isUtf8 } from 'node:buffer';
import { types } from 'node:util';
import {
  ALLOWED_PROPERTIES,
  MAXIMUM_PACKET_SIZE,
  PACKET_NAMES,
  PROPERTY_NAMES,
  REASON_CODES,
  WILL_CONTEXT,
} from './constants.js';
import { Mqtt5Error } from './errors.js';
import type {
  AuthPacket,
  ConnackPacket,
  ConnectPacket,
  DisconnectPacket,
  Packet,
  PubackPacket,
  PublishPacket,
  SubackPacket,
  Subscription,
  SubscribePacket,
  UnsubackPacket,
  UnsubscribePacket,
  UserProperty,
} from './packets.js';
import { topicFilterSyntaxProblem } from './topics.js';

/** Options of a {@link Decoder}. */
export interface DecoderOptions {
  /**
   * The largest packet accepted, in bytes, fixed header included (MQTT's "Maximum Packet Size").
   * A larger frame is refused from its fixed header, before any of it is buffered, with a
   * `reasonCode` of 0x95 (Packet Too Large). Default and upper bound: 268435460.
   */
  maximumPacketSize?: number;
  /**
   * Receives every decoded packet, in order, called with the decoder as `this` (so a subclass can
   * pass one shared function rather than a closure per decoder). Without it, `feed()` decodes and
   * drops packets.
   */
  onPacket?: (this: Decoder, packet: Packet) => void;
}

const DECODE_ERROR = 'AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR';
const MALFORMED_PACKET = 0x81;
const PROTOCOL_ERROR = 0x82;
const PACKET_TOO_LARGE = 0x95;
const EMPTY = Buffer.alloc(0);
const TOPIC_CACHE_BYTES = 256;

interface NodeBuffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}
const FAST_SLICE =
  typeof (Buffer.prototype as Partial<NodeBuffer>).latin1Slice === 'function' &&
  typeof (Buffer.prototype as Partial<NodeBuffer>).utf8Slice === 'function';

/** Every property a decoded packet may get, for typing the property decoder's target. */
interface PropertyTarget {
  payloadFormat?: number;
  messageExpiryIntervalSeconds?: number;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Buffer;
  subscriptionIdentifiers?: number[];
  subscriptionIdentifier?: number;
  sessionExpiryInterval?: number;
  sessionExpiryIntervalSeconds?: number;
  assignedClientIdentifier?: string;
  serverKeepAlive?: number;
  authenticationMethod?: string;
  authenticationData?: Buffer;
  requestProblemInformation?: boolean;
  willDelayIntervalSeconds?: number;
  requestResponseInformation?: boolean;
  responseInformation?: string;
  serverReference?: string;
  reasonString?: string;
  receiveMaximum?: number;
  topicAliasMaximum?: number;
  topicAlias?: number;
  maximumQos?: number;
  retainAvailable?: boolean;
  userProperties?: UserProperty[];
  maximumPacketSize?: number;
  maximumPacketSizeBytes?: number;
  wildcardSubscriptionsAvailable?: boolean;
  subscriptionIdentifiersAvailable?: boolean;
  sharedSubscriptionsAvailable?: boolean;
}

/** The last decoded PUBLISH topic: a repeated topic costs one byte comparison, not a new string. */
interface TopicCache {
  bytes: Uint8Array;
  length: number;
  topic: string;
}

function newTopicCache(): TopicCache {
  return { bytes: new Uint8Array(TOPIC_CACHE_BYTES), length: -1, topic: '' };
}

// ---------------------------------------------------------------------------------------------
// Frame cursor: the frame being decoded is B[P..E). Decoding is synchronous and calls no user code,
// so one module-level cursor serves every decoder.
let B: Buffer = EMPTY;
let P = 0;
let E = 0;
let T = '';

function malformed(message: string): never {
  throw new Mqtt5Error(DECODE_ERROR, `${T}: ${message}`, { reasonCode: MALFORMED_PACKET });
}
function protocolError(message: string): never {
  throw new Mqtt5Error(DECODE_ERROR, `${T}: ${message}`, { reasonCode: PROTOCOL_ERROR });
}
/** What a reader reads, for its error message: a description, or a property identifier (named lazily). */
type What = string | number;
function named(what: What): string {
  return typeof what === 'number' ? propName(what) : what;
}
function truncated(what: What): never {
  return malformed(`${named(what)} runs past the end of the packet`);
}
function hex(n: number): string {
  return `0x${n.toString(16).padStart(2, '0')}`;
}
function propName(id: number): string {
  return `${PROPERTY_NAMES[id] ?? 'unknown property'} (${hex(id)})`;
}

function readU8(what: What): number {
  if (P >= E) truncated(what);
  return B[P++] as number;
}
function readU16(what: What): number {
  if (P + 2 > E) truncated(what);
  const v = ((B[P] as number) << 8) | (B[P + 1] as number);
  P += 2;
  return v;
}
function readU32(what: What): number {
  if (P + 4 > E) truncated(what);
  const v =
    (B[P] as number) * 0x1000000 + (((B[P + 1] as number) << 16) | ((B[P + 2] as number) << 8) | (B[P + 3] as number));
  P += 4;
  return v;
}
function readVbi(what: What): number {
  let value = 0;
  let multiplier = 1;
  for (let i = 0; ; i++) {
    if (P >= E) truncated(what);
    const byte = B[P++] as number;
    value += (byte & 0x7f) * multiplier;
    if (byte < 0x80) {
      if (i > 0 && byte === 0) malformed(`${named(what)} is not minimally encoded`);
      return value;
    }
    if (i === 3) malformed(`${named(what)} is longer than 4 bytes`);
    multiplier *= 128;
  }
}
function readPacketId(): number {
  const id = readU16('packet identifier');
  if (id === 0) protocolError('packet identifier must not be 0');
  return id;
}
function view(start: number, end: number): Buffer {
  return Buffer.from(B.buffer, B.byteOffset + start, end - start);
}
function readBinary(what: What): Buffer {
  if (P + 2 > E) truncated(what);
  const n = ((B[P] as number) << 8) | (B[P + 1] as number);
  P += 2;
  if (P + n > E) truncated(what);
  const v = view(P, P + n);
  P += n;
  return v;
}

/** Decodes B[start..end) as an MQTT UTF-8 string: well-formed, no U+0000 (MQTT 5 §1.5.4). */
function utf8At(start: number, end: number, what: What): string {
  for (let i = start; i < end; i++) {
    const c = B[i] as number;
    if (c === 0) malformed(`${named(what)} contains U+0000`);
    if (c >= 0x80) return utf8Slow(start, end, i, what);
  }
  return FAST_SLICE ? (B as NodeBuffer).latin1Slice(start, end) : B.toString('latin1', start, end);
}
function utf8Slow(start: number, end: number, from: number, what: What): string {
  for (let i = from; i < end; i++) if (B[i] === 0) malformed(`${named(what)} contains U+0000`);
  if (!isUtf8(B.subarray(start, end))) malformed(`${named(what)} is not well-formed UTF-8`);
  return FAST_SLICE ? (B as NodeBuffer).utf8Slice(start, end) : B.toString('utf8', start, end);
}
function readString(what: What): string {
  if (P + 2 > E) truncated(what);
  const n = ((B[P] as number) << 8) | (B[P + 1] as number);
  P += 2;
  if (P + n > E) truncated(what);
  const s = utf8At(P, P + n, what);
  P += n;
  return s;
}
function readTopicName(what: What): string {
  const s = readString(what);
  if (s.length === 0) protocolError(`${named(what)} must not be empty`);
  if (s.includes('+') || s.includes('#')) protocolError(`${named(what)} must not contain wildcards`);
  return s;
}
function readTopicFilter(what: string): string {
  const s = readString(what);
  const problem = topicFilterSyntaxProblem(s);
  if (problem !== undefined) protocolError(`${what} ${problem}`);
  return s;
}
function readFlag(id: number): boolean {
  const v = readU8(id);
  if (v > 1) protocolError(`${propName(id)} must be 0 or 1, got ${v}`);
  return v === 1;
}
function readReasonCode(type: number): number {
  const rc = readU8('reason code');
  if ((REASON_CODES[type] as Uint8Array)[rc] !== 1) malformed(`reason code ${hex(rc)} is not valid for ${T}`);
  return rc;
}
function end(): void {
  if (P !== E) malformed(`${E - P} unexpected bytes after the end of the packet`);
}

/** The PUBLISH topic name: the cached string when the bytes repeat; wildcards and U+0000 refused. */
function readPublishTopic(cache: TopicCache): string {
  if (P + 2 > E) truncated('topic name length');
  const n = ((B[P] as number) << 8) | (B[P + 1] as number);
  const start = P + 2;
  const stop = start + n;
  if (stop > E) truncated('topic name');
  P = stop;
  if (n === cache.length) {
    const cached = cache.bytes;
    let i = 0;
    while (i < n && cached[i] === B[start + i]) i++;
    if (i === n) return cache.topic;
  }
  let ascii = true;
  for (let i = start; i < stop; i++) {
    const c = B[i] as number;
    if (c === 0x2b || c === 0x23) protocolError(`topic name must not contain wildcards`);
    if (c === 0) malformed('topic name contains U+0000');
    if (c >= 0x80) ascii = false;
  }
  const topic = ascii
    ? FAST_SLICE
      ? (B as NodeBuffer).latin1Slice(start, stop)
      : B.toString('latin1', start, stop)
    : utf8Slow(start, stop, start, 'topic name');
  if (n <= TOPIC_CACHE_BYTES) {
    cache.bytes.set(B.subarray(start, stop));
    cache.length = n;
    cache.topic = topic;
  }
  return topic;
}

/**
 * Decodes a properties block into `t`: checks the property length against the packet, that every
 * property is allowed in `ctx` (a packet type or the will), that single-use properties appear once,
 * and the value rules of the specification.
 */
function readProperties(ctx: number, t: PropertyTarget, connect?: PropertyTarget): void {
  const length = readVbi('property length');
  if (length > E - P) malformed(`property length ${length} runs past the end of the packet (${E - P} bytes left)`);
  if (length === 0) return;
  const frameEnd = E;
  const stop = P + length;
  E = stop;
  const allowed = ALLOWED_PROPERTIES[ctx] as readonly [number, number];
  const where = ctx === WILL_CONTEXT ? 'the will properties' : T;
  let seenLo = 0;
  let seenHi = 0;
  while (P < stop) {
    const id = B[P++] as number;
    const ok = id < 32 ? (allowed[0] >>> id) & 1 : id < 64 ? (allowed[1] >>> (id - 32)) & 1 : 0;
    if (ok === 0) {
      if (PROPERTY_NAMES[id] === undefined) malformed(`unknown property identifier ${hex(id)}`);
      protocolError(`${propName(id)} is not allowed in ${where}`);
    }
    if (id !== 0x26 && !(id === 0x0b && ctx === 3)) {
      if (id < 32) {
        if ((seenLo >>> id) & 1) protocolError(`${propName(id)} appears more than once`);
        seenLo |= 1 << id;
      } else {
        if ((seenHi >>> (id - 32)) & 1) protocolError(`${propName(id)} appears more than once`);
        seenHi |= 1 << (id - 32);
      }
    }
    switch (id) {
      case 0x01: {
        const v = readU8(id);
        if (v > 1) protocolError(`${propName(id)} must be 0 or 1, got ${v}`);
        t.payloadFormat = v;
        break;
      }
      case 0x02:
        t.messageExpiryIntervalSeconds = readU32(id);
        break;
      case 0x03:
        t.contentType = readString(id);
        break;
      case 0x08:
        t.responseTopic = readTopicName(id);
        break;
      case 0x09:
        t.correlationData = readBinary(id);
        break;
      case 0x0b: {
        const v = readVbi(id);
        if (v === 0) protocolError(`${propName(id)} must not be 0`);
        if (ctx === 3) (t.subscriptionIdentifiers ??= []).push(v);
        else t.subscriptionIdentifier = v;
        break;
      }
      case 0x11:
        if (ctx === 2) t.sessionExpiryInterval = readU32(id);
        else t.sessionExpiryIntervalSeconds = readU32(id);
        break;
      case 0x12:
        t.assignedClientIdentifier = readString(id);
        break;
      case 0x13:
        t.serverKeepAlive = readU16(id);
        break;
      case 0x15:
        t.authenticationMethod = readString(id);
        break;
      case 0x16:
        t.authenticationData = readBinary(id);
        break;
      case 0x17:
        t.requestProblemInformation = readFlag(id);
        break;
      case 0x18:
        (connect as PropertyTarget).willDelayIntervalSeconds = readU32(id);
        break;
      case 0x19:
        t.requestResponseInformation = readFlag(id);
        break;
      case 0x1a:
        t.responseInformation = readString(id);
        break;
      case 0x1c:
        t.serverReference = readString(id);
        break;
      case 0x1f:
        t.reasonString = readString(id);
        break;
      case 0x21: {
        const v = readU16(id);
        if (v === 0) protocolError(`${propName(id)} must not be 0`);
        t.receiveMaximum = v;
        break;
      }
      case 0x22:
        t.topicAliasMaximum = readU16(id);
        break;
      case 0x23: {
        const v = readU16(id);
        if (v === 0) protocolError(`${propName(id)} must not be 0`);
        t.topicAlias = v;
        break;
      }
      case 0x24: {
        const v = readU8(id);
        if (v > 1) protocolError(`${propName(id)} must be 0 or 1, got ${v}`);
        t.maximumQos = v;
        break;
      }
      case 0x25:
        t.retainAvailable = readFlag(id);
        break;
      case 0x26: {
        const name = readString('User Property name');
        const value = readString('User Property value');
        (t.userProperties ??= []).push({ name, value });
        break;
      }
      case 0x27: {
        const v = readU32(id);
        if (v === 0) protocolError(`${propName(id)} must not be 0`);
        if (ctx === 2) t.maximumPacketSize = v;
        else t.maximumPacketSizeBytes = v;
        break;
      }
      case 0x28:
        t.wildcardSubscriptionsAvailable = readFlag(id);
        break;
      case 0x29:
        t.subscriptionIdentifiersAvailable = readFlag(id);
        break;
      case 0x2a:
        t.sharedSubscriptionsAvailable = readFlag(id);
        break;
    }
  }
  E = frameEnd;
  if (t.authenticationData !== undefined && t.authenticationMethod === undefined) {
    protocolError('Authentication Data (0x16) without an Authentication Method (0x15)');
  }
}

// ---------------------------------------------------------------------------------------------
// Packet bodies

function decodeConnect(): Packet {
  if (
    readU16('protocol name length') !== 4 ||
    P + 4 > E ||
    B[P] !== 0x4d ||
    B[P + 1] !== 0x51 ||
    B[P + 2] !== 0x54 ||
    B[P + 3] !== 0x54
  ) {
    malformed('protocol name must be "MQTT"');
  }
  P += 4;
  const version = readU8('protocol version');
  if (version !== 5) protocolError(`protocol version ${version} is not supported (only MQTT 5)`);
  const flags = readU8('connect flags');
  if (flags & 0x01) malformed('reserved connect flag bit 0 must be 0');
  const willQos = (flags >> 3) & 3;
  const hasWill = (flags & 0x04) !== 0;
  if (willQos === 3) malformed('will QoS must not be 3');
  if (!hasWill && (willQos !== 0 || (flags & 0x20) !== 0))
    malformed('will QoS and will retain must be 0 without a will');
  const packet: ConnectPacket & PropertyTarget = {
    type: 1,
    keepAliveIntervalSeconds: readU16('keep alive'),
    cleanStart: (flags & 0x02) !== 0,
    clientId: '',
  };
  readProperties(1, packet);
  packet.clientId = readString('client identifier');
  if (hasWill) {
    const will: PublishPacket & PropertyTarget = {
      topicName: '',
      payload: EMPTY,
      qos: willQos,
      retain: (flags & 0x20) !== 0,
    };
    readProperties(WILL_CONTEXT, will, packet);
    will.topicName = readTopicName('will topic');
    will.payload = readBinary('will payload');
    packet.will = will;
  }
  if (flags & 0x80) packet.username = readString('user name');
  if (flags & 0x40) packet.password = readBinary('password');
  end();
  return packet as Packet;
}

function decodeConnack(): Packet {
  const ack = readU8('connect acknowledge flags');
  if (ack & 0xfe) malformed('reserved connect acknowledge flag bits must be 0');
  const reasonCode = readReasonCode(2);
  if (ack === 1 && reasonCode >= 0x80)
    protocolError(`session present must be 0 with the failure reason code ${hex(reasonCode)}`);
  const packet: ConnackPacket & PropertyTarget = { type: 2, sessionPresent: ack === 1, reasonCode };
  // A 3.1.1-only server answers an MQTT 5 CONNECT with a 2-byte CONNACK (no properties).
  if (P === E) return packet;
  readProperties(2, packet);
  end();
  return packet;
}

function decodePublish(first: number, cache: TopicCache): Packet {
  const qos = (first >> 1) & 3;
  const topicName = readPublishTopic(cache);
  let packet: PublishPacket & PropertyTarget;
  if (qos === 0) {
    packet = { type: 3, topicName, payload: EMPTY, qos, retain: (first & 1) !== 0, dup: false };
  } else {
    const packetId = readU16('packet identifier');
    if (packetId === 0) protocolError(`QoS ${qos} PUBLISH must have a packet identifier other than 0`);
    packet = { type: 3, topicName, payload: EMPTY, qos, retain: (first & 1) !== 0, dup: (first & 8) !== 0, packetId };
  }
  if (P < E && B[P] === 0) P++;
  else readProperties(3, packet);
  packet.payload = view(P, E);
  P = E;
  return packet as Packet;
}

function decodeAck(type: 4 | 5 | 6 | 7): Packet {
  const packetId = readPacketId();
  const packet: PubackPacket & PropertyTarget = { type: type as 4, packetId, reasonCode: 0 };
  if (P === E) return packet;
  packet.reasonCode = readReasonCode(type);
  if (P === E) return packet;
  readProperties(type, packet);
  end();
  return packet;
}

function decodeSubscribe(): Packet {
  const packet: SubscribePacket & PropertyTarget = { type: 8, packetId: readPacketId(), subscriptions: [] };
  readProperties(8, packet);
  if (P === E) protocolError('a SUBSCRIBE must contain at least one topic filter');
  while (P < E) {
    const topicFilter = readTopicFilter('topic filter');
    const options = readU8('subscription options');
    if (options & 0xc0) malformed('reserved subscription option bits 6 and 7 must be 0');
    const qos = options & 3;
    if (qos === 3) malformed(`subscription QoS must not be 3 (topic filter ${JSON.stringify(topicFilter)})`);
    const retainHandlingType = (options >> 4) & 3;
    if (retainHandlingType === 3) malformed('retain handling must not be 3');
    const noLocal = (options & 0x04) !== 0;
    if (noLocal && topicFilter.startsWith('$share/'))
      protocolError('no local must not be set on a shared subscription');
    const sub: Subscription = {
      topicFilter,
      qos,
      noLocal,
      retainAsPublished: (options & 0x08) !== 0,
      retainHandlingType,
    };
    packet.subscriptions.push(sub);
  }
  return packet as Packet;
}

function decodeSuback(type: 9 | 11): Packet {
  const packet: (SubackPacket | UnsubackPacket) & PropertyTarget = {
    type: type as 9,
    packetId: readPacketId(),
    reasonCodes: [],
  };
  readProperties(type, packet);
  if (P === E) protocolError(`a ${T} must contain at least one reason code`);
  const codes = REASON_CODES[type] as Uint8Array;
  while (P < E) {
    const rc = B[P++] as number;
    if (codes[rc] !== 1) malformed(`reason code ${hex(rc)} is not valid for ${T}`);
    packet.reasonCodes.push(rc);
  }
  return packet;
}

function decodeUnsubscribe(): Packet {
  const packet: UnsubscribePacket & PropertyTarget = { type: 10, packetId: readPacketId(), topicFilters: [] };
  readProperties(10, packet);
  if (P === E) protocolError('an UNSUBSCRIBE must contain at least one topic filter');
  while (P < E) packet.topicFilters.push(readTopicFilter('topic filter'));
  return packet as Packet;
}

function decodeDisconnect(): Packet {
  const packet: DisconnectPacket & PropertyTarget = { type: 14, reasonCode: 0 };
  if (P === E) return packet as Packet;
  packet.reasonCode = readReasonCode(14);
  if (P === E) return packet as Packet;
  readProperties(14, packet);
  end();
  return packet as Packet;
}

function decodeAuth(): Packet {
  const packet: AuthPacket & PropertyTarget = { type: 15, reasonCode: 0 };
  if (P === E) return packet;
  packet.reasonCode = readReasonCode(15);
  readProperties(15, packet);
  end();
  return packet;
}

/** Decodes the body buf[start..end) of a frame whose first byte passed {@link firstByteProblem}. */
function decodeBody(first: number, buf: Buffer, start: number, stop: number, cache: TopicCache | undefined): Packet {
  B = buf;
  P = start;
  E = stop;
  const type = first >> 4;
  T = PACKET_NAMES[type] as string;
  try {
    switch (type) {
      case 3:
        return decodePublish(first, cache as TopicCache);
      case 4:
      case 5:
      case 6:
      case 7:
        return decodeAck(type);
      case 1:
        return decodeConnect();
      case 2:
        return decodeConnack();
      case 8:
        return decodeSubscribe();
      case 9:
      case 11:
        return decodeSuback(type);
      case 10:
        return decodeUnsubscribe();
      case 12:
      case 13:
        if (stop !== start) malformed(`remaining length must be 0, got ${stop - start}`);
        return { type };
      case 14:
        return decodeDisconnect();
      default:
        return decodeAuth();
    }
  } finally {
    B = EMPTY;
  }
}

/** 0 when the first byte of a frame is valid, else what is wrong (reserved type, flags, QoS). */
const FIRST_BYTE_VALID = (() => {
  const table = new Uint8Array(256);
  for (let b = 0; b < 256; b++) {
    const type = b >> 4;
    const flags = b & 0x0f;
    if (type === 0) continue;
    if (type === 3) {
      const qos = (flags >> 1) & 3;
      if (qos === 3 || (qos === 0 && flags & 0x08)) continue;
      table[b] = 1;
    } else if (type === 6 || type === 8 || type === 10) {
      if (flags === 0x02) table[b] = 1;
    } else if (flags === 0) {
      table[b] = 1;
    }
  }
  return table;
})();

function firstByteError(first: number): Mqtt5Error {
  const type = first >> 4;
  const flags = first & 0x0f;
  let message: string;
  if (type === 0) message = `reserved packet type 0 (first byte ${hex(first)})`;
  else if (type === 3) {
    message =
      ((flags >> 1) & 3) === 3
        ? 'PUBLISH: QoS bits must not both be 1 (QoS 3)'
        : 'PUBLISH: DUP must be 0 on a QoS 0 message';
  } else {
    const expected = type === 6 || type === 8 || type === 10 ? 2 : 0;
    message = `${PACKET_NAMES[type]}: reserved fixed header flags must be ${expected}, got ${flags}`;
  }
  return new Mqtt5Error(DECODE_ERROR, message, { reasonCode: MALFORMED_PACKET });
}

function toBuffer(chunk: Uint8Array): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (ArrayBuffer.isView(chunk)) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (types.isAnyArrayBuffer(chunk)) return Buffer.from(chunk);
  throw new TypeError(`Decoder.feed() needs a Uint8Array, got ${chunk === null ? 'null' : typeof chunk}`);
}

function noop(): void {}

/** Where decoded packets go: `onPacket`, or the collector of `decodeAll`. */
type PacketSink = (this: Decoder, packet: Packet) => void;

/** A frame split across chunks: its fixed header so far, or its body so far. */
class SplitFrame {
  /** The first byte and the remaining-length bytes received so far (allocated on the first split header). */
  header: Uint8Array | undefined = undefined;
  headerLength = 0;
  /** The body, allocated at its exact size. */
  body: Buffer | undefined = undefined;
  bodyFilled = 0;
  bodyFirst = 0;
  bodyHeaderLength = 0;

  clear(): void {
    this.headerLength = 0;
    this.body = undefined;
    this.bodyFilled = 0;
  }
}

/**
 * Streaming MQTT 5 decoder: `feed()` it the bytes of a connection as they arrive; it calls
 * `onPacket` for each complete packet. Decodes all 15 packet types.
 */
export class Decoder {
  /** The largest packet accepted, in bytes, fixed header included. */
  readonly maximumPacketSize: number;
  private readonly onPacket: PacketSink;
  private error: Mqtt5Error | undefined;
  private busy = false;
  /**
   * The frame split across chunks, if any; allocated with the first split frame and kept (a
   * decoder that only ever got whole frames, like an idle client's, holds none).
   */
  private split: SplitFrame | undefined = undefined;
  /** Bytes not decoded yet because `onPacket` threw. */
  private leftover: Buffer | undefined;
  /** Allocated with the first PUBLISH: a decoder that never receives one holds no cache. */
  private topicCache: TopicCache | undefined = undefined;

  /**
   * @param options - `maximumPacketSize` (default 268435460) and the `onPacket` callback.
   * @throws RangeError when `maximumPacketSize` is not an integer of at least 2.
   */
  constructor(options: DecoderOptions = {}) {
    const max = options.maximumPacketSize ?? MAXIMUM_PACKET_SIZE;
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 2) {
      throw new RangeError(`maximumPacketSize must be an integer >= 2, got ${String(max)}`);
    }
    this.maximumPacketSize = Math.min(max, MAXIMUM_PACKET_SIZE);
    this.onPacket = options.onPacket ?? noop;
  }

  /** Bytes held for an incomplete frame (or not yet decoded because `onPacket` threw). */
  get bufferedBytes(): number {
    const s = this.split;
    const split = s === undefined ? 0 : s.headerLength + (s.body === undefined ? 0 : s.bodyHeaderLength + s.bodyFilled);
    return split + (this.leftover?.length ?? 0);
  }

  /** The error that poisoned this decoder, if any. */
  get failure(): Mqtt5Error | undefined {
    return this.error;
  }

  /**
   * Decodes the bytes of `chunk`, calling `onPacket` for each packet it completes. Payloads of
   * frames wholly inside `chunk` are views of it: do not modify or reuse its memory afterwards.
   *
   * If `onPacket` throws, the exception propagates and the rest of `chunk` is kept for the next call.
   *
   * @throws {@link Mqtt5Error} `AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR` on malformed input (and on
   * every call after one).
   */
  feed(chunk: Uint8Array): void {
    this.run(chunk, this.onPacket);
  }

  /** Decodes `chunk` like {@link Decoder.feed} and returns the packets it completes instead of calling `onPacket`. */
  decodeAll(chunk: Uint8Array): Packet[] {
    const packets: Packet[] = [];
    this.run(chunk, (packet) => {
      packets.push(packet);
    });
    return packets;
  }

  /** Drops any partial frame and the poisoned state: the decoder is as new (for a new connection). */
  reset(): void {
    this.error = undefined;
    this.split?.clear();
    this.leftover = undefined;
    if (this.topicCache !== undefined) {
      this.topicCache.length = -1;
      this.topicCache.topic = '';
    }
  }

  private run(chunk: Uint8Array, sink: PacketSink): void {
    if (this.error !== undefined) throw this.error;
    if (this.busy) throw new Error('Decoder.feed() must not be called from inside onPacket');
    let buf = toBuffer(chunk);
    if (this.leftover !== undefined) {
      buf = Buffer.concat([this.leftover, buf]);
      this.leftover = undefined;
    }
    this.busy = true;
    try {
      this.process(buf, sink);
    } finally {
      this.busy = false;
    }
  }

  private poison(e: unknown): never {
    const error = Mqtt5Error.isInstance(e)
      ? e
      : new Mqtt5Error(DECODE_ERROR, `the decoder failed: ${e instanceof Error ? e.message : String(e)}`, {
          cause: e,
          reasonCode: MALFORMED_PACKET,
        });
    this.error = error;
    this.split?.clear();
    throw error;
  }

  private decode(first: number, buf: Buffer, start: number, stop: number): Packet {
    try {
      const cache = first >> 4 === 3 ? (this.topicCache ??= newTopicCache()) : undefined;
      return decodeBody(first, buf, start, stop, cache);
    } catch (e) {
      return this.poison(e);
    }
  }

  private emit(sink: PacketSink, packet: Packet, buf: Buffer, pos: number): void {
    try {
      sink.call(this, packet);
    } catch (e) {
      if (pos < buf.length) this.leftover = buf.subarray(pos);
      throw e;
    }
  }

  private tooLarge(first: number, size: number): never {
    const name = PACKET_NAMES[first >> 4] as string;
    return this.poison(
      new Mqtt5Error(
        DECODE_ERROR,
        `${name} of ${size} bytes exceeds the maximum packet size of ${this.maximumPacketSize} bytes`,
        {
          reasonCode: PACKET_TOO_LARGE,
        },
      ),
    );
  }

  private process(buf: Buffer, sink: PacketSink): void {
    const stop = buf.length;
    let pos = 0;

    const split = this.split;
    // 1. A split fixed header: complete it, then start (or finish) the body.
    if (split !== undefined && split.headerLength > 0) {
      const header = split.header as Uint8Array;
      let done = false;
      while (pos < stop) {
        const byte = buf[pos++] as number;
        header[split.headerLength++] = byte;
        if (byte < 0x80) {
          done = true;
          break;
        }
        if (split.headerLength === 5)
          this.poison(
            new Mqtt5Error(DECODE_ERROR, 'remaining length is longer than 4 bytes', { reasonCode: MALFORMED_PACKET }),
          );
      }
      if (!done) {
        this.checkPartialHeader(header, 0, split.headerLength);
        return;
      }
      const first = header[0] as number;
      const headerLength = split.headerLength;
      let remaining = 0;
      let multiplier = 1;
      for (let i = 1; i < headerLength; i++) {
        remaining += ((header[i] as number) & 0x7f) * multiplier;
        multiplier *= 128;
      }
      split.headerLength = 0;
      if (headerLength > 2 && header[headerLength - 1] === 0) {
        this.poison(
          new Mqtt5Error(DECODE_ERROR, 'remaining length is not minimally encoded', { reasonCode: MALFORMED_PACKET }),
        );
      }
      if (headerLength + remaining > this.maximumPacketSize) this.tooLarge(first, headerLength + remaining);
      if (remaining === 0) {
        this.emit(sink, this.decode(first, EMPTY, 0, 0), buf, pos);
      } else {
        split.body = Buffer.allocUnsafe(remaining);
        split.bodyFilled = 0;
        split.bodyFirst = first;
        split.bodyHeaderLength = headerLength;
      }
    }

    // 2. A split body: fill it; decode it once complete.
    const body = split?.body;
    if (body !== undefined) {
      const s = split as SplitFrame;
      const n = Math.min(body.length - s.bodyFilled, stop - pos);
      buf.copy(body, s.bodyFilled, pos, pos + n);
      s.bodyFilled += n;
      pos += n;
      if (s.bodyFilled < body.length) return;
      s.body = undefined;
      s.bodyFilled = 0;
      this.emit(sink, this.decode(s.bodyFirst, body, 0, body.length), buf, pos);
    }

    // 3. Whole frames, decoded in place.
    while (pos < stop) {
      const first = buf[pos] as number;
      if (FIRST_BYTE_VALID[first] !== 1) this.poison(firstByteError(first));
      let i = pos + 1;
      let remaining = 0;
      let multiplier = 1;
      let complete = false;
      while (i < stop) {
        const byte = buf[i++] as number;
        remaining += (byte & 0x7f) * multiplier;
        if (byte < 0x80) {
          if (byte === 0 && i - pos > 2) {
            this.poison(
              new Mqtt5Error(DECODE_ERROR, 'remaining length is not minimally encoded', {
                reasonCode: MALFORMED_PACKET,
              }),
            );
          }
          complete = true;
          break;
        }
        if (i - pos === 5)
          this.poison(
            new Mqtt5Error(DECODE_ERROR, 'remaining length is longer than 4 bytes', { reasonCode: MALFORMED_PACKET }),
          );
        multiplier *= 128;
      }
      if (!complete) {
        this.checkPartialHeader(buf, pos, stop);
        const s = (this.split ??= new SplitFrame());
        (s.header ??= new Uint8Array(5)).set(buf.subarray(pos, stop));
        s.headerLength = stop - pos;
        return;
      }
      const size = i - pos + remaining;
      if (size > this.maximumPacketSize) this.tooLarge(first, size);
      const frameEnd = i + remaining;
      if (frameEnd <= stop) {
        const packet = this.decode(first, buf, i, frameEnd);
        pos = frameEnd;
        this.emit(sink, packet, buf, pos);
      } else {
        const part = Buffer.allocUnsafe(remaining);
        buf.copy(part, 0, i, stop);
        const s = (this.split ??= new SplitFrame());
        s.body = part;
        s.bodyFilled = stop - i;
        s.bodyFirst = first;
        s.bodyHeaderLength = i - pos;
        return;
      }
    }
  }

  /** Refuses an incomplete fixed header early when its first byte is invalid or the frame is already too large. */
  private checkPartialHeader(bytes: Uint8Array, start: number, stop: number): void {
    const first = bytes[start] as number;
    if (FIRST_BYTE_VALID[first] !== 1) this.poison(firstByteError(first));
    // Every remaining-length byte so far has its continuation bit set: the value is at least
    // their sum plus one unit of the next byte (a final byte of 0 would not be minimal).
    let remaining = 0;
    let multiplier = 1;
    for (let i = start + 1; i < stop; i++) {
      remaining += ((bytes[i] as number) & 0x7f) * multiplier;
      multiplier *= 128;
    }
    const smallest = stop - start + 1 + remaining + (stop - start > 1 ? multiplier : 0);
    if (stop - start > 1 && smallest > this.maximumPacketSize) this.tooLarge(first, smallest);
  }
}

/**
 * Decodes exactly one complete packet (any of the 15 types) from `frame`.
 *
 * @throws {@link Mqtt5Error} `AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR` when `frame` is malformed,
 * incomplete, or holds more than one packet.
 */
export function decodePacket(frame: Uint8Array, options: { maximumPacketSize?: number } = {}): Packet {
  const decoder = new Decoder(options);
  const packets = decoder.decodeAll(frame);
  if (packets.length === 1 && decoder.bufferedBytes === 0) return packets[0] as Packet;
  const what =
    packets.length === 0
      ? 'an incomplete packet'
      : `${packets.length} packets${decoder.bufferedBytes > 0 ? ' and a partial one' : ''}`;
  throw new Mqtt5Error(DECODE_ERROR, `expected exactly one complete packet, got ${what}`, {
    reasonCode: MALFORMED_PACKET,
  });
}
