import fc from 'fast-check';
import * as arb from '../test/support/arbitraries.js';
import { Decoder, decodePacket } from './decoder.js';
import { encode, encodeInto, encodedSize } from './encoder.js';
import { type Packet, PacketType } from './packets.js';

const bin = (...bytes: number[]): Buffer => Buffer.from(bytes);
const ups = [
  { name: 'b', value: '1' },
  { name: 'a', value: '2' },
  { name: 'b', value: '3' },
  { name: '', value: '' },
  { name: 'ключ', value: '値 😀' },
];

/** One packet of each type, with every property that type can carry. */
const FULL: Packet[] = [
  {
    type: PacketType.Connect,
    keepAliveIntervalSeconds: 65535,
    cleanStart: false,
    clientId: 'client-é',
    sessionExpiryIntervalSeconds: 0xffffffff,
    receiveMaximum: 1,
    maximumPacketSizeBytes: 268435460,
    topicAliasMaximum: 0,
    requestResponseInformation: true,
    requestProblemInformation: false,
    userProperties: ups,
    authenticationMethod: 'SCRAM-SHA-1',
    authenticationData: bin(0, 1, 2),
    willDelayIntervalSeconds: 30,
    will: {
      topicName: 'last/will',
      payload: bin(0xde, 0xad),
      qos: 2,
      retain: false,
      payloadFormat: 1,
      messageExpiryIntervalSeconds: 10,
      contentType: 'text/plain',
      responseTopic: 'reply/here',
      correlationData: bin(9, 9),
      userProperties: [{ name: 'w', value: 'v' }],
    },
    username: 'user',
    password: bin(0x70, 0x77),
  },
  {
    type: PacketType.Connack,
    sessionPresent: true,
    reasonCode: 0,
    sessionExpiryInterval: 3600,
    receiveMaximum: 100,
    maximumQos: 1,
    retainAvailable: false,
    maximumPacketSize: 131072,
    assignedClientIdentifier: 'gen-1',
    topicAliasMaximum: 10,
    reasonString: 'welcome',
    userProperties: ups,
    wildcardSubscriptionsAvailable: true,
    subscriptionIdentifiersAvailable: false,
    sharedSubscriptionsAvailable: true,
    serverKeepAlive: 60,
    responseInformation: 'resp/',
    serverReference: 'other.example.com',
    authenticationMethod: 'm',
    authenticationData: bin(1),
  },
  {
    type: PacketType.Publish,
    topicName: 'a/b/c',
    payload: Buffer.from('{"t":21.5}'),
    qos: 1,
    retain: true,
    dup: true,
    packetId: 65535,
    payloadFormat: 1,
    messageExpiryIntervalSeconds: 4294967295,
    topicAlias: 65535,
    responseTopic: 'reply/to',
    correlationData: bin(1, 2, 3),
    userProperties: ups,
    subscriptionIdentifiers: [1, 127, 128, 16383, 16384, 268435455],
    contentType: 'application/json',
  },
  { type: PacketType.Puback, packetId: 1, reasonCode: 0x10, reasonString: 'nobody', userProperties: ups },
  { type: PacketType.Pubrec, packetId: 2, reasonCode: 0x91, reasonString: 'in use', userProperties: ups },
  { type: PacketType.Pubrel, packetId: 3, reasonCode: 0x92, reasonString: 'not found', userProperties: ups },
  { type: PacketType.Pubcomp, packetId: 4, reasonCode: 0, reasonString: 'ok', userProperties: ups },
  {
    type: PacketType.Subscribe,
    packetId: 5,
    subscriptionIdentifier: 268435455,
    userProperties: ups,
    subscriptions: [
      { topicFilter: 'a/+/c', qos: 0, noLocal: true, retainAsPublished: true, retainHandlingType: 0 },
      { topicFilter: '#', qos: 1, noLocal: false, retainAsPublished: false, retainHandlingType: 1 },
      { topicFilter: '$share/g/x/#', qos: 2, noLocal: false, retainAsPublished: true, retainHandlingType: 2 },
    ],
  },
  {
    type: PacketType.Suback,
    packetId: 5,
    reasonCodes: [0, 1, 2, 0x80, 0xa2],
    reasonString: 'partly',
    userProperties: ups,
  },
  { type: PacketType.Unsubscribe, packetId: 6, topicFilters: ['a/+/c', '#', '$share/g/x'], userProperties: ups },
  { type: PacketType.Unsuback, packetId: 6, reasonCodes: [0, 0x11, 0x87], reasonString: 'partly', userProperties: ups },
  { type: PacketType.Pingreq },
  { type: PacketType.Pingresp },
  {
    type: PacketType.Disconnect,
    reasonCode: 0x9c,
    sessionExpiryIntervalSeconds: 0,
    reasonString: 'moved',
    serverReference: 'b.example.com',
    userProperties: ups,
  },
  {
    type: PacketType.Auth,
    reasonCode: 0x19,
    authenticationMethod: 'SCRAM-SHA-1',
    authenticationData: bin(0xff, 0x00),
    reasonString: 're-auth',
    userProperties: ups,
  },
];

describe('round trip', () => {
  it.each(FULL.map((p) => [PacketType[p.type], p] as const))('%s with every property', (_name, packet) => {
    const bytes = encode(packet);
    expect(bytes.length).toBe(encodedSize(packet));
    expect(decodePacket(bytes)).toEqual(packet);
  });

  it('keeps the order of user properties across names, repeated names and empty strings', () => {
    const packet = FULL[2] as Packet & { userProperties: unknown };
    expect((decodePacket(encode(packet)) as { userProperties: unknown }).userProperties).toEqual(ups);
  });

  it('round-trips generated packets of all 15 types: decode(encode(p)) = p, encodedSize = length, encodeInto = encode', () => {
    const target = Buffer.alloc(8192);
    fc.assert(
      fc.property(arb.packet(), fc.nat(64), (packet, offset) => {
        const bytes = encode(packet);
        expect(bytes.length).toBe(encodedSize(packet));
        expect(decodePacket(bytes)).toEqual(packet);
        const end = encodeInto(packet, target, offset);
        expect(end).toBe(offset + bytes.length);
        expect(target.subarray(offset, end).equals(bytes)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('round-trips a stream of generated packets through one decoder in random chunks', () => {
    fc.assert(
      fc.property(
        fc.array(arb.packet(), { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(300), { maxLength: 12 }),
        (packets, cuts) => {
          const stream = Buffer.concat(packets.map((p) => encode(p)));
          const decoder = new Decoder();
          const got: Packet[] = [];
          let pos = 0;
          for (const cut of cuts) {
            const next = Math.min(stream.length, pos + cut);
            got.push(...decoder.decodeAll(stream.subarray(pos, next)));
            pos = next;
          }
          got.push(...decoder.decodeAll(stream.subarray(pos)));
          expect(got).toEqual(packets);
          expect(decoder.bufferedBytes).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });
});
