import { Decoder, decodePacket } from './decoder.js';
import { encode } from './encoder.js';
import { Mqtt5Error } from './errors.js';
import { type Packet, PacketType, type PublishPacket } from './packets.js';

const hex = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ''), 'hex');

/** A stream with one packet of most types, properties included. */
const PACKETS: Packet[] = [
  {
    type: PacketType.Connack,
    sessionPresent: false,
    reasonCode: 0,
    receiveMaximum: 10,
    userProperties: [{ name: 'a', value: 'b' }],
  },
  {
    type: PacketType.Publish,
    topicName: 'x/y',
    payload: Buffer.alloc(300, 7),
    qos: 1,
    retain: false,
    dup: false,
    packetId: 1,
    contentType: 'c',
    correlationData: Buffer.from([1, 2]),
  },
  { type: PacketType.Publish, topicName: 'x/y', payload: Buffer.from('z'), qos: 0, retain: true, dup: false },
  { type: PacketType.Puback, packetId: 7, reasonCode: 0 },
  { type: PacketType.Suback, packetId: 8, reasonCodes: [0, 1, 0x80], reasonString: 'r' },
  { type: PacketType.Unsuback, packetId: 9, reasonCodes: [0] },
  { type: PacketType.Pingresp },
  { type: PacketType.Pubrec, packetId: 10, reasonCode: 0 },
  { type: PacketType.Pubcomp, packetId: 10, reasonCode: 0x92 },
  { type: PacketType.Auth, reasonCode: 0x18, authenticationMethod: 'm' },
  { type: PacketType.Disconnect, reasonCode: 0x8e, reasonString: 'bye' },
];
const STREAM = Buffer.concat(PACKETS.map((p) => encode(p)));

function decodeError(fn: () => unknown): Mqtt5Error {
  try {
    fn();
  } catch (e) {
    expect(Mqtt5Error.isInstance(e)).toBe(true);
    expect((e as Mqtt5Error).code).toBe('AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR');
    return e as Mqtt5Error;
  }
  throw new Error('expected a decode error');
}

describe('Decoder framing', () => {
  it('decodes many frames from one chunk, in order', () => {
    expect(new Decoder().decodeAll(STREAM)).toEqual(PACKETS);
  });

  it('decodes the stream split at every byte offset', () => {
    for (let cut = 0; cut <= STREAM.length; cut++) {
      const decoder = new Decoder();
      const got = [...decoder.decodeAll(STREAM.subarray(0, cut)), ...decoder.decodeAll(STREAM.subarray(cut))];
      expect(got).toEqual(PACKETS);
      expect(decoder.bufferedBytes).toBe(0);
    }
  });

  it('decodes the stream fed one byte at a time, through onPacket', () => {
    const got: Packet[] = [];
    const decoder = new Decoder({ onPacket: (p) => got.push(p) });
    for (let i = 0; i < STREAM.length; i++) decoder.feed(STREAM.subarray(i, i + 1));
    expect(got).toEqual(PACKETS);
  });

  it('accepts Uint8Array and DataView chunks', () => {
    const u8 = new Uint8Array(STREAM.buffer.slice(STREAM.byteOffset, STREAM.byteOffset + STREAM.length));
    expect(new Decoder().decodeAll(u8)).toEqual(PACKETS);
    expect(new Decoder().decodeAll(new DataView(u8.buffer) as unknown as Uint8Array)).toEqual(PACKETS);
  });

  it('decodes a frame held in place as views of the chunk; a split frame once, into its own buffer', () => {
    const frame = encode({ type: PacketType.Publish, topicName: 't', payload: Buffer.alloc(1000, 1), qos: 0 });
    const chunk = Buffer.concat([frame, frame]);
    const [first] = new Decoder().decodeAll(chunk) as PublishPacket[];
    chunk.fill(2);
    expect(first?.payload).toEqual(Buffer.alloc(1000, 2)); // a view of the chunk: no copy

    const input = Buffer.from(frame);
    const decoder = new Decoder();
    expect(decoder.decodeAll(input.subarray(0, 500))).toEqual([]);
    expect(decoder.bufferedBytes).toBe(500);
    const [split] = decoder.decodeAll(input.subarray(500)) as PublishPacket[];
    input.fill(3);
    expect(split?.payload).toEqual(Buffer.alloc(1000, 1)); // accumulated into its own buffer
  });

  it('repeats the cached topic string for a repeated topic, and tells different topics apart', () => {
    const decoder = new Decoder();
    const topics = ['a/b', 'a/b', 'a/c', 'a/c', 'ab/', 'a/b', 'é/x', 'é/x', ''];
    const frames = Buffer.concat(topics.map((t) => encode({ type: PacketType.Publish, topicName: t, qos: 0 })));
    expect((decoder.decodeAll(frames) as PublishPacket[]).map((p) => p.topicName)).toEqual(topics);
  });

  it('refuses a frame over maximumPacketSize from its fixed header, before buffering it', () => {
    // PUBLISH announcing 1,000,000 bytes: 30 c0 84 3d
    const decoder = new Decoder({ maximumPacketSize: 1000 });
    const e = decodeError(() => decoder.feed(hex('30 c0 84 3d')));
    expect(e.message).toBe('PUBLISH of 1000004 bytes exceeds the maximum packet size of 1000 bytes');
    expect(e.reasonCode).toBe(0x95);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('refuses an oversized frame while its remaining length is still incomplete', () => {
    const decoder = new Decoder({ maximumPacketSize: 1000 });
    const e = decodeError(() => decoder.feed(hex('30 ff ff')));
    expect(e.reasonCode).toBe(0x95);
    expect(e.message).toMatch(/exceeds the maximum packet size of 1000 bytes/);
  });

  it('accepts a frame of exactly maximumPacketSize bytes and refuses one byte more', () => {
    const frame = encode({ type: PacketType.Publish, topicName: 't', payload: Buffer.alloc(96), qos: 0 });
    expect(frame.length).toBe(102);
    expect(new Decoder({ maximumPacketSize: 102 }).decodeAll(frame)).toHaveLength(1);
    expect(decodeError(() => new Decoder({ maximumPacketSize: 101 }).decodeAll(frame)).reasonCode).toBe(0x95);
  });

  it('reads the largest remaining length (ff ff ff 7f) as 268435455', () => {
    const e = decodeError(() => new Decoder({ maximumPacketSize: 10 }).feed(hex('30 ff ff ff 7f')));
    expect(e.message).toBe('PUBLISH of 268435460 bytes exceeds the maximum packet size of 10 bytes');
  });

  it('is poisoned after an error: later feeds throw the same error, reset() clears it', () => {
    const decoder = new Decoder();
    const e = decodeError(() => decoder.feed(hex('c1 00')));
    expect(() => decoder.feed(hex('c0 00'))).toThrow(e);
    expect(decoder.failure).toBe(e);
    decoder.reset();
    expect(decoder.decodeAll(hex('c0 00'))).toEqual([{ type: PacketType.Pingreq }]);
  });

  it('emits the packets before a malformed frame, then fails', () => {
    const got: Packet[] = [];
    const decoder = new Decoder({ onPacket: (p) => got.push(p) });
    decodeError(() => decoder.feed(hex('d0 00 d0 00 c1 00 d0 00')));
    expect(got).toEqual([{ type: PacketType.Pingresp }, { type: PacketType.Pingresp }]);
  });

  it('keeps the rest of the chunk when onPacket throws, and continues with it on the next feed', () => {
    const got: Packet[] = [];
    let fail = true;
    const decoder = new Decoder({
      onPacket: (p) => {
        got.push(p);
        if (fail) {
          fail = false;
          throw new Error('listener failed');
        }
      },
    });
    expect(() => decoder.feed(STREAM)).toThrow('listener failed');
    expect(got).toHaveLength(1);
    decoder.feed(Buffer.alloc(0));
    expect(got).toEqual(PACKETS);
  });

  it('refuses to be fed from inside onPacket', () => {
    const decoder: Decoder = new Decoder({ onPacket: () => decoder.feed(hex('d0 00')) });
    expect(() => decoder.feed(hex('d0 00'))).toThrow('must not be called from inside onPacket');
  });

  it('decodePacket decodes exactly one complete packet', () => {
    expect(decodePacket(hex('c0 00'))).toEqual({ type: PacketType.Pingreq });
    expect(decodeError(() => decodePacket(hex('c0 00 c0 00'))).message).toMatch(
      /exactly one complete packet, got 2 packets/,
    );
    expect(decodeError(() => decodePacket(hex('40 02 00'))).message).toMatch(/got an incomplete packet/);
    expect(decodeError(() => decodePacket(hex(''))).message).toMatch(/got an incomplete packet/);
  });

  it('rejects a bad maximumPacketSize option', () => {
    expect(() => new Decoder({ maximumPacketSize: 1 })).toThrow(RangeError);
    expect(() => new Decoder({ maximumPacketSize: 1.5 })).toThrow(RangeError);
  });
});

// Every malformed frame: [description, hex, expected message, DISCONNECT reason code to send].
const M = 0x81;
const P = 0x82;
const MALFORMED: [string, string, string, number][] = [
  // fixed header
  ['remaining length longer than 4 bytes', '30 ff ff ff ff 7f', 'remaining length is longer than 4 bytes', M],
  ['remaining length not minimally encoded', 'c0 80 00', 'remaining length is not minimally encoded', M],
  ['reserved packet type 0', '00 00', 'reserved packet type 0 (first byte 0x00)', M],
  ['PINGREQ with reserved flags set', 'c1 00', 'PINGREQ: reserved fixed header flags must be 0, got 1', M],
  [
    'SUBSCRIBE with flags 0000',
    '80 06 00 01 00 00 01 61',
    'SUBSCRIBE: reserved fixed header flags must be 2, got 0',
    M,
  ],
  ['PUBREL with flags 0000', '60 02 00 01', 'PUBREL: reserved fixed header flags must be 2, got 0', M],
  ['PUBACK with flags 0010', '42 02 00 01', 'PUBACK: reserved fixed header flags must be 0, got 2', M],
  ['PUBLISH with QoS 3', '36 04 00 01 61 00', 'PUBLISH: QoS bits must not both be 1 (QoS 3)', M],
  ['PUBLISH QoS 0 with DUP', '38 04 00 01 61 00', 'PUBLISH: DUP must be 0 on a QoS 0 message', M],
  // lengths
  ['PINGRESP with a body', 'd0 01 00', 'PINGRESP: remaining length must be 0, got 1', M],
  [
    'properties length past the frame',
    '30 06 00 01 61 05 01 01',
    'PUBLISH: property length 5 runs past the end of the packet (2 bytes left)',
    M,
  ],
  [
    'a property value past the properties length',
    '30 09 00 01 61 02 02 00 00 00 00',
    'PUBLISH: Message Expiry Interval (0x02) runs past the end of the packet',
    M,
  ],
  [
    'a property length not minimally encoded',
    '30 05 00 01 61 80 00',
    'PUBLISH: property length is not minimally encoded',
    M,
  ],
  ['truncated packet identifier', '40 01 00', 'PUBACK: packet identifier runs past the end of the packet', M],
  ['truncated topic name', '30 03 00 05 61', 'PUBLISH: topic name runs past the end of the packet', M],
  [
    'truncated user property value',
    '40 0a 00 01 00 06 26 00 01 61 00 02',
    'PUBACK: User Property value runs past the end of the packet',
    M,
  ],
  [
    'trailing bytes after a PUBACK',
    '40 05 00 01 00 00 ff',
    'PUBACK: 1 unexpected bytes after the end of the packet',
    M,
  ],
  [
    'trailing bytes after a DISCONNECT',
    'e0 03 00 00 ff',
    'DISCONNECT: 1 unexpected bytes after the end of the packet',
    M,
  ],
  [
    'AUTH with a reason code and no property length',
    'f0 01 18',
    'AUTH: property length runs past the end of the packet',
    M,
  ],
  // properties
  [
    'duplicate Topic Alias',
    '30 0a 00 01 61 06 23 00 01 23 00 02',
    'PUBLISH: Topic Alias (0x23) appears more than once',
    P,
  ],
  [
    'duplicate Reason String',
    '40 0c 00 01 80 08 1f 00 01 61 1f 00 01 62',
    'PUBACK: Reason String (0x1f) appears more than once',
    P,
  ],
  [
    'duplicate Subscription Identifier in SUBSCRIBE',
    '82 0b 00 01 04 0b 01 0b 02 00 01 61 00',
    'SUBSCRIBE: Subscription Identifier (0x0b) appears more than once',
    P,
  ],
  [
    'Session Expiry Interval in a PUBLISH',
    '30 09 00 01 61 05 11 00 00 00 01',
    'PUBLISH: Session Expiry Interval (0x11) is not allowed in PUBLISH',
    P,
  ],
  [
    'Topic Alias in a will',
    '10 16 00 04 4d 51 54 54 05 04 00 00 00 00 00 03 23 00 01 00 01 61 00 00',
    'CONNECT: Topic Alias (0x23) is not allowed in the will properties',
    P,
  ],
  ['unknown property identifier', '40 06 00 01 00 02 05 00', 'PUBACK: unknown property identifier 0x05', M],
  ['Subscription Identifier 0', '30 06 00 01 61 02 0b 00', 'PUBLISH: Subscription Identifier (0x0b) must not be 0', P],
  ['Topic Alias 0', '30 07 00 01 61 03 23 00 00', 'PUBLISH: Topic Alias (0x23) must not be 0', P],
  ['Receive Maximum 0', '20 06 00 00 03 21 00 00', 'CONNACK: Receive Maximum (0x21) must not be 0', P],
  ['Maximum Packet Size 0', '20 08 00 00 05 27 00 00 00 00', 'CONNACK: Maximum Packet Size (0x27) must not be 0', P],
  ['Maximum QoS 2', '20 05 00 00 02 24 02', 'CONNACK: Maximum QoS (0x24) must be 0 or 1, got 2', P],
  ['Retain Available 2', '20 05 00 00 02 25 02', 'CONNACK: Retain Available (0x25) must be 0 or 1, got 2', P],
  [
    'Payload Format Indicator 2',
    '30 06 00 01 61 02 01 02',
    'PUBLISH: Payload Format Indicator (0x01) must be 0 or 1, got 2',
    P,
  ],
  [
    'Authentication Data without a method',
    'f0 07 18 05 16 00 02 01 02',
    'AUTH: Authentication Data (0x16) without an Authentication Method (0x15)',
    P,
  ],
  [
    'Response Topic with a wildcard',
    '30 09 00 01 61 05 08 00 02 61 23',
    'PUBLISH: Response Topic (0x08) must not contain wildcards',
    P,
  ],
  ['empty Response Topic', '30 07 00 01 61 03 08 00 00', 'PUBLISH: Response Topic (0x08) must not be empty', P],
  // strings
  ['invalid UTF-8 in the topic', '30 05 00 02 c3 28 00', 'PUBLISH: topic name is not well-formed UTF-8', M],
  [
    'UTF-16 surrogate encoded in UTF-8 in the topic',
    '30 06 00 03 ed a0 80 00',
    'PUBLISH: topic name is not well-formed UTF-8',
    M,
  ],
  ['overlong encoding of "/" in the topic', '30 05 00 02 c0 af 00', 'PUBLISH: topic name is not well-formed UTF-8', M],
  ['U+0000 in the topic', '30 05 00 02 61 00 00', 'PUBLISH: topic name contains U+0000', M],
  ['U+0000 after a non-ASCII character', '30 06 00 03 c3 bc 00 00', 'PUBLISH: topic name contains U+0000', M],
  ['a wildcard in the topic name', '30 05 00 02 61 2b 00', 'PUBLISH: topic name must not contain wildcards', P],
  [
    'U+0000 in a user property name',
    '40 0b 00 01 00 07 26 00 01 00 00 01 61',
    'PUBACK: User Property name contains U+0000',
    M,
  ],
  [
    'invalid UTF-8 in a Reason String',
    'e0 07 80 05 1f 00 02 ff fe',
    'DISCONNECT: Reason String (0x1f) is not well-formed UTF-8',
    M,
  ],
  // reason codes
  ['CONNACK reason code 0x06', '20 03 00 06 00', 'CONNACK: reason code 0x06 is not valid for CONNACK', M],
  ['PUBACK reason code 0x05', '40 04 00 01 05 00', 'PUBACK: reason code 0x05 is not valid for PUBACK', M],
  ['PUBREC reason code 0x92', '50 04 00 01 92 00', 'PUBREC: reason code 0x92 is not valid for PUBREC', M],
  ['PUBREL reason code 0x10', '62 04 00 01 10 00', 'PUBREL: reason code 0x10 is not valid for PUBREL', M],
  ['PUBCOMP reason code 0x80', '70 04 00 01 80 00', 'PUBCOMP: reason code 0x80 is not valid for PUBCOMP', M],
  ['SUBACK reason code 0x03', '90 04 00 01 00 03', 'SUBACK: reason code 0x03 is not valid for SUBACK', M],
  ['UNSUBACK reason code 0x01', 'b0 04 00 01 00 01', 'UNSUBACK: reason code 0x01 is not valid for UNSUBACK', M],
  ['DISCONNECT reason code 0x03', 'e0 01 03', 'DISCONNECT: reason code 0x03 is not valid for DISCONNECT', M],
  ['AUTH reason code 0x01', 'f0 02 01 00', 'AUTH: reason code 0x01 is not valid for AUTH', M],
  // packet rules
  [
    'QoS 1 PUBLISH with packet identifier 0',
    '32 06 00 01 61 00 00 00',
    'PUBLISH: QoS 1 PUBLISH must have a packet identifier other than 0',
    P,
  ],
  ['PUBACK with packet identifier 0', '40 02 00 00', 'PUBACK: packet identifier must not be 0', P],
  ['CONNACK with reserved flags', '20 03 02 00 00', 'CONNACK: reserved connect acknowledge flag bits must be 0', M],
  [
    'CONNACK failure with session present',
    '20 03 01 80 00',
    'CONNACK: session present must be 0 with the failure reason code 0x80',
    P,
  ],
  [
    'SUBSCRIBE without topic filters',
    '82 03 00 01 00',
    'SUBSCRIBE: a SUBSCRIBE must contain at least one topic filter',
    P,
  ],
  [
    'SUBSCRIBE with reserved option bits',
    '82 07 00 01 00 00 01 61 40',
    'SUBSCRIBE: reserved subscription option bits 6 and 7 must be 0',
    M,
  ],
  [
    'SUBSCRIBE with QoS 3',
    '82 07 00 01 00 00 01 61 03',
    'SUBSCRIBE: subscription QoS must not be 3 (topic filter "a")',
    M,
  ],
  ['SUBSCRIBE with retain handling 3', '82 07 00 01 00 00 01 61 30', 'SUBSCRIBE: retain handling must not be 3', M],
  [
    'No Local on a shared subscription',
    '82 10 00 01 00 00 0a 24 73 68 61 72 65 2f 67 2f 61 04',
    'SUBSCRIBE: no local must not be set on a shared subscription',
    P,
  ],
  [
    'a topic filter with "#" not last',
    '82 09 00 01 00 00 03 23 2f 61 00',
    `SUBSCRIBE: topic filter has a '#' that is not the whole last level: "#/a"`,
    P,
  ],
  [
    'a topic filter with "+" inside a level',
    '82 08 00 01 00 00 02 61 2b 00',
    `SUBSCRIBE: topic filter has a '+' that does not occupy a whole level: "a+"`,
    P,
  ],
  ['an empty topic filter', '82 06 00 01 00 00 00 00', 'SUBSCRIBE: topic filter must not be empty', P],
  [
    'a shared subscription without a filter',
    '82 0d 00 01 00 00 07 24 73 68 61 72 65 2f 00',
    'SUBSCRIBE: topic filter is not a valid shared subscription',
    P,
  ],
  [
    'UNSUBSCRIBE without topic filters',
    'a2 03 00 01 00',
    'UNSUBSCRIBE: an UNSUBSCRIBE must contain at least one topic filter',
    P,
  ],
  ['SUBACK without reason codes', '90 03 00 01 00', 'SUBACK: a SUBACK must contain at least one reason code', P],
  [
    'CONNECT with protocol name "MQIsdp"',
    '10 0f 00 06 4d 51 49 73 64 70 05 02 00 0a 00 00 00',
    'CONNECT: protocol name must be "MQTT"',
    M,
  ],
  [
    'CONNECT for MQTT 3.1.1',
    '10 0d 00 04 4d 51 54 54 04 02 00 0a 00 00 00',
    'CONNECT: protocol version 4 is not supported (only MQTT 5)',
    P,
  ],
  [
    'CONNECT with reserved flag bit 0',
    '10 0d 00 04 4d 51 54 54 05 03 00 0a 00 00 00',
    'CONNECT: reserved connect flag bit 0 must be 0',
    M,
  ],
  ['CONNECT with will QoS 3', '10 0d 00 04 4d 51 54 54 05 1c 00 0a 00 00 00', 'CONNECT: will QoS must not be 3', M],
  [
    'CONNECT with will retain and no will',
    '10 0d 00 04 4d 51 54 54 05 20 00 0a 00 00 00',
    'CONNECT: will QoS and will retain must be 0 without a will',
    M,
  ],
  [
    'CONNECT with a user name flag and no user name',
    '10 0d 00 04 4d 51 54 54 05 80 00 0a 00 00 00',
    'CONNECT: user name runs past the end of the packet',
    M,
  ],
  [
    'CONNECT with an empty will topic',
    '10 12 00 04 4d 51 54 54 05 04 00 0a 00 00 00 00 00 00 00 00',
    'CONNECT: will topic must not be empty',
    P,
  ],
];

describe('Decoder callback contract and lazily allocated state', () => {
  const PING = hex('d0 00');
  const publish = (topicName: string, n = 20): Buffer =>
    encode({ type: PacketType.Publish, topicName, payload: Buffer.alloc(n, 1), qos: 0 });
  const topics = (packets: Packet[]): string[] => packets.map((p) => (p as PublishPacket).topicName);

  it('calls onPacket with the decoder as `this`: one shared function serves several decoders', () => {
    const seen: [Decoder, Packet][] = [];
    function onPacket(this: Decoder, packet: Packet): void {
      seen.push([this, packet]);
    }
    const a = new Decoder({ onPacket });
    const b = new Decoder({ onPacket, maximumPacketSize: 500 });
    a.feed(PING);
    b.feed(STREAM.subarray(0, 7)); // a split frame completes on the next feed
    b.feed(STREAM.subarray(7));
    a.feed(PING.subarray(0, 1)); // a split fixed header of a frame without body
    a.feed(PING.subarray(1));
    expect(seen.map(([self]) => self)).toEqual([a, ...PACKETS.map(() => b), a]);
    expect(seen[0]?.[0]).toBe(a);
    expect(seen[1]?.[0]).toBe(b);
    expect(seen[seen.length - 1]?.[0]).toBe(a);
    expect(seen.map(([, p]) => p)).toEqual([{ type: PacketType.Pingresp }, ...PACKETS, { type: PacketType.Pingresp }]);
  });

  it('a decoder that never held a split frame or a PUBLISH can be reset, then decodes split frames', () => {
    const decoder = new Decoder();
    decoder.reset();
    expect(decoder.bufferedBytes).toBe(0);
    expect(decoder.decodeAll(PING)).toEqual([{ type: PacketType.Pingresp }]);
    decoder.reset();
    const frame = publish('t/1');
    expect(decoder.decodeAll(frame.subarray(0, 1))).toEqual([]); // split fixed header
    expect(decoder.decodeAll(frame.subarray(1, 9))).toEqual([]); // then split body
    expect(topics(decoder.decodeAll(frame.subarray(9)))).toEqual(['t/1']);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('reset() drops a partial fixed header or a partial body; the next frames decode from scratch', () => {
    const frame = publish('t/1', 200); // remaining length on 2 bytes
    for (const cut of [1, 2, 3, 10]) {
      const decoder = new Decoder();
      expect(decoder.decodeAll(frame.subarray(0, cut))).toEqual([]);
      expect(decoder.bufferedBytes).toBe(cut);
      decoder.reset();
      expect(decoder.bufferedBytes).toBe(0);
      expect(decoder.decodeAll(Buffer.concat([PING, frame]))).toHaveLength(2);
    }
  });

  it('whole frames then a split one in the same chunk, and a split one completed together with whole frames', () => {
    const frame = publish('a/b', 100);
    for (const cut of [1, 2, 5, frame.length - 1]) {
      const decoder = new Decoder();
      const first = decoder.decodeAll(Buffer.concat([PING, publish('x/y'), frame.subarray(0, cut)]));
      expect(first).toHaveLength(2);
      expect(decoder.bufferedBytes).toBe(cut);
      const rest = decoder.decodeAll(Buffer.concat([frame.subarray(cut), publish('a/c'), PING, frame.subarray(0, cut)]));
      expect(rest.map((p) => p.type)).toEqual([PacketType.Publish, PacketType.Publish, PacketType.Pingresp]);
      expect(topics(rest.slice(0, 2))).toEqual(['a/b', 'a/c']);
      expect(topics(decoder.decodeAll(frame.subarray(cut)))).toEqual(['a/b']);
      expect(decoder.bufferedBytes).toBe(0);
    }
  });

  it('the topic of a PUBLISH is right after a reset and across split and whole frames of same-length topics', () => {
    const decoder = new Decoder();
    expect(topics(decoder.decodeAll(publish('a/b')))).toEqual(['a/b']);
    decoder.reset();
    const split = publish('a/c');
    expect(decoder.decodeAll(split.subarray(0, 6))).toEqual([]);
    expect(topics(decoder.decodeAll(Buffer.concat([split.subarray(6), publish('a/b'), publish('a/c')])))).toEqual([
      'a/c',
      'a/b',
      'a/c',
    ]);
  });

  it('onPacket throwing on a packet completed from a split frame keeps the rest of the chunk', () => {
    for (const frame of [PING, publish('t', 50)]) {
      const got: Packet[] = [];
      let fail = true;
      const decoder = new Decoder({
        onPacket(packet) {
          got.push(packet);
          if (fail) {
            fail = false;
            throw new Error('listener failed');
          }
        },
      });
      decoder.feed(frame.subarray(0, 1));
      expect(() => decoder.feed(Buffer.concat([frame.subarray(1), PING]))).toThrow('listener failed');
      decoder.feed(Buffer.alloc(0));
      expect(got).toHaveLength(2);
      expect(got[1]).toEqual({ type: PacketType.Pingresp });
      expect(decoder.bufferedBytes).toBe(0);
    }
  });
});

describe('Decoder on malformed input', () => {
  it.each(MALFORMED)('%s', (_name, frame, message, reasonCode) => {
    const e = decodeError(() => new Decoder().decodeAll(hex(frame)));
    expect(e.message.slice(0, message.length)).toBe(message);
    expect(e.reasonCode).toBe(reasonCode);
  });

  it.each(MALFORMED)('%s, split at every byte, fails the same way', (_name, frame, message) => {
    const bytes = hex(frame);
    for (let cut = 1; cut < bytes.length; cut++) {
      const decoder = new Decoder();
      const e = decodeError(() => {
        decoder.feed(bytes.subarray(0, cut));
        decoder.feed(bytes.subarray(cut));
      });
      expect(e.message.slice(0, message.length)).toBe(message);
    }
  });
});
