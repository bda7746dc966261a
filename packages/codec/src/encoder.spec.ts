import fc from 'fast-check';
import { decodePacket } from './decoder.js';
import { encode, encodeInto, encodedSize, variableByteIntegerLength } from './encoder.js';
import { Mqtt5Error } from './errors.js';
import { type Packet, PacketType, type PublishPacket } from './packets.js';

function encodeError(fn: () => unknown): Mqtt5Error {
  try {
    fn();
  } catch (e) {
    expect(Mqtt5Error.isInstance(e)).toBe(true);
    expect((e as Mqtt5Error).code).toBe('AWS_ERROR_MQTT5_ENCODE_FAILURE');
    return e as Mqtt5Error;
  }
  throw new Error('expected an encode failure');
}

const publish = (o: Partial<PublishPacket> = {}): Packet =>
  ({ type: PacketType.Publish, topicName: 'a', qos: 0, ...o }) as Packet;
const payloadOf = (p: Packet): Buffer => (decodePacket(encode(p)) as PublishPacket).payload as Buffer;

describe('encode', () => {
  it('normalises every outbound payload type', () => {
    expect(payloadOf(publish({ payload: 'héllo' }))).toEqual(Buffer.from('héllo'));
    expect(payloadOf(publish({ payload: new Uint8Array([1, 2]) }))).toEqual(Buffer.from([1, 2]));
    expect(payloadOf(publish({ payload: new Uint16Array([0x0102]).subarray(0, 1) }))).toEqual(
      Buffer.from(new Uint16Array([0x0102]).buffer),
    );
    expect(payloadOf(publish({ payload: new DataView(new Uint8Array([9, 8, 7]).buffer, 1, 2) }))).toEqual(
      Buffer.from([8, 7]),
    );
    expect(payloadOf(publish({ payload: new Uint8Array([5, 6]).buffer }))).toEqual(Buffer.from([5, 6]));
    expect(payloadOf(publish({ payload: { a: [1, 'x'] } }))).toEqual(Buffer.from('{"a":[1,"x"]}'));
    expect(payloadOf(publish({ payload: undefined }))).toEqual(Buffer.alloc(0));
    expect(payloadOf(publish({ payload: null as unknown as undefined }))).toEqual(Buffer.alloc(0));
    expect(payloadOf(publish({ payload: '' }))).toEqual(Buffer.alloc(0));
  });

  it('accepts the same BinaryData types for correlation data, password and authentication data', () => {
    const packet: Packet = {
      type: PacketType.Connect,
      keepAliveIntervalSeconds: 1,
      password: 'pw',
      authenticationMethod: 'm',
      authenticationData: new Uint8Array([1]).buffer,
      will: { topicName: 'w', qos: 0, correlationData: new DataView(new Uint8Array([7]).buffer) },
    };
    expect(decodePacket(encode(packet))).toMatchObject({
      password: Buffer.from('pw'),
      authenticationData: Buffer.from([1]),
      will: { correlationData: Buffer.from([7]) },
    });
  });

  it('measures a QoS 1 PUBLISH, SUBSCRIBE and UNSUBSCRIBE with the packet identifier before one is bound', () => {
    const p = publish({ qos: 1, payload: 'x' });
    expect(encodedSize(p)).toBe(encode({ ...p, packetId: 1 } as Packet).length);
    const sub: Packet = { type: PacketType.Subscribe, subscriptions: [{ topicFilter: 'a', qos: 0 }] };
    expect(encodedSize(sub)).toBe(encode({ ...sub, packetId: 9 } as Packet).length);
    const unsub: Packet = { type: PacketType.Unsubscribe, topicFilters: ['a'] };
    expect(encodedSize(unsub)).toBe(encode({ ...unsub, packetId: 9 } as Packet).length);
  });

  it('refuses to encode a packet without its packet identifier', () => {
    expect(encodeError(() => encode(publish({ qos: 1 }))).message).toBe(
      'PUBLISH packetId must be an integer 1..65535, got undefined',
    );
    expect(encodeError(() => encode(publish({ qos: 2, packetId: 0 }))).message).toBe(
      'PUBLISH packetId must be an integer 1..65535, got 0',
    );
    expect(
      encodeError(() => encode({ type: PacketType.Subscribe, subscriptions: [{ topicFilter: 'a', qos: 0 }] })).message,
    ).toBe('SUBSCRIBE packetId must be an integer 1..65535, got undefined');
    expect(encodeError(() => encode({ type: PacketType.Unsubscribe, topicFilters: ['a'] })).message).toBe(
      'UNSUBSCRIBE packetId must be an integer 1..65535, got undefined',
    );
    expect(encodeError(() => encode({ type: PacketType.Puback, packetId: 0, reasonCode: 0 })).message).toBe(
      'PUBACK packetId must be an integer 1..65535, got 0',
    );
  });

  // Every case that would otherwise produce a truncated or ill-framed packet.
  const FAILURES: [string, Packet, string][] = [
    [
      'a topic of 65536 bytes',
      publish({ topicName: 'a'.repeat(65536) }),
      'PUBLISH topicName is 65536 UTF-8 bytes, more than the 65535 a packet can carry',
    ],
    [
      'a topic of 65535 3-byte characters',
      publish({ topicName: '€'.repeat(21846) }),
      'PUBLISH topicName is 65538 UTF-8 bytes, more than the 65535 a packet can carry',
    ],
    [
      'a user property of 65536 bytes',
      publish({ userProperties: [{ name: 'a', value: 'b'.repeat(65536) }] }),
      'PUBLISH userProperties[0].value is 65536 UTF-8 bytes, more than the 65535 a packet can carry',
    ],
    [
      'correlation data of 65536 bytes',
      publish({ correlationData: Buffer.alloc(65536) }),
      'PUBLISH correlationData is 65536 bytes, more than the 65535 a packet can carry',
    ],
    [
      'a password of 65536 bytes',
      { type: PacketType.Connect, keepAliveIntervalSeconds: 0, password: Buffer.alloc(65536) },
      'CONNECT password is 65536 bytes, more than the 65535 a packet can carry',
    ],
    [
      'a will payload of 65536 bytes',
      {
        type: PacketType.Connect,
        keepAliveIntervalSeconds: 0,
        will: { topicName: 'w', qos: 0, payload: Buffer.alloc(65536) },
      },
      'CONNECT will payload is 65536 bytes, more than the 65535 a will can carry',
    ],
    [
      'a packet id of 65536',
      publish({ qos: 1, packetId: 65536 }),
      'PUBLISH packetId must be an integer 0..65535, got 65536',
    ],
    [
      'a topic alias of 70000',
      publish({ topicAlias: 70000 }),
      'PUBLISH topicAlias must be an integer 0..65535, got 70000',
    ],
    [
      'a keep alive of -1',
      { type: PacketType.Connect, keepAliveIntervalSeconds: -1 },
      'CONNECT keepAliveIntervalSeconds must be an integer 0..65535, got -1',
    ],
    [
      'a message expiry of 4294967296',
      publish({ messageExpiryIntervalSeconds: 4294967296 }),
      'PUBLISH messageExpiryIntervalSeconds must be an integer 0..4294967295, got 4294967296',
    ],
    [
      'a message expiry of 1.5',
      publish({ messageExpiryIntervalSeconds: 1.5 }),
      'PUBLISH messageExpiryIntervalSeconds must be an integer 0..4294967295, got 1.5',
    ],
    [
      'a subscription identifier of 268435456',
      publish({ subscriptionIdentifiers: [268435456] }),
      'PUBLISH subscriptionIdentifiers[0] must be an integer 0..268435455, got 268435456',
    ],
    [
      'a SUBSCRIBE subscription identifier of -1',
      {
        type: PacketType.Subscribe,
        packetId: 1,
        subscriptionIdentifier: -1,
        subscriptions: [{ topicFilter: 'a', qos: 0 }],
      },
      'SUBSCRIBE subscriptionIdentifier must be an integer 0..268435455, got -1',
    ],
    ['QoS 3', publish({ qos: 3 as 0 }), 'PUBLISH qos must be 0, 1 or 2, got 3'],
    ['QoS "1"', publish({ qos: '1' as unknown as 1 }), 'PUBLISH qos must be 0, 1 or 2, got string "1"'],
    [
      'retain handling 3',
      {
        type: PacketType.Subscribe,
        packetId: 1,
        subscriptions: [{ topicFilter: 'a', qos: 0, retainHandlingType: 3 as 0 }],
      },
      'SUBSCRIBE subscriptions[0].retainHandlingType must be 0, 1 or 2, got 3',
    ],
    [
      'no subscriptions',
      { type: PacketType.Subscribe, packetId: 1, subscriptions: [] },
      'SUBSCRIBE subscriptions must be a non-empty array, got an empty array',
    ],
    [
      'no topic filters',
      { type: PacketType.Unsubscribe, packetId: 1, topicFilters: [] },
      'UNSUBSCRIBE topicFilters must be a non-empty array, got an empty array',
    ],
    [
      'no SUBACK reason codes',
      { type: PacketType.Suback, packetId: 1, reasonCodes: [] },
      'SUBACK reasonCodes must be a non-empty array, got an empty array',
    ],
    [
      'a reason code of 256',
      { type: PacketType.Disconnect, reasonCode: 256 as 0 },
      'DISCONNECT reasonCode must be an integer 0..255, got 256',
    ],
    [
      'a boolean property that is a number',
      { type: PacketType.Connack, sessionPresent: false, reasonCode: 0, retainAvailable: 1 as unknown as boolean },
      'CONNACK retainAvailable must be a boolean, got 1',
    ],
    [
      'a topic that is not a string',
      publish({ topicName: 42 as unknown as string }),
      'PUBLISH topicName must be a string, got 42',
    ],
    [
      'user properties that are not an array',
      publish({ userProperties: {} as [] }),
      'PUBLISH userProperties must be an array, got object',
    ],
    [
      'a user property that is null',
      publish({ userProperties: [null as unknown as { name: string; value: string }] }),
      'PUBLISH userProperties[0] must be an object, got null',
    ],
    [
      'a payload that is a number',
      publish({ payload: 5 as unknown as string }),
      'PUBLISH payload must be a string, bytes or an object, got 5',
    ],
    [
      'a payload JSON cannot serialise',
      publish({ payload: { big: BigInt(1) } }),
      'PUBLISH payload could not be serialised with JSON.stringify',
    ],
    [
      'correlation data that is a number',
      publish({ correlationData: 5 as unknown as string }),
      'PUBLISH correlationData must be a string, Uint8Array, ArrayBufferView or ArrayBuffer, got 5',
    ],
    ['an unknown packet type', { type: 0 } as unknown as Packet, 'unknown packet type 0'],
    ['null', null as unknown as Packet, 'packet must be an object, got null'],
  ];

  it.each(FAILURES)('refuses %s', (_name, packet, message) => {
    expect(encodeError(() => encode(packet)).message).toBe(message);
    expect(encodeError(() => encodedSize(packet)).message).toBe(message);
    expect(encodeError(() => encodeInto(packet, Buffer.alloc(300000), 0)).message).toBe(message);
  });

  it('refuses a PUBLISH whose remaining length would exceed 268435455', () => {
    const payload = new Uint8Array(new ArrayBuffer(268_435_455));
    expect(encodeError(() => encodedSize(publish({ payload }))).message).toBe(
      'PUBLISH remaining length 268435459 is over the MQTT maximum of 268435455',
    );
  });

  it('encodes remaining lengths at the variable byte integer boundaries (§1.5.5)', () => {
    // PUBLISH topic "a", no properties: remaining length = 4 + payload length.
    for (const [remaining, header] of [
      [127, '307f'],
      [128, '308001'],
      [16383, '30ff7f'],
      [16384, '30808001'],
      [2097151, '30ffff7f'],
      [2097152, '3080808001'],
    ] as const) {
      const bytes = encode(publish({ payload: Buffer.alloc(remaining - 4) }));
      expect(bytes.subarray(0, header.length / 2).toString('hex')).toBe(header);
      expect(bytes.length).toBe(header.length / 2 + remaining);
    }
    expect([0, 127, 128, 16383, 16384, 2097151, 2097152, 268435455].map(variableByteIntegerLength)).toEqual([
      1, 1, 2, 2, 3, 3, 4, 4,
    ]);
  });

  it('encodes a property block longer than 127 bytes with a multi-byte property length', () => {
    const p: Packet = { type: PacketType.Puback, packetId: 1, reasonCode: 0, reasonString: 'r'.repeat(300) };
    expect(decodePacket(encode(p))).toEqual(p);
  });

  it('writes several packets into one buffer with encodeInto', () => {
    const packets: Packet[] = [
      publish({ payload: 'x' }),
      { type: PacketType.Pingreq },
      { type: PacketType.Puback, packetId: 3, reasonCode: 0 },
    ];
    const size = packets.reduce((n, p) => n + encodedSize(p), 0);
    const target = Buffer.alloc(size);
    let offset = 0;
    for (const p of packets) offset = encodeInto(p, target, offset);
    expect(offset).toBe(size);
    expect(target).toEqual(Buffer.concat(packets.map((p) => encode(p))));
  });

  it('encodeInto accepts a plain Uint8Array target', () => {
    const target = new Uint8Array(10);
    expect(encodeInto({ type: PacketType.Pingresp }, target, 3)).toBe(5);
    expect(Array.from(target.subarray(3, 5))).toEqual([0xd0, 0]);
  });

  it('encodeInto refuses a target that is too small or a bad offset, and writes nothing', () => {
    const target = Buffer.alloc(4, 0xee);
    expect(encodeError(() => encodeInto(publish({ payload: 'xyz' }), target, 0)).message).toBe(
      'PUBLISH of 9 bytes does not fit in the target at offset 0 (length 4)',
    );
    expect(encodeError(() => encodeInto({ type: PacketType.Pingreq }, target, 3)).message).toMatch(/does not fit/);
    expect(encodeError(() => encodeInto({ type: PacketType.Pingreq }, target, -1)).message).toMatch(/does not fit/);
    expect(target).toEqual(Buffer.alloc(4, 0xee));
  });

  it('notices a packet whose getters change between measuring and writing', () => {
    let n = 0;
    const packet = {
      type: PacketType.Publish,
      qos: 0,
      get topicName() {
        n++;
        return n === 1 ? 'short/topic/not/cached' : 'a much longer topic name than before';
      },
    } as unknown as Packet;
    expect(encodeError(() => encode(packet)).message).toBe(
      'PUBLISH changed while it was being encoded (a getter returned different values?)',
    );
  });

  it('throws only encode failures for garbage fields', () => {
    const garbage = fc.record({
      type: fc.oneof(fc.integer({ min: 0, max: 16 }), fc.anything()),
      topicName: fc.anything(),
      qos: fc.anything(),
      packetId: fc.anything(),
      payload: fc.anything(),
      reasonCode: fc.anything(),
      reasonCodes: fc.anything(),
      subscriptions: fc.oneof(fc.anything(), fc.array(fc.anything())),
      topicFilters: fc.anything(),
      keepAliveIntervalSeconds: fc.anything(),
      userProperties: fc.oneof(fc.anything(), fc.array(fc.record({ name: fc.anything(), value: fc.anything() }))),
      will: fc.anything(),
      correlationData: fc.anything(),
      messageExpiryIntervalSeconds: fc.anything(),
    });
    fc.assert(
      fc.property(garbage, (value) => {
        try {
          const bytes = encode(value as unknown as Packet);
          expect(bytes.length).toBe(encodedSize(value as unknown as Packet));
        } catch (e) {
          expect(Mqtt5Error.isInstance(e) && e.code === 'AWS_ERROR_MQTT5_ENCODE_FAILURE').toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
