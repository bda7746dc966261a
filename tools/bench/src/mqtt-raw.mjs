// Hand-written MQTT 5 bytes for the benchmark: used by the raw client (the ceiling), the minimal
// peer and the helper processes that feed and count through mosquitto. Deliberately independent
// of @mqtt5/codec and mqtt-packet: only the handful of packets the benchmark needs, written for
// speed (no validation beyond what the counting needs).

export const CONNECT = 1;
export const CONNACK = 2;
export const PUBLISH = 3;
export const PUBACK = 4;
export const SUBSCRIBE = 8;
export const SUBACK = 9;
export const UNSUBSCRIBE = 10;
export const UNSUBACK = 11;
export const PINGREQ = 12;
export const PINGRESP = 13;
export const DISCONNECT = 14;

/** Number of bytes of `n` as an MQTT variable byte integer. */
export function varintLength(n) {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4;
}

/** Writes `n` as a variable byte integer at `off`; returns the offset after it. */
export function writeVarint(buf, off, n) {
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 128;
    buf[off++] = b;
  } while (n > 0);
  return off;
}

/** Reads a variable byte integer at `off`: `[value, nextOffset]`, or `null` when incomplete. */
export function readVarint(buf, off, end) {
  let value = 0;
  let mul = 1;
  for (let i = 0; i < 4; i++) {
    if (off >= end) return null;
    const b = buf[off++];
    value += (b & 127) * mul;
    if ((b & 128) === 0) return [value, off];
    mul *= 128;
  }
  throw new Error('malformed variable byte integer');
}

function frame(type, flags, body) {
  const out = Buffer.allocUnsafe(1 + varintLength(body.length) + body.length);
  out[0] = (type << 4) | flags;
  body.copy(out, writeVarint(out, 1, body.length));
  return out;
}

function utf8(s) {
  const b = Buffer.from(s, 'utf8');
  const out = Buffer.allocUnsafe(2 + b.length);
  out.writeUInt16BE(b.length, 0);
  b.copy(out, 2);
  return out;
}

/** CONNECT, protocol level 5, clean start, no will, no credentials. */
export function encodeConnect({ clientId, keepAlive = 60, receiveMaximum = 65_535 }) {
  const props = Buffer.from([0x21, receiveMaximum >> 8, receiveMaximum & 0xff]);
  const body = Buffer.concat([
    utf8('MQTT'),
    Buffer.from([5, 0x02, keepAlive >> 8, keepAlive & 0xff, props.length]),
    props,
    utf8(clientId),
  ]);
  return frame(CONNECT, 0, body);
}

/** CONNACK, success, with Receive Maximum (and nothing else: no topic aliases on offer). */
export function encodeConnack({ receiveMaximum = 65_535 } = {}) {
  return frame(CONNACK, 0, Buffer.from([0, 0, 3, 0x21, receiveMaximum >> 8, receiveMaximum & 0xff]));
}

/** SUBSCRIBE of one filter. */
export function encodeSubscribe(packetId, topicFilter, qos) {
  const body = Buffer.concat([Buffer.from([packetId >> 8, packetId & 0xff, 0]), utf8(topicFilter), Buffer.from([qos])]);
  return frame(SUBSCRIBE, 2, body);
}

/** SUBACK granting `qos` to each of `count` filters. */
export function encodeSuback(packetId, grantedQos) {
  return frame(SUBACK, 0, Buffer.from([packetId >> 8, packetId & 0xff, 0, ...grantedQos]));
}

export const PINGREQ_FRAME = Buffer.from([PINGREQ << 4, 0]);
export const PINGRESP_FRAME = Buffer.from([PINGRESP << 4, 0]);
export const DISCONNECT_FRAME = Buffer.from([DISCONNECT << 4, 0]);

/** Size of a PUBLISH frame without properties. */
export function publishFrameLength(topicLength, payloadLength, qos) {
  const remaining = 2 + topicLength + (qos > 0 ? 2 : 0) + 1 + payloadLength;
  return 1 + varintLength(remaining) + remaining;
}

/**
 * Writes one PUBLISH (no properties, no retain/dup) into `buf` at `off`; returns the next offset.
 * `topic` is the topic's UTF-8 bytes.
 */
export function writePublish(buf, off, topic, payload, qos, packetId) {
  const remaining = 2 + topic.length + (qos > 0 ? 2 : 0) + 1 + payload.length;
  buf[off++] = 0x30 | (qos << 1);
  off = writeVarint(buf, off, remaining);
  buf[off++] = topic.length >> 8;
  buf[off++] = topic.length & 0xff;
  off += topic.copy(buf, off);
  if (qos > 0) {
    buf[off++] = packetId >> 8;
    buf[off++] = packetId & 0xff;
  }
  buf[off++] = 0; // property length
  off += payload.copy(buf, off);
  return off;
}

/** One PUBLISH frame as its own buffer. */
export function encodePublish(topic, payload, qos, packetId = 0) {
  const t = typeof topic === 'string' ? Buffer.from(topic, 'utf8') : topic;
  const out = Buffer.allocUnsafe(publishFrameLength(t.length, payload.length, qos));
  writePublish(out, 0, t, payload, qos, packetId);
  return out;
}

/**
 * Splits a byte stream into MQTT frames. `onFrame(header, buf, start, end)` gets the first byte of
 * the fixed header and the bounds of the variable header + payload inside `buf` (valid only during
 * the call).
 */
export class FrameSplitter {
  constructor(onFrame) {
    this.onFrame = onFrame;
    this.rest = null;
  }

  push(chunk) {
    let buf = chunk;
    if (this.rest !== null) {
      buf = Buffer.concat([this.rest, chunk]);
      this.rest = null;
    }
    const len = buf.length;
    let off = 0;
    while (off + 2 <= len) {
      const header = buf[off];
      let start;
      let remaining;
      const b1 = buf[off + 1];
      if (b1 < 128) {
        remaining = b1;
        start = off + 2;
      } else {
        const v = readVarint(buf, off + 1, len);
        if (v === null) break;
        remaining = v[0];
        start = v[1];
      }
      const end = start + remaining;
      if (end > len) break;
      this.onFrame(header, buf, start, end);
      off = end;
    }
    if (off < len) this.rest = off === 0 ? buf : buf.subarray(off);
  }
}

/**
 * Parses the properties length of a PUBLISH/CONNACK/SUBACK variable header at `off` and returns
 * the offset after the properties.
 */
export function skipProperties(buf, off, end) {
  const v = readVarint(buf, off, end);
  if (v === null) throw new Error('truncated properties');
  return v[1] + v[0];
}

/** Reads a big-endian uint16. */
export function u16(buf, off) {
  return (buf[off] << 8) | buf[off + 1];
}

/** True when `buf[start, start + expected.length)` equals `expected`. */
export function bytesEqual(buf, start, expected) {
  const n = expected.length;
  for (let i = 0; i < n; i++) if (buf[start + i] !== expected[i]) return false;
  return true;
}
