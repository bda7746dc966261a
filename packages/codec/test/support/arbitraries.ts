/**
 * fast-check arbitraries of valid MQTT 5 packets in their canonical decoded shape: exactly what
 * `Decoder` yields for their encoding (optional fields absent rather than undefined, binary data as
 * `Buffer`, user property lists non-empty when present).
 */
import fc from 'fast-check';
import {
  type AuthPacket,
  type ConnackPacket,
  type ConnectPacket,
  type DisconnectPacket,
  type Packet,
  PacketType,
  type PubackPacket,
  type PublishPacket,
  type SubackPacket,
  type SubscribePacket,
  type Subscription,
  type UnsubackPacket,
  type UnsubscribePacket,
  type UserProperty,
} from '../../src/index.js';

/** Options that narrow the packets to what another implementation can represent. */
export interface ArbitraryOptions {
  /** User property names: `'n'` + a string (no array-index names); values non-empty. */
  mqttPacketCompatible?: boolean;
}

const RC = {
  connack: [0, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 138, 140, 144, 149, 151, 153, 154, 155, 156, 157, 159],
  puback: [0, 16, 128, 131, 135, 144, 145, 151, 153],
  pubrel: [0, 146],
  suback: [0, 1, 2, 128, 131, 135, 143, 145, 151, 158, 161, 162],
  unsuback: [0, 17, 128, 131, 135, 143, 145],
  disconnect: [
    0, 4, 128, 129, 130, 131, 135, 137, 139, 141, 142, 143, 144, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157,
    158, 159, 160, 161, 162,
  ],
  auth: [0, 24, 25],
};
export const REASON_CODE_SETS = RC;

/** Any well-formed string without U+0000 (what the decoder accepts). */
export const str = (maxLength = 12): fc.Arbitrary<string> =>
  fc.string({ unit: 'binary', maxLength }).map((s) => s.replace(/\0/g, ''));
const noWild = (maxLength = 12): fc.Arbitrary<string> => str(maxLength).map((s) => s.replace(/[+#]/g, ''));
export const topicName = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom('a', 'sensors/device-0001/telemetry', '$aws/things/x/shadow/update', '/', 'a//b/'),
    noWild().filter((s) => s.length > 0),
  );
const segment = (): fc.Arbitrary<string> => noWild(6).map((s) => s.replace(/\//g, ''));
export const topicFilter = (): fc.Arbitrary<string> =>
  fc
    .tuple(
      fc.array(fc.oneof(segment(), fc.constant('+')), { minLength: 1, maxLength: 4 }),
      fc.boolean(),
      fc.option(
        segment().filter((s) => s.length > 0),
        { nil: undefined },
      ),
    )
    .map(([levels, hash, share]) => {
      const filter = [...levels, ...(hash ? ['#'] : [])].join('/');
      return share === undefined ? filter : `$share/${share}/${filter}`;
    })
    .filter((f) => f.length > 0 && !f.endsWith('$share/') && !/^\$share\/[^/]+\/$/.test(f));

const u16 = fc.integer({ min: 0, max: 0xffff });
const u16nz = fc.integer({ min: 1, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u32nz = fc.integer({ min: 1, max: 0xffffffff });
const vbinz = fc.integer({ min: 1, max: 268_435_455 });
export const bytes = (maxLength = 24): fc.Arbitrary<Buffer> => fc.uint8Array({ maxLength }).map((u) => Buffer.from(u));

function userProperties(o: ArbitraryOptions): fc.Arbitrary<UserProperty[]> {
  const name = o.mqttPacketCompatible ? str(8).map((s) => `n${s}`) : str(8);
  const value = o.mqttPacketCompatible ? str(8).map((s) => `v${s}`) : str(8);
  return fc.array(
    fc.record({ name, value }).map((u) => ({ name: u.name, value: u.value })),
    { minLength: 1, maxLength: 4 },
  );
}

function plain<T extends object>(o: T): T {
  return { ...o };
}

export function publish(o: ArbitraryOptions = {}): fc.Arbitrary<PublishPacket & { type: PacketType.Publish }> {
  return fc
    .record(
      {
        topicName: fc.oneof(topicName(), fc.constant('')),
        payload: bytes(64),
        qos: fc.constantFrom(0, 1, 2),
        retain: fc.boolean(),
        dup: fc.boolean(),
        packetId: u16nz,
        payloadFormat: fc.constantFrom(0, 1),
        messageExpiryIntervalSeconds: u32,
        topicAlias: u16nz,
        responseTopic: topicName(),
        correlationData: bytes(),
        userProperties: userProperties(o),
        subscriptionIdentifiers: fc.array(vbinz, { minLength: 1, maxLength: 3 }),
        contentType: str(),
      },
      { requiredKeys: ['topicName', 'payload', 'qos', 'retain', 'dup', 'packetId'] },
    )
    .map((r) => {
      const p = plain(r) as PublishPacket & { type: PacketType.Publish };
      p.type = PacketType.Publish;
      if (p.qos === 0) {
        delete p.packetId;
        p.dup = false;
      }
      return p;
    });
}

export function ack(
  type: PacketType.Puback | PacketType.Pubrec | PacketType.Pubrel | PacketType.Pubcomp,
  o: ArbitraryOptions = {},
): fc.Arbitrary<Packet> {
  const codes = type === PacketType.Pubrel || type === PacketType.Pubcomp ? RC.pubrel : RC.puback;
  return fc
    .record(
      {
        packetId: u16nz,
        reasonCode: fc.constantFrom(...codes),
        reasonString: str(),
        userProperties: userProperties(o),
      },
      { requiredKeys: ['packetId', 'reasonCode'] },
    )
    .map((r) => ({ type, ...r }) as PubackPacket as Packet);
}

export function connect(o: ArbitraryOptions = {}): fc.Arbitrary<ConnectPacket & { type: PacketType.Connect }> {
  const will = fc
    .record(
      {
        topicName: topicName(),
        payload: bytes(),
        qos: fc.constantFrom(0, 1, 2),
        retain: fc.boolean(),
        payloadFormat: fc.constantFrom(0, 1),
        messageExpiryIntervalSeconds: u32,
        contentType: str(),
        responseTopic: topicName(),
        correlationData: bytes(),
        userProperties: userProperties(o),
      },
      { requiredKeys: ['topicName', 'payload', 'qos', 'retain'] },
    )
    .map(plain);
  return fc
    .record(
      {
        keepAliveIntervalSeconds: u16,
        cleanStart: fc.boolean(),
        clientId: str(),
        sessionExpiryIntervalSeconds: u32,
        receiveMaximum: u16nz,
        maximumPacketSizeBytes: u32nz,
        topicAliasMaximum: u16,
        requestResponseInformation: fc.boolean(),
        requestProblemInformation: fc.boolean(),
        userProperties: userProperties(o),
        authenticationMethod: str(),
        authenticationData: bytes(),
        will,
        willDelayIntervalSeconds: u32,
        username: str(),
        password: bytes(),
      },
      { requiredKeys: ['keepAliveIntervalSeconds', 'cleanStart', 'clientId'] },
    )
    .map((r) => {
      const p = plain(r) as ConnectPacket & { type: PacketType.Connect };
      p.type = PacketType.Connect;
      if (p.will === undefined) delete p.willDelayIntervalSeconds;
      if (p.authenticationMethod === undefined) delete p.authenticationData;
      if (o.mqttPacketCompatible) {
        if (p.password !== undefined && p.username === undefined) p.username = 'user';
        if (p.clientId === '' && !p.cleanStart) p.clientId = 'client';
      }
      return p;
    });
}

export function connack(o: ArbitraryOptions = {}): fc.Arbitrary<ConnackPacket> {
  return fc
    .record(
      {
        sessionPresent: fc.boolean(),
        reasonCode: fc.constantFrom(...RC.connack),
        sessionExpiryInterval: u32,
        receiveMaximum: u16nz,
        maximumQos: fc.constantFrom(0, 1),
        retainAvailable: fc.boolean(),
        maximumPacketSize: u32nz,
        assignedClientIdentifier: str(),
        topicAliasMaximum: u16,
        reasonString: str(),
        userProperties: userProperties(o),
        wildcardSubscriptionsAvailable: fc.boolean(),
        subscriptionIdentifiersAvailable: fc.boolean(),
        sharedSubscriptionsAvailable: fc.boolean(),
        serverKeepAlive: u16,
        responseInformation: str(),
        serverReference: str(),
        authenticationMethod: str(),
        authenticationData: bytes(),
      },
      { requiredKeys: ['sessionPresent', 'reasonCode'] },
    )
    .map((r) => {
      const p = { type: PacketType.Connack, ...r } as ConnackPacket;
      if (p.reasonCode >= 128) p.sessionPresent = false;
      if (p.authenticationMethod === undefined) delete p.authenticationData;
      return p;
    });
}

export function subscribe(o: ArbitraryOptions = {}): fc.Arbitrary<SubscribePacket & { type: PacketType.Subscribe }> {
  const subscription: fc.Arbitrary<Subscription> = fc
    .record({
      topicFilter: topicFilter(),
      qos: fc.constantFrom(0, 1, 2),
      noLocal: fc.boolean(),
      retainAsPublished: fc.boolean(),
      retainHandlingType: fc.constantFrom(0, 1, 2),
    })
    .map((s) => ({ ...s, noLocal: s.noLocal && !s.topicFilter.startsWith('$share/') }));
  return fc
    .record(
      {
        packetId: u16nz,
        subscriptions: fc.array(subscription, { minLength: 1, maxLength: 4 }),
        subscriptionIdentifier: vbinz,
        userProperties: userProperties(o),
      },
      { requiredKeys: ['packetId', 'subscriptions'] },
    )
    .map((r) => ({ type: PacketType.Subscribe as const, ...r }));
}

export function suback(type: PacketType.Suback | PacketType.Unsuback, o: ArbitraryOptions = {}): fc.Arbitrary<Packet> {
  return fc
    .record(
      {
        packetId: u16nz,
        reasonCodes: fc.array(fc.constantFrom(...(type === PacketType.Suback ? RC.suback : RC.unsuback)), {
          minLength: 1,
          maxLength: 6,
        }),
        reasonString: str(),
        userProperties: userProperties(o),
      },
      { requiredKeys: ['packetId', 'reasonCodes'] },
    )
    .map((r) => ({ type, ...r }) as SubackPacket | UnsubackPacket as Packet);
}

export function unsubscribe(
  o: ArbitraryOptions = {},
): fc.Arbitrary<UnsubscribePacket & { type: PacketType.Unsubscribe }> {
  return fc
    .record(
      {
        packetId: u16nz,
        topicFilters: fc.array(topicFilter(), { minLength: 1, maxLength: 4 }),
        userProperties: userProperties(o),
      },
      { requiredKeys: ['packetId', 'topicFilters'] },
    )
    .map((r) => ({ type: PacketType.Unsubscribe as const, ...r }));
}

export function disconnect(o: ArbitraryOptions = {}): fc.Arbitrary<DisconnectPacket & { type: PacketType.Disconnect }> {
  return fc
    .record(
      {
        reasonCode: fc.constantFrom(...RC.disconnect),
        sessionExpiryIntervalSeconds: u32,
        reasonString: str(),
        serverReference: str(),
        userProperties: userProperties(o),
      },
      { requiredKeys: ['reasonCode'] },
    )
    .map((r) => ({ type: PacketType.Disconnect as const, ...r }));
}

export function auth(o: ArbitraryOptions = {}): fc.Arbitrary<AuthPacket> {
  return fc
    .record(
      {
        reasonCode: fc.constantFrom(...RC.auth),
        authenticationMethod: str(),
        authenticationData: bytes(),
        reasonString: str(),
        userProperties: userProperties(o),
      },
      { requiredKeys: ['reasonCode'] },
    )
    .map((r) => {
      const p = { type: PacketType.Auth, ...r } as AuthPacket;
      if (p.authenticationMethod === undefined) delete p.authenticationData;
      return p;
    });
}

/** Any valid packet of the 15 types. */
export function packet(o: ArbitraryOptions = {}): fc.Arbitrary<Packet> {
  return fc.oneof(
    { arbitrary: publish(o) as fc.Arbitrary<Packet>, weight: 4 },
    ack(PacketType.Puback, o),
    ack(PacketType.Pubrec, o),
    ack(PacketType.Pubrel, o),
    ack(PacketType.Pubcomp, o),
    connect(o) as fc.Arbitrary<Packet>,
    connack(o) as fc.Arbitrary<Packet>,
    subscribe(o) as fc.Arbitrary<Packet>,
    suback(PacketType.Suback, o),
    unsubscribe(o) as fc.Arbitrary<Packet>,
    suback(PacketType.Unsuback, o),
    fc.constant({ type: PacketType.Pingreq } as Packet),
    fc.constant({ type: PacketType.Pingresp } as Packet),
    disconnect(o) as fc.Arbitrary<Packet>,
    auth(o) as fc.Arbitrary<Packet>,
  );
}
