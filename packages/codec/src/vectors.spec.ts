// Byte-exact vectors, written by hand from the MQTT 5.0 specification (chapters 2 and 3), one or
// more per packet type. `both` vectors must be produced by the encoder and decoded back to the
// packet; `decode` vectors are valid alternative encodings the encoder does not produce.
import { decodePacket } from './decoder.js';
import { encode, encodedSize } from './encoder.js';
import { type Packet, PacketType } from './packets.js';

interface Vector {
  name: string;
  hex: string;
  packet: Packet;
  direction: 'both' | 'decode';
}

const b = (hex: string): Buffer => Buffer.from(hex.replace(/\s+/g, ''), 'hex');

const VECTORS: Vector[] = [
  {
    name: 'CONNECT, clean start, keep alive 10, client id "c1", no properties (§3.1)',
    // 10 | rl 15 | 00 04 "MQTT" | v5 | flags: clean start | keep alive 10 | props 0 | "c1"
    hex: '10 0f 00 04 4d 51 54 54 05 02 00 0a 00 00 02 63 31',
    packet: { type: PacketType.Connect, keepAliveIntervalSeconds: 10, cleanStart: true, clientId: 'c1' },
    direction: 'both',
  },
  {
    name: 'CONNECT with properties, a QoS 1 retained will, user name and password (§3.1.2, §3.1.3)',
    // flags ee = user name 80 | password 40 | will retain 20 | will QoS 1 08 | will 04 | clean start 02
    // props 8: Session Expiry Interval 60, Receive Maximum 20
    // payload: "c" | will props 5: Will Delay Interval 5 | will topic "w" | will payload "x" | "u" | 70
    hex: '10 28 00 04 4d 51 54 54 05 ee 00 0a 08 11 00 00 00 3c 21 00 14 00 01 63 05 18 00 00 00 05 00 01 77 00 01 78 00 01 75 00 01 70',
    packet: {
      type: PacketType.Connect,
      keepAliveIntervalSeconds: 10,
      cleanStart: true,
      clientId: 'c',
      sessionExpiryIntervalSeconds: 60,
      receiveMaximum: 20,
      willDelayIntervalSeconds: 5,
      will: { topicName: 'w', payload: b('78'), qos: 1, retain: true },
      username: 'u',
      password: b('70'),
    },
    direction: 'both',
  },
  {
    name: 'CONNACK, session present, Maximum QoS 1, Topic Alias Maximum 10 (§3.2)',
    hex: '20 08 01 00 05 24 01 22 00 0a',
    packet: { type: PacketType.Connack, sessionPresent: true, reasonCode: 0, maximumQos: 1, topicAliasMaximum: 10 },
    direction: 'both',
  },
  {
    name: 'CONNACK refusing with 0x87 Not authorized (§3.2.2.2)',
    hex: '20 03 00 87 00',
    packet: { type: PacketType.Connack, sessionPresent: false, reasonCode: 0x87 },
    direction: 'both',
  },
  {
    name: 'CONNACK of a 3.1.1-only server: return code 1, no property length',
    hex: '20 02 00 01',
    packet: { type: PacketType.Connack, sessionPresent: false, reasonCode: 1 },
    direction: 'decode',
  },
  {
    name: 'PUBLISH QoS 0, topic "a/b", payload "hi" (§3.3)',
    hex: '30 08 00 03 61 2f 62 00 68 69',
    packet: { type: PacketType.Publish, topicName: 'a/b', payload: b('6869'), qos: 0, retain: false, dup: false },
    direction: 'both',
  },
  {
    name: 'PUBLISH QoS 1, DUP, RETAIN, packet id 10, Topic Alias 1, a user property (§3.3.1, §3.3.2)',
    // 3b = PUBLISH | DUP 08 | QoS 1 02 | RETAIN 01; props 10: 23 00 01 | 26 "k" "v"
    hex: '3b 14 00 03 61 2f 62 00 0a 0a 23 00 01 26 00 01 6b 00 01 76 68 69',
    packet: {
      type: PacketType.Publish,
      topicName: 'a/b',
      payload: b('6869'),
      qos: 1,
      retain: true,
      dup: true,
      packetId: 10,
      topicAlias: 1,
      userProperties: [{ name: 'k', value: 'v' }],
    },
    direction: 'both',
  },
  {
    name: 'PUBLISH QoS 2 with an empty topic and a Topic Alias, two Subscription Identifiers (§3.3.2.3.4, §3.3.2.3.8)',
    // 34 = QoS 2; topic ""; id 0x1234; props 8: 23 00 07 | 0b 01 | 0b 80 01 (128)
    hex: '34 0e 00 00 12 34 08 23 00 07 0b 01 0b 80 01 ff',
    packet: {
      type: PacketType.Publish,
      topicName: '',
      payload: b('ff'),
      qos: 2,
      retain: false,
      dup: false,
      packetId: 0x1234,
      topicAlias: 7,
      subscriptionIdentifiers: [1, 128],
    },
    direction: 'both',
  },
  {
    name: 'PUBLISH with a 2-byte remaining length: 200-byte payload, remaining length 204 = cc 01 (§1.5.5)',
    hex: `30 cc 01 00 01 61 00 ${'ab'.repeat(200)}`,
    packet: {
      type: PacketType.Publish,
      topicName: 'a',
      payload: Buffer.alloc(200, 0xab),
      qos: 0,
      retain: false,
      dup: false,
    },
    direction: 'both',
  },
  {
    name: 'PUBACK, success, short form (§3.4.2.1)',
    hex: '40 02 00 0a',
    packet: { type: PacketType.Puback, packetId: 10, reasonCode: 0 },
    direction: 'both',
  },
  {
    name: 'PUBACK 0x10 No matching subscribers, no properties (§3.4.2.2)',
    hex: '40 04 00 0a 10 00',
    packet: { type: PacketType.Puback, packetId: 10, reasonCode: 0x10 },
    direction: 'both',
  },
  {
    name: 'PUBACK with a reason code and no property length (remaining length 3, §3.4.2.2.1)',
    hex: '40 03 00 0a 10',
    packet: { type: PacketType.Puback, packetId: 10, reasonCode: 0x10 },
    direction: 'decode',
  },
  {
    name: 'PUBACK 0x87 with a Reason String (§3.4.2.2.2)',
    hex: '40 09 00 0a 87 05 1f 00 02 6e 6f',
    packet: { type: PacketType.Puback, packetId: 10, reasonCode: 0x87, reasonString: 'no' },
    direction: 'both',
  },
  {
    name: 'PUBREC, success (§3.5)',
    hex: '50 02 00 0b',
    packet: { type: PacketType.Pubrec, packetId: 11, reasonCode: 0 },
    direction: 'both',
  },
  {
    name: 'PUBREL, fixed header flags 0010 (§3.6.1)',
    hex: '62 02 00 0b',
    packet: { type: PacketType.Pubrel, packetId: 11, reasonCode: 0 },
    direction: 'both',
  },
  {
    name: 'PUBREL 0x92 Packet Identifier not found (§3.6.2.1)',
    hex: '62 04 00 0b 92 00',
    packet: { type: PacketType.Pubrel, packetId: 11, reasonCode: 0x92 },
    direction: 'both',
  },
  {
    name: 'PUBCOMP, success (§3.7)',
    hex: '70 02 00 0b',
    packet: { type: PacketType.Pubcomp, packetId: 11, reasonCode: 0 },
    direction: 'both',
  },
  {
    name: 'SUBSCRIBE "a/+" QoS 1, No Local, Retain Handling 2, Subscription Identifier 5 (§3.8)',
    // options 25 = QoS 1 | No Local 04 | Retain Handling 2 << 4
    hex: '82 0b 00 01 02 0b 05 00 03 61 2f 2b 25',
    packet: {
      type: PacketType.Subscribe,
      packetId: 1,
      subscriptionIdentifier: 5,
      subscriptions: [{ topicFilter: 'a/+', qos: 1, noLocal: true, retainAsPublished: false, retainHandlingType: 2 }],
    },
    direction: 'both',
  },
  {
    name: 'SUBACK granting QoS 1 and refusing with 0x80 (§3.9)',
    hex: '90 05 00 01 00 01 80',
    packet: { type: PacketType.Suback, packetId: 1, reasonCodes: [1, 0x80] },
    direction: 'both',
  },
  {
    name: 'UNSUBSCRIBE "a/#" and "b" (§3.10)',
    hex: 'a2 0b 00 02 00 00 03 61 2f 23 00 01 62',
    packet: { type: PacketType.Unsubscribe, packetId: 2, topicFilters: ['a/#', 'b'] },
    direction: 'both',
  },
  {
    name: 'UNSUBACK success and 0x11 No subscription existed (§3.11)',
    hex: 'b0 05 00 02 00 00 11',
    packet: { type: PacketType.Unsuback, packetId: 2, reasonCodes: [0, 0x11] },
    direction: 'both',
  },
  { name: 'PINGREQ (§3.12)', hex: 'c0 00', packet: { type: PacketType.Pingreq }, direction: 'both' },
  { name: 'PINGRESP (§3.13)', hex: 'd0 00', packet: { type: PacketType.Pingresp }, direction: 'both' },
  {
    name: 'DISCONNECT, normal, remaining length 0 (§3.14.2.1)',
    hex: 'e0 00',
    packet: { type: PacketType.Disconnect, reasonCode: 0 },
    direction: 'both',
  },
  {
    name: 'DISCONNECT 0x8e Session taken over, Reason String "x" (§3.14)',
    hex: 'e0 06 8e 04 1f 00 01 78',
    packet: { type: PacketType.Disconnect, reasonCode: 0x8e, reasonString: 'x' },
    direction: 'both',
  },
  {
    name: 'DISCONNECT with a reason code and no property length (remaining length 1, §3.14.2.2.1)',
    hex: 'e0 01 04',
    packet: { type: PacketType.Disconnect, reasonCode: 4 },
    direction: 'decode',
  },
  {
    name: 'AUTH, success, remaining length 0 (§3.15.2.1)',
    hex: 'f0 00',
    packet: { type: PacketType.Auth, reasonCode: 0 },
    direction: 'both',
  },
  {
    name: 'AUTH 0x18 Continue authentication, method "m", data 01 02 (§3.15)',
    hex: 'f0 0b 18 09 15 00 01 6d 16 00 02 01 02',
    packet: { type: PacketType.Auth, reasonCode: 0x18, authenticationMethod: 'm', authenticationData: b('0102') },
    direction: 'both',
  },
  {
    name: 'PUBLISH with a UTF-8 topic "ü/€" and Content Type (§1.5.4)',
    // ü = c3 bc, € = e2 82 ac; props 6: 03 00 03 "a/b"
    hex: '30 0f 00 06 c3 bc 2f e2 82 ac 06 03 00 03 61 2f 62',
    packet: {
      type: PacketType.Publish,
      topicName: 'ü/€',
      payload: b(''),
      qos: 0,
      retain: false,
      dup: false,
      contentType: 'a/b',
    },
    direction: 'both',
  },
];

describe('specification vectors', () => {
  it.each(VECTORS.map((v) => [v.name, v] as const))('%s', (_name, vector) => {
    const bytes = b(vector.hex);
    expect(decodePacket(bytes)).toEqual(vector.packet);
    if (vector.direction === 'both') {
      expect(encode(vector.packet).toString('hex')).toBe(bytes.toString('hex'));
      expect(encodedSize(vector.packet)).toBe(bytes.length);
    } else {
      expect(encode(vector.packet).toString('hex')).not.toBe(bytes.toString('hex'));
    }
  });

  it('covers all 15 packet types in both directions', () => {
    const types = new Set(VECTORS.filter((v) => v.direction === 'both').map((v) => v.packet.type));
    expect([...types].sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
  });
});
