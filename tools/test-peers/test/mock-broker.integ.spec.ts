import fs from 'node:fs';
import {
  getTestCertificates,
  type IConnackPacket,
  type IDisconnectPacket,
  type IPubackPacket,
  type IPublishPacket,
  malformedFrames,
  mock,
  type MockBroker,
  type RawMqttClient,
  rawConnect,
  openRawClient,
  connectPacket,
  startMockBroker,
} from '../src/index.js';
import { failure } from './helpers.js';

const brokers: MockBroker[] = [];
const clients: RawMqttClient[] = [];

async function start(options?: Parameters<typeof startMockBroker>[0]): Promise<MockBroker> {
  const b = await startMockBroker(options);
  brokers.push(b);
  return b;
}

async function connect(
  b: MockBroker,
  fields: Parameters<typeof rawConnect>[1] = {},
): Promise<{ client: RawMqttClient; connack: IConnackPacket }> {
  const r = await rawConnect({ port: b.port }, fields);
  clients.push(r.client);
  return r;
}

function publish(
  topic: string,
  qos: 0 | 1 | 2,
  messageId?: number,
  extra: Partial<IPublishPacket> = {},
): IPublishPacket {
  return {
    cmd: 'publish',
    topic,
    payload: Buffer.from(`p-${topic}`),
    qos,
    dup: false,
    retain: false,
    ...(qos ? { messageId } : {}),
    ...extra,
  };
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(brokers.splice(0).map((b) => b.stop()));
});

describe('mock broker defaults', () => {
  it('accepts CONNECT, assigns a client id to an empty one, and records packets in order', async () => {
    const b = await start();
    const { client, connack } = await connect(b, { clientId: '' });
    expect(connack.reasonCode).toBe(0);
    expect(connack.sessionPresent).toBe(false);
    expect(connack.properties?.assignedClientIdentifier).toBe('mock-client-1');
    client.send({
      cmd: 'subscribe',
      messageId: 3,
      subscriptions: [
        { topic: 'a/+', qos: 2 },
        { topic: 'b/#', qos: 0 },
      ],
    });
    expect((await client.next('suback')).granted).toEqual([2, 0]);
    client.send({ cmd: 'pingreq' });
    await client.next('pingresp');
    client.send({ cmd: 'unsubscribe', messageId: 4, unsubscriptions: ['a/+'] });
    expect((await client.next('unsuback')).granted).toEqual([0]);
    client.send({ cmd: 'disconnect', reasonCode: 0 });
    await client.waitClosed();
    expect(b.received.map((r) => r.packet.cmd)).toEqual([
      'connect',
      'subscribe',
      'pingreq',
      'unsubscribe',
      'disconnect',
    ]);
    expect(b.received.map((r) => r.index)).toEqual([0, 1, 2, 3, 4]);
    expect(b.received.every((r) => r.connection === 1)).toBe(true);
    await b.connections[0]?.waitClosed();
    expect(b.connections[0]?.closed).toBe(true);
    expect(b.errors).toEqual([]);
  });

  it('sends the configured CONNACK properties and session present', async () => {
    const b = await start({
      connack: { sessionPresent: true, properties: { receiveMaximum: 2, topicAliasMaximum: 5, maximumQoS: 1 } },
    });
    const { client, connack } = await connect(b);
    expect(connack.sessionPresent).toBe(true);
    expect(connack.properties).toMatchObject({ receiveMaximum: 2, topicAliasMaximum: 5, maximumQoS: 1 });
    client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'x', qos: 2 }] });
    expect((await client.next('suback')).granted).toEqual([1]);
  });

  it('acks and routes QoS 0/1/2 between clients, with retained messages and subscription ids', async () => {
    const b = await start();
    const sub = (await connect(b)).client;
    sub.send({
      cmd: 'subscribe',
      messageId: 1,
      properties: { subscriptionIdentifier: 7 },
      subscriptions: [{ topic: 'r/#', qos: 2 }],
    });
    await sub.next('suback');
    const pub = (await connect(b)).client;
    pub.send(publish('r/1', 1, 10));
    expect((await pub.next('puback')).messageId).toBe(10);
    const m1 = await sub.next('publish');
    expect([m1.topic, m1.qos, m1.payload.toString(), m1.properties?.subscriptionIdentifier]).toEqual([
      'r/1',
      1,
      'p-r/1',
      7,
    ]);
    pub.send(publish('r/2', 2, 11));
    await pub.next('pubrec');
    pub.send({ cmd: 'pubrel', messageId: 11 });
    await pub.next('pubcomp');
    const m2 = await sub.next('publish');
    expect(m2.qos).toBe(2);
    sub.send({ cmd: 'pubrec', messageId: m2.messageId as number });
    expect((await sub.next('pubrel')).messageId).toBe(m2.messageId);
    pub.send(publish('r/keep', 0, undefined, { retain: true }));
    await b.waitFor((r) => r.packet.cmd === 'publish' && (r.packet as IPublishPacket).retain);
    const late = (await connect(b)).client;
    late.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'r/+', qos: 0 }] });
    await late.next('suback');
    const retained = await late.next('publish');
    expect([retained.topic, retained.retain]).toEqual(['r/keep', true]);
  });

  it('resolves inbound topic aliases and rejects an alias above the maximum with DISCONNECT 0x94', async () => {
    const b = await start({ connack: { properties: { topicAliasMaximum: 2 } } });
    const { client } = await connect(b);
    client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'al/#', qos: 0 }] });
    await client.next('suback');
    client.send(publish('al/x', 0, undefined, { properties: { topicAlias: 1 } }));
    client.send(publish('', 0, undefined, { properties: { topicAlias: 1 } }));
    expect((await client.next('publish')).topic).toBe('al/x');
    expect((await client.next('publish')).topic).toBe('al/x');
    client.send(publish('al/y', 0, undefined, { properties: { topicAlias: 3 } }));
    expect((await client.next('disconnect')).reasonCode).toBe(0x94);
    await client.waitClosed();
  });

  it('closes a connection that sends garbage, records the error, and keeps serving', async () => {
    const b = await start();
    const { client } = await connect(b);
    client.sendRaw(malformedFrames.remainingLengthTooLong);
    expect((await client.next('disconnect')).reasonCode).toBe(0x81);
    await client.waitClosed();
    expect(b.errors).toHaveLength(1);
    expect(b.errors[0]?.connection).toBe(1);
    expect(b.errors[0]?.error.message).toMatch(/malformed/);
    const raw = await openRawClient({ port: b.port });
    clients.push(raw);
    raw.sendRaw(Uint8Array.from([0xff, 0xff, 0xff]));
    await raw.waitClosed();
    expect(b.errors).toHaveLength(2);
    expect((await connect(b)).connack.reasonCode).toBe(0);
  });

  it('answers a second CONNECT with DISCONNECT 0x82', async () => {
    const b = await start();
    const { client } = await connect(b);
    client.send(connectPacket());
    expect((await client.next('disconnect')).reasonCode).toBe(0x82);
  });
});

describe('mock broker scripted behaviour', () => {
  it('refuseConnack: CONNACK with the reason, then the connection closes', async () => {
    const b = await start({ handlers: { connect: mock.refuseConnack(0x87, { reasonString: 'nope' }) } });
    const { client, connack } = await connect(b);
    expect(connack.reasonCode).toBe(0x87);
    expect(connack.properties?.reasonString).toBe('nope');
    expect(connack.sessionPresent).toBe(false);
    await client.waitClosed();
    expect(() => mock.refuseConnack(0)).toThrow(RangeError);
  });

  it('neverAnswer: no CONNACK (a later PINGREQ is answered, proving nothing came before it)', async () => {
    const b = await start({ handlers: { connect: mock.neverAnswer() } });
    const client = await openRawClient({ port: b.port });
    clients.push(client);
    client.send(connectPacket());
    client.send({ cmd: 'pingreq' });
    expect((await client.next()).cmd).toBe('pingresp');
    expect(client.received.map((p) => p.cmd)).toEqual(['pingresp']);
    expect(b.latest.connectPacket?.cmd).toBe('connect');
  });

  it('sessionPresent and connack helpers', async () => {
    const b = await start({ handlers: { connect: mock.sessionPresent({ serverKeepAlive: 7 }) } });
    const first = await connect(b);
    expect(first.connack.sessionPresent).toBe(true);
    expect(first.connack.properties?.serverKeepAlive).toBe(7);
    b.handlers.connect = mock.connack({ properties: { maximumPacketSize: 1000 } });
    const second = await connect(b);
    expect(second.connack.sessionPresent).toBe(false);
    expect(second.connack.properties?.maximumPacketSize).toBe(1000);
  });

  it('disconnectAfterConnack: CONNACK success, then DISCONNECT with the reason, then close', async () => {
    const b = await start({ handlers: { connect: mock.disconnectAfterConnack(0x8e, { reasonString: 'taken over' }) } });
    const { client, connack } = await connect(b);
    expect(connack.reasonCode).toBe(0);
    const d = await client.next('disconnect');
    expect([d.reasonCode, d.properties?.reasonString]).toEqual([0x8e, 'taken over']);
    await client.waitClosed();
  });

  it('withholdAcks and a mid-test swap back to the default', async () => {
    const b = await start({ handlers: { publish: mock.withholdAcks() } });
    const { client } = await connect(b);
    client.send(publish('w', 1, 1));
    client.send({ cmd: 'pingreq' });
    await client.next('pingresp');
    expect(client.received.map((p) => p.cmd)).toEqual(['connack', 'pingresp']);
    b.handlers.publish = undefined;
    client.send(publish('w', 1, 2));
    expect((await client.next('puback')).messageId).toBe(2);
    expect(b.received.filter((r) => r.packet.cmd === 'publish')).toHaveLength(2);
  });

  it('delayAcks: the PUBACK comes after a later PINGRESP', async () => {
    const b = await start({ handlers: { publish: mock.delayAcks(80) } });
    const { client } = await connect(b);
    const sent = Date.now();
    client.send(publish('d', 1, 5));
    client.send({ cmd: 'pingreq' });
    expect((await client.next()).cmd).toBe('pingresp');
    expect(((await client.next()) as IPubackPacket).messageId).toBe(5);
    expect(Date.now() - sent).toBeGreaterThanOrEqual(70);
  });

  it('ack(reason) for PUBLISH and SUBSCRIBE, suback(codes)', async () => {
    const b = await start({
      handlers: { publish: mock.ack(0x87, { reasonString: 'denied' }), subscribe: mock.ack(0x80) },
    });
    const { client } = await connect(b);
    client.send(publish('x', 1, 9));
    const puback = await client.next('puback');
    expect([puback.messageId, puback.reasonCode, puback.properties?.reasonString]).toEqual([9, 0x87, 'denied']);
    client.send(publish('x', 2, 10));
    expect((await client.next('pubrec')).messageId).toBe(10);
    client.send({
      cmd: 'subscribe',
      messageId: 2,
      subscriptions: [
        { topic: 'a', qos: 0 },
        { topic: 'b', qos: 1 },
      ],
    });
    expect((await client.next('suback')).granted).toEqual([0x80, 0x80]);
    b.handlers.subscribe = mock.suback([1, 0x87]);
    client.send({
      cmd: 'subscribe',
      messageId: 3,
      subscriptions: [
        { topic: 'a', qos: 1 },
        { topic: 'b', qos: 1 },
      ],
    });
    expect((await client.next('suback')).granted).toEqual([1, 0x87]);
  });

  it('badTopicAlias: SUBACK then a PUBLISH with an empty topic and an unknown alias', async () => {
    const b = await start({ handlers: { subscribe: mock.badTopicAlias(42) } });
    const { client } = await connect(b);
    client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 't', qos: 0 }] });
    await client.next('suback');
    const p = await client.next('publish');
    expect([p.topic, p.properties?.topicAlias]).toEqual(['', 42]);
  });

  it('malformed / sendRaw: the client receives bytes its decoder rejects', async () => {
    const b = await start({ handlers: { connect: mock.malformed() } });
    const client = await openRawClient({ port: b.port });
    clients.push(client);
    client.send(connectPacket());
    await client.waitClosed();
    expect(client.errors.length).toBeGreaterThan(0);
    expect(client.received).toEqual([]);
    b.handlers.connect = mock.sendRaw(Uint8Array.from([0x20, 0x03, 0x01, 0x00, 0x00]));
    const ok = await connect(b);
    expect(ok.connack.sessionPresent).toBe(true);
  });

  it('disconnect / close helpers for any packet type', async () => {
    const b = await start({ handlers: { pingreq: mock.disconnect(0x8b, { serverReference: 'other' }) } });
    const first = (await connect(b)).client;
    first.send({ cmd: 'pingreq' });
    const d = await first.next('disconnect');
    expect([d.reasonCode, d.properties?.serverReference]).toEqual([0x8b, 'other']);
    await first.waitClosed();
    b.handlers.pingreq = mock.close({ rst: true });
    const second = (await connect(b)).client;
    second.send({ cmd: 'pingreq' });
    await second.waitClosed();
    expect(second.received.map((p) => p.cmd)).toEqual(['connack']);
  });

  it('sequence: refuse the first CONNECT, accept the reconnect', async () => {
    const b = await start({ handlers: { connect: mock.sequence(mock.refuseConnack(0x88), 'default') } });
    expect((await connect(b)).connack.reasonCode).toBe(0x88);
    expect((await connect(b)).connack.reasonCode).toBe(0);
    expect((await b.waitForConnection(2)).id).toBe(2);
    expect((await connect(b)).connack.reasonCode).toBe(0);
  });

  it('reply, thenDo, delay with a custom step, once', async () => {
    const b = await start({
      handlers: {
        pingreq: mock.once(mock.reply({ cmd: 'disconnect', reasonCode: 0x9c, properties: { serverReference: 'x' } })),
        subscribe: mock.thenDo((_p, conn) => conn.publish('extra', 'e')),
        unsubscribe: mock.delay(10, (p, conn) => {
          conn.send({ cmd: 'unsuback', messageId: p.messageId as number, granted: [0x11] });
        }),
      },
    });
    const { client } = await connect(b);
    client.send({ cmd: 'pingreq' });
    expect(((await client.next()) as IDisconnectPacket).reasonCode).toBe(0x9c);
    client.send({ cmd: 'pingreq' });
    expect((await client.next()).cmd).toBe('pingresp');
    client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'z', qos: 0 }] });
    expect((await client.next()).cmd).toBe('suback');
    expect(((await client.next()) as IPublishPacket).topic).toBe('extra');
    client.send({ cmd: 'unsubscribe', messageId: 2, unsubscriptions: ['z'] });
    expect((await client.next('unsuback')).granted).toEqual([0x11]);
  });

  it('a throwing handler is recorded and only its connection is destroyed', async () => {
    const b = await start({
      handlers: {
        subscribe: () => {
          throw new Error('boom');
        },
      },
    });
    const { client } = await connect(b);
    client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'z', qos: 0 }] });
    await client.waitClosed();
    expect(b.errors.map((e) => e.error.message)).toEqual(['boom']);
    expect((await connect(b)).connack.reasonCode).toBe(0);
  });

  it('waitFor: past and future matches, count, connection-scoped, timeout lists what arrived', async () => {
    const b = await start();
    const { client } = await connect(b);
    const future = b.waitFor('pingreq', { count: 2 });
    client.send({ cmd: 'pingreq' });
    client.send({ cmd: 'pingreq' });
    expect((await future).index).toBe(2);
    expect((await b.waitFor('connect')).index).toBe(0);
    expect((await b.latest.waitFor('pingreq')).connection).toBe(1);
    expect(await failure(b.waitFor('auth', { timeoutMs: 20 }))).toMatch(
      /no packet matching 'auth'.*received: 1:connect, 1:pingreq, 1:pingreq/,
    );
    expect(await failure(b.waitForConnection(5, { timeoutMs: 20 }))).toMatch(/connection 5 not accepted/);
  });

  it('conn.send / disconnect from the test, dropAll, and stop rejecting pending waits', async () => {
    const b = await start();
    const a = (await connect(b)).client;
    const c = (await connect(b)).client;
    b.connections[0]?.publish('push', Uint8Array.from([1, 2]), { qos: 1 });
    const p = await a.next('publish');
    expect([p.topic, p.messageId, [...p.payload]]).toEqual(['push', 1, [1, 2]]);
    b.dropAll();
    await Promise.all([a.waitClosed(), c.waitClosed()]);
    expect(b.live).toEqual([]);
    const pending = b.waitFor('auth');
    await b.stop();
    expect(await failure(pending)).toMatch(/stopped/);
    expect(await failure(openRawClient({ port: b.port }))).toBe('ECONNREFUSED');
  });
});

describe('mock broker transports', () => {
  it('tls with the test PKI', async () => {
    const certs = await getTestCertificates();
    const b = await start({ transport: 'tls' });
    const { client, connack } = await rawConnect({ port: b.port, tls: { ca: fs.readFileSync(certs.caCert) } });
    clients.push(client);
    expect(connack.reasonCode).toBe(0);
  });

  it('ws and wss with subprotocol mqtt', async () => {
    const certs = await getTestCertificates();
    const ws = await start({ transport: 'ws' });
    const r1 = await rawConnect({ url: `ws://127.0.0.1:${ws.port}/mqtt` });
    clients.push(r1.client);
    expect(r1.connack.reasonCode).toBe(0);
    const wss = await start({ transport: 'wss' });
    const r2 = await rawConnect({
      url: `wss://localhost:${wss.port}/any/path`,
      wsOptions: { ca: fs.readFileSync(certs.caCert) },
    });
    clients.push(r2.client);
    r2.client.send({ cmd: 'pingreq' });
    await r2.client.next('pingresp');
    expect(wss.received.map((r) => r.packet.cmd)).toEqual(['connect', 'pingreq']);
  });
});
