/**
 * The engine against real mosquitto 2 on 127.0.0.1 (started per file by @mqtt5/test-peers):
 * start/stop/restart cycles, the broker killed and restarted, a client started before any broker
 * listens, the limits instance, and 10 000 QoS 1 messages through a fault proxy that keeps cutting
 * the connection.
 */
import {
  type FaultProxy,
  type MosquittoInstance,
  type MosquittoLimitsInstance,
  startFaultProxy,
  startMosquitto,
  startMosquittoCustom,
  startMosquittoLimits,
} from '@mqtt5/test-peers';
import { Mqtt5Client } from '../src/client.js';
import { type Mqtt5ClientConfig, OutboundTopicAliasBehaviorType, RetryJitterType } from '../src/config.js';
import { eventually, tcpConnector, type TrackedConnector } from './helpers/tcp-connector.js';

jest.setTimeout(60_000);

interface Rig {
  client: Mqtt5Client;
  connector: TrackedConnector;
  events: [string, any][];
  names(): string[];
  until(name: string, n?: number, timeoutMs?: number): Promise<any>;
}

const rigs: Rig[] = [];

afterEach(async () => {
  for (const r of rigs.splice(0)) {
    r.client.close();
    await eventually(() => r.connector.open().length === 0, 3000, 'client sockets to close');
  }
});

const FAST = { minReconnectDelayMs: 20, maxReconnectDelayMs: 100, retryJitterMode: RetryJitterType.None };

function rig(port: number | (() => number), config: Partial<Mqtt5ClientConfig> = {}): Rig {
  const connector = tcpConnector(port);
  const client = new Mqtt5Client({ connector, ...config });
  const events: [string, any][] = [];
  for (const name of ['attemptingConnect', 'connectionSuccess', 'connectionFailure', 'disconnection', 'stopped']) {
    client.on(name as 'stopped', (e: unknown) => events.push([name, e]));
  }
  const r: Rig = {
    client,
    connector,
    events,
    names: () => events.map(([n]) => n),
    async until(name, n = 1, timeoutMs = 10_000) {
      await eventually(() => events.filter(([e]) => e === name).length >= n, timeoutMs, `${n}× ${name}; got ${r.names().join(', ')}`);
      return events.filter(([e]) => e === name)[n - 1]![1];
    },
  };
  rigs.push(r);
  return r;
}

describe('mosquitto main instance', () => {
  let broker: MosquittoInstance;
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('start/stop cycles: connect, subscribe, publish, receive, stop — five times', async () => {
    const r = rig(broker.ports.tcp, { connectProperties: { keepAliveIntervalSeconds: 30, clientId: 'cycler' } });
    const received: string[] = [];
    r.client.on('messageReceived', (e) => received.push(e.message.payload.toString()));
    for (let i = 1; i <= 5; i++) {
      r.client.start();
      const success = await r.until('connectionSuccess', i);
      expect(success.settings).toMatchObject({ clientId: 'cycler', rejoinedSession: false });
      await r.client.subscribe({ subscriptions: [{ topicFilter: 'test/cycle', qos: 1 }] });
      await expect(r.client.publish({ topicName: 'test/cycle', qos: 1, payload: `round ${i}` })).resolves.toMatchObject({ reasonCode: 0 });
      await eventually(() => received.length === i);
      r.client.stop({ reasonCode: 0 });
      await r.until('stopped', i);
    }
    expect(received).toEqual(['round 1', 'round 2', 'round 3', 'round 4', 'round 5']);
    expect(r.names()).toEqual(Array(5).fill(['attemptingConnect', 'connectionSuccess', 'disconnection', 'stopped']).flat());
  });

  it('the broker killed and restarted: the client reports each step and reconnects by itself', async () => {
    const own = await startMosquittoCustom({ name: 'killable', listeners: { tcp: 'protocol mqtt\nallow_anonymous true' } });
    try {
      const r = rig(own.ports.tcp, FAST);
      r.client.start();
      await r.until('connectionSuccess');
      await own.kill();
      const lost = await r.until('disconnection');
      expect(['AWS_ERROR_MQTT_UNEXPECTED_HANGUP', 'AWS_IO_SOCKET_CLOSED']).toContain(lost.error.code);
      const refused = await r.until('connectionFailure');
      expect(refused.error.code).toBe('AWS_IO_SOCKET_CONNECTION_REFUSED');
      await own.restart();
      await r.until('connectionSuccess', 2);
      const names = r.names();
      expect(names.slice(0, 3)).toEqual(['attemptingConnect', 'connectionSuccess', 'disconnection']);
      expect(names.at(-1)).toBe('connectionSuccess');
      // every attempt in between failed, each one paired
      const between = names.slice(3, -2);
      for (let i = 0; i < between.length; i += 2) expect(between.slice(i, i + 2)).toEqual(['attemptingConnect', 'connectionFailure']);
      expect((await r.client.publish({ topicName: 'x', qos: 1 }))!.reasonCode).toBeLessThan(128);
    } finally {
      await own.stop();
    }
  });

  it('a client started while no broker listens connects as soon as one appears', async () => {
    const own = await startMosquittoCustom({ name: 'later', listeners: { tcp: 'protocol mqtt\nallow_anonymous true' } });
    await own.kill();
    try {
      const r = rig(own.ports.tcp, FAST);
      r.client.start();
      await r.until('connectionFailure', 2);
      expect(r.events.filter(([n]) => n === 'connectionFailure').every(([, e]) => e.error.code === 'AWS_IO_SOCKET_CONNECTION_REFUSED')).toBe(true);
      await own.restart();
      await r.until('connectionSuccess');
      await expect(r.client.subscribe({ subscriptions: [{ topicFilter: 'a', qos: 1 }] })).resolves.toMatchObject({ reasonCodes: [1] });
    } finally {
      await own.stop();
    }
  });

  it('10 000 QoS 1 publishes through a fault proxy that keeps cutting: every promise settles, nothing acknowledged is lost', async () => {
    const proxy: FaultProxy = await startFaultProxy({ port: broker.ports.tcp });
    try {
      const subscriber = rig(broker.ports.tcp, { connectProperties: { keepAliveIntervalSeconds: 60, clientId: 'fp-sub' } });
      const seen = new Set<number>();
      subscriber.client.on('messageReceived', (e) => seen.add(Number(e.message.payload.toString())));
      subscriber.client.start();
      await subscriber.until('connectionSuccess');
      await subscriber.client.subscribe({ subscriptions: [{ topicFilter: 'test/fault', qos: 1 }] });

      const publisher = rig(proxy.port, { ...FAST, connectProperties: { keepAliveIntervalSeconds: 60, clientId: 'fp-pub' } });
      publisher.client.start();
      await publisher.until('connectionSuccess');

      const N = 10_000;
      const outcomes: (string | undefined)[] = new Array(N);
      let settled = 0;
      const acked: number[] = [];
      for (let i = 0; i < N; i++) {
        publisher.client.publish({ topicName: 'test/fault', qos: 1, payload: String(i) }).then(
          (puback) => {
            outcomes[i] = `ok:${puback?.reasonCode}`;
            if (puback?.reasonCode === 0) acked.push(i);
            settled++;
          },
          (error: { code: string }) => {
            outcomes[i] = error.code;
            settled++;
          },
        );
      }
      // Cut the connection repeatedly (drop, RST, mid-frame) while the publishes flow.
      let cuts = 0;
      for (let round = 0; round < 12 && settled < N; round++) {
        await eventually(() => settled >= Math.min(N, ((round + 1) * N) / 14) || settled === N, 15_000, 'progress');
        if (round % 3 === 0) proxy.drop();
        else if (round % 3 === 1) proxy.drop({ rst: true });
        else proxy.cutMidFrame({ dir: 'down' });
        cuts++;
      }
      await eventually(() => settled === N, 30_000, `all ${N} publishes to settle (settled ${settled})`);
      expect(cuts).toBeGreaterThanOrEqual(5);
      expect(publisher.names().filter((n) => n === 'disconnection').length).toBeGreaterThanOrEqual(5);
      // With the default offline policy QoS 1 publishes survive every cut: all are acknowledged.
      expect(outcomes.filter((o) => o !== 'ok:0')).toEqual([]);
      await eventually(() => acked.every((i) => seen.has(i)), 10_000, 'the subscriber to receive every acknowledged message');
      expect(seen.size).toBe(N);
    } finally {
      await proxy.stop();
    }
  });
});

describe('mosquitto limits instance', () => {
  let limits: MosquittoLimitsInstance;
  beforeAll(async () => {
    limits = await startMosquittoLimits();
  });
  afterAll(async () => {
    await limits?.stop();
  });

  it('negotiates the limits: receive maximum 3, maximum packet size 2048, no retain, keep-alive 10, alias maximum 2', async () => {
    const r = rig(limits.ports.limits, { connectProperties: { keepAliveIntervalSeconds: 60 } });
    r.client.start();
    const { settings } = await r.until('connectionSuccess');
    expect(settings).toMatchObject({
      receiveMaximumFromServer: 3,
      maximumPacketSizeToServer: 2048,
      retainAvailable: false,
      serverKeepAlive: 10,
      topicAliasMaximumToServer: 2,
      maximumQos: 1,
    });
  });

  it('maximum QoS 1 listener: QoS 1 works, QoS 2 is refused by the client', async () => {
    const r = rig(limits.ports.limitsQos1, { connectProperties: { keepAliveIntervalSeconds: 60, clientId: 'q1' } });
    r.client.start();
    const { settings } = await r.until('connectionSuccess');
    expect(settings.maximumQos).toBe(1);
    await expect(r.client.publish({ topicName: 't', qos: 1 })).resolves.toMatchObject({ reasonCode: expect.any(Number) });
    await expect(r.client.publish({ topicName: 't', qos: 2 })).rejects.toMatchObject({ code: 'AWS_ERROR_MQTT5_PUBLISH_OPTIONS_VALIDATION' });
    expect(r.names()).toEqual(['attemptingConnect', 'connectionSuccess']);
  });

  it('retain not available: a retained publish fails before it reaches the broker (which would disconnect)', async () => {
    const r = rig(limits.ports.limits);
    r.client.start();
    await r.until('connectionSuccess');
    await expect(r.client.publish({ topicName: 't', qos: 1, retain: true })).rejects.toMatchObject({
      code: 'AWS_ERROR_MQTT5_PUBLISH_OPTIONS_VALIDATION',
    });
    await expect(r.client.publish({ topicName: 't', qos: 1 })).resolves.toBeDefined();
    expect(r.names()).toEqual(['attemptingConnect', 'connectionSuccess']);
  });

  it('maximum packet size: an oversized publish fails alone, the connection stays up', async () => {
    const r = rig(limits.ports.limits);
    r.client.start();
    await r.until('connectionSuccess');
    await expect(r.client.publish({ topicName: 't', qos: 1, payload: Buffer.alloc(3000) })).rejects.toMatchObject({
      code: 'AWS_ERROR_MQTT5_PACKET_VALIDATION',
    });
    await expect(r.client.publish({ topicName: 't', qos: 1, payload: Buffer.alloc(1000) })).resolves.toBeDefined();
    expect(r.names()).toEqual(['attemptingConnect', 'connectionSuccess']);
  });

  it('receive maximum 3: 200 concurrent QoS 1 publishes all succeed without a disconnection', async () => {
    const r = rig(limits.ports.limits);
    r.client.start();
    await r.until('connectionSuccess');
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => r.client.publish({ topicName: 'rm', qos: 1, payload: `${i}` })));
    expect(results).toHaveLength(200);
    expect(r.names()).toEqual(['attemptingConnect', 'connectionSuccess']);
  });

  it('LRU outbound aliases within the server maximum of 2: the broker accepts them', async () => {
    const r = rig(limits.ports.limits, { topicAliasingOptions: { outboundBehavior: OutboundTopicAliasBehaviorType.LRU, outboundCacheMaxSize: 10 } });
    const received: string[] = [];
    r.client.on('messageReceived', (e) => received.push(e.message.topicName));
    r.client.start();
    await r.until('connectionSuccess');
    await r.client.subscribe({ subscriptions: [{ topicFilter: 'alias/#', qos: 1 }] });
    for (const t of ['a', 'b', 'c', 'b', 'c', 'a', 'a']) await r.client.publish({ topicName: `alias/${t}`, qos: 1 });
    await eventually(() => received.length === 7);
    expect(received).toEqual(['a', 'b', 'c', 'b', 'c', 'a', 'a'].map((t) => `alias/${t}`));
    expect(r.names()).toEqual(['attemptingConnect', 'connectionSuccess']);
  });
});
