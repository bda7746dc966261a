/**
 * Wire constants of MQTT 5: limits, property identifiers and the reason-code sets of each packet type.
 *
 * @packageDocumentation
 */
import { PacketType } from './packets.js';

/** The largest value a Variable Byte Integer can hold (MQTT 5 §1.5.5): 268,435,455. */
export const MAXIMUM_VARIABLE_BYTE_INTEGER = 268_435_455;

/** The largest possible MQTT packet in bytes: 1 + 4 + 268,435,455 (a 4-byte remaining length). */
export const MAXIMUM_PACKET_SIZE = 268_435_460;

/** The longest UTF-8 string or binary field, in bytes (a 16-bit length prefix). */
export const MAXIMUM_STRING_BYTES = 65_535;

/** The most user properties a packet may carry (the reference client's limit). */
export const MAXIMUM_USER_PROPERTIES = 1024;

/** The most topic filters one SUBSCRIBE or UNSUBSCRIBE may carry (the reference client's limit). */
export const MAXIMUM_TOPIC_FILTERS = 1024;

/** @internal Human names of the property identifiers, for error messages. */
export const PROPERTY_NAMES: Readonly<Record<number, string>> = {
  0x01: 'Payload Format Indicator',
  0x02: 'Message Expiry Interval',
  0x03: 'Content Type',
  0x08: 'Response Topic',
  0x09: 'Correlation Data',
  0x0b: 'Subscription Identifier',
  0x11: 'Session Expiry Interval',
  0x12: 'Assigned Client Identifier',
  0x13: 'Server Keep Alive',
  0x15: 'Authentication Method',
  0x16: 'Authentication Data',
  0x17: 'Request Problem Information',
  0x18: 'Will Delay Interval',
  0x19: 'Request Response Information',
  0x1a: 'Response Information',
  0x1c: 'Server Reference',
  0x1f: 'Reason String',
  0x21: 'Receive Maximum',
  0x22: 'Topic Alias Maximum',
  0x23: 'Topic Alias',
  0x24: 'Maximum QoS',
  0x25: 'Retain Available',
  0x26: 'User Property',
  0x27: 'Maximum Packet Size',
  0x28: 'Wildcard Subscription Available',
  0x29: 'Subscription Identifier Available',
  0x2a: 'Shared Subscription Available',
};

/** @internal Upper-case wire names of the packet types, for error messages (index = type). */
export const PACKET_NAMES: readonly string[] = [
  'RESERVED',
  'CONNECT',
  'CONNACK',
  'PUBLISH',
  'PUBACK',
  'PUBREC',
  'PUBREL',
  'PUBCOMP',
  'SUBSCRIBE',
  'SUBACK',
  'UNSUBSCRIBE',
  'UNSUBACK',
  'PINGREQ',
  'PINGRESP',
  'DISCONNECT',
  'AUTH',
];

/** @internal Property context of the will properties inside CONNECT (not a packet type). */
export const WILL_CONTEXT = 16;

function mask(ids: readonly number[]): [number, number] {
  let lo = 0;
  let hi = 0;
  for (const id of ids) {
    if (id < 32) lo |= 1 << id;
    else hi |= 1 << (id - 32);
  }
  return [lo >>> 0, hi >>> 0];
}

const ACK_PROPS = [0x1f, 0x26];

/** @internal Which properties each packet type (and the will, index 16) may carry: [ids 0..31, ids 32..63]. */
export const ALLOWED_PROPERTIES: readonly (readonly [number, number])[] = (() => {
  const table: [number, number][] = [];
  for (let i = 0; i <= WILL_CONTEXT; i++) table.push([0, 0]);
  table[PacketType.Connect] = mask([0x11, 0x21, 0x27, 0x22, 0x19, 0x17, 0x26, 0x15, 0x16]);
  table[PacketType.Connack] = mask([
    0x11, 0x21, 0x24, 0x25, 0x27, 0x12, 0x22, 0x1f, 0x26, 0x28, 0x29, 0x2a, 0x13, 0x1a, 0x1c, 0x15, 0x16,
  ]);
  table[PacketType.Publish] = mask([0x01, 0x02, 0x23, 0x08, 0x09, 0x26, 0x0b, 0x03]);
  table[PacketType.Puback] = mask(ACK_PROPS);
  table[PacketType.Pubrec] = mask(ACK_PROPS);
  table[PacketType.Pubrel] = mask(ACK_PROPS);
  table[PacketType.Pubcomp] = mask(ACK_PROPS);
  table[PacketType.Subscribe] = mask([0x0b, 0x26]);
  table[PacketType.Suback] = mask(ACK_PROPS);
  table[PacketType.Unsubscribe] = mask([0x26]);
  table[PacketType.Unsuback] = mask(ACK_PROPS);
  table[PacketType.Disconnect] = mask([0x11, 0x1f, 0x1c, 0x26]);
  table[PacketType.Auth] = mask([0x15, 0x16, 0x1f, 0x26]);
  table[WILL_CONTEXT] = mask([0x18, 0x01, 0x02, 0x03, 0x08, 0x09, 0x26]);
  return table;
})();

function codeSet(codes: readonly number[]): Uint8Array {
  const set = new Uint8Array(256);
  for (const c of codes) set[c] = 1;
  return set;
}

/**
 * @internal The reason codes each packet type may carry (1 = valid), indexed by packet type.
 * CONNACK also accepts the MQTT 3.1.1 return codes 1..5 that `ConnectReasonCode` models: a 3.1.1-only
 * server answers an MQTT 5 CONNECT with one of them.
 */
export const REASON_CODES: readonly (Uint8Array | undefined)[] = (() => {
  const table: (Uint8Array | undefined)[] = [];
  const pubackCodes = codeSet([0, 16, 128, 131, 135, 144, 145, 151, 153]);
  const pubrelCodes = codeSet([0, 146]);
  table[PacketType.Connack] = codeSet([
    0, 1, 2, 3, 4, 5, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 140, 144, 149, 151, 153, 154, 155, 156,
    157, 159,
  ]);
  table[PacketType.Puback] = pubackCodes;
  table[PacketType.Pubrec] = pubackCodes;
  table[PacketType.Pubrel] = pubrelCodes;
  table[PacketType.Pubcomp] = pubrelCodes;
  table[PacketType.Suback] = codeSet([0, 1, 2, 128, 131, 135, 143, 145, 151, 158, 161, 162]);
  table[PacketType.Unsuback] = codeSet([0, 17, 128, 131, 135, 143, 145]);
  table[PacketType.Disconnect] = codeSet([
    0, 4, 128, 129, 130, 131, 135, 137, 139, 141, 142, 143, 144, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157,
    158, 159, 160, 161, 162,
  ]);
  table[PacketType.Auth] = codeSet([0, 24, 25]);
  return table;
})();

/** True when `code` is a reason code the packet type may carry (for types that carry one). */
export function isValidReasonCode(type: PacketType, code: number): boolean {
  const set = REASON_CODES[type];
  return set !== undefined && Number.isInteger(code) && code >= 0 && code <= 255 && set[code] === 1;
}
