/**
 * The engine against the scripted mock broker of @mqtt5/test-peers over real TCP sockets on
 * 127.0.0.1: every failure path, flow control, resends, aliases, statistics, manual ack, abort.
 * Protocol timeouts run on a FakeClock (no test sleeps for one); I/O is real.
 */
import { type MockBroker, malformedFrames, mock, startMockBroker } from '@mqtt5/test-peers';
import { Mqtt5Client } from '../src/client.js';
import {
  ClientExtendedValidationAndFlowControl,
  ClientOperationQueueBehavior,
  ClientSessionBehavior,
  InboundTopicAliasBehaviorType,
  type Mqtt5ClientConfig,
  OutboundTopicAliasBehaviorType,
  RetryJitterType,
} from '../src/config.js';
import type { PublishAcknowledgementHandle } from '../src/events.js';
import { FakeClock } from '../src/testing/fake-clock.js';
import { eventually, tcpConnector, type TrackedConnector } from './helpers/tcp-connector.js';

jest.setTimeout(20_000);

interface Rig {
  client: Mqtt5Client;
  clock: FakeClock;
  connector: TrackedConnector;
  events: [string, any][];
  names(): string[];
  /** Waits (real time) until the n-th event of that name was emitted. */
  until(name: string, n?: number): Promise<any>;
}

let broker: MockBroker;
const rigs: Rig[] = [];

beforeEach(async () => {
  broker = await startMockBroker();
});

afterEach(async () => {
  for (const rig of rigs.splice(0)) {
    rig.client.close();
    await eventually(() => rig.connector.open().length === 0, 2000, 'client sockets to close');
  }
  await broker.stop();
});

function rig(config: Partial<Mqtt5ClientConfig> = {}, port = () => broker.port): Rig {
  const clock = new FakeClock();
  const connector = tcpConnector(port);
  const client = new Mqtt5Client({ connector, clock, random: seeded(42), ...config });
  const events: [string, any][] = [];
  for (const name of ['attemptingConnect', 'connectionSuccess', 'connectionFailure', 'disconnection', 'stopped']) {
    client.on(name as 'stopped', (e: unknown) => events.push([name, e]));
  }
  const r: Rig = {
    client,
    clock,
    connector,
    events,
    names: () => events.map(([n]) => n),
    async until(name, n = 1) {
      await eventually(() => events.filter(([e]) => e === name).length >= n, 5000, `${n}× ${name}; got ${r.names().join(', ')}`);
      return events.filter(([e]) => e === name)[n - 1]![1];
    },
  };
  rigs.push(r);
  return r;
}

/** A deterministic random source in [0, 1) (LCG). */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const FAST = { minReconnectDelayMs: 100, maxReconnectDelayMs: 100, retryJitterMode: RetryJitterType.None };

describe('failure paths: error codes and event sequences', () => {
  it('CONNACK refusal → connectionFailure CONNACK_CONNECTION_REFUSED with the connack', async () => {
    broker.handlers.connect = mock.refuseConnack(0x86, { reasonString: 'who are you' });
    const r = rig();
    r.client.start();
    const failure = await r.until('connectionFailure');
    expect(failure.error.code).toBe('AWS_ERROR_MQTT5_CONNACK_CONNECTION_REFUSED');
    expect(failure.error.reasonCode).toBe(0x86);
    expect(failure.connack).toMatchObject({ reasonCode: 0x86, reasonString: 'who are you' });
    expect(r.names()).toEqual(['attemptingConnect', 'connectionFailure']);
  });

  it('CONNACK timeout → connectionFailure CONNACK_TIMEOUT, then a new attempt', async () => {
    broker.handlers.connect = mock.sequence(mock.neverAnswer(), 'default');
    const r = rig({ connackTimeoutMs: 3000, ...FAST });
    r.client.start();
    await broker.waitFor('connect');
    await r.clock.advanceAsync(2999);
    expect(r.names()).toEqual(['attemptingConnect']);
    await r.clock.advanceAsync(1);
    expect((await r.until('connectionFailure')).error.code).toBe('AWS_ERROR_MQTT5_CONNACK_TIMEOUT');
    await r.clock.advanceAsync(100);
    await r.until('connectionSuccess');
    expect(r.names()).toEqual(['attemptingConnect', 'connectionFailure', 'attemptingConnect', 'connectionSuccess']);
  });

  it('session present on a clean start → connectionFailure CANCELLED_FOR_CLEAN_SESSION', async () => {
    broker.handlers.connect = mock.sessionPresent();
    const r = rig();
    r.client.start();
    const failure = await r.until('connectionFailure');
    expect(failure.error.code).toBe('AWS_ERROR_MQTT_CANCELLED_FOR_CLEAN_SESSION');
    expect(failure.connack).toMatchObject({ sessionPresent: true });
  });

  it('server DISCONNECT → disconnection DISCONNECT_RECEIVED with the packet, then reconnect', async () => {
    broker.handlers.connect = mock.sequence(mock.disconnectAfterConnack(0x8b, { reasonString: 'bye' }), 'default');
    const r = rig(FAST);
    r.client.start();
    const disconnection = await r.until('disconnection');
    expect(disconnection.error.code).toBe('AWS_ERROR_MQTT5_DISCONNECT_RECEIVED');
    expect(disconnection.disconnect).toMatchObject({ reasonCode: 0x8b, reasonString: 'bye' });
    await r.clock.advanceAsync(100);
    await r.until('connectionSuccess', 2);
    expect(r.names()).toEqual(['attemptingConnect', 'connectionSuccess', 'disconnection', 'attemptingConnect', 'connectionSuccess']);
  });

  it('ping timeout → DISCONNECT 141 to the broker, disconnection PING_RESPONSE_TIMEOUT, reconnect', async () => {
    broker.handlers.pingreq = mock.neverAnswer();
    const r = rig({ connectProperties: { keepAliveIntervalSeconds: 10 }, pingTimeoutMs: 5000, ...FAST });
    r.client.start();
    await r.until('connectionSuccess');
    await r.clock.advanceAsync(10_000);
    await broker.waitFor('pingreq');
    await r.clock.advanceAsync(5000);
    expect((await r.until('disconnection')).error.code).toBe('AWS_ERROR_MQTT5_PING_RESPONSE_TIMEOUT');
    const disconnect = await broker.waitFor('disconnect');
    expect(disconnect.packet.reasonCode).toBe(141);
    await r.clock.advanceAsync(100);
    await r.until('connectionSuccess', 2);
  });

  it.each(Object.entries(malformedFrames).filter(([name]) => !name.startsWith('connack')))(
    'malformed frame %s → DISCONNECT 130, DECODE_PROTOCOL_ERROR, reconnect',
    async (_name, bytes) => {
      broker.handlers.subscribe = mock.sequence(mock.sendRaw(bytes), 'default');
      const r = rig(FAST);
      r.client.start();
      await r.until('connectionSuccess');
      const subscribed = r.client.subscribe({ subscriptions: [{ topicFilter: 't', qos: 1 }] });
      expect((await r.until('disconnection')).error.code).toBe('AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR');
      expect((await broker.waitFor('disconnect')).packet.reasonCode).toBe(130);
      await r.clock.advanceAsync(100);
      await expect(subscribed).resolves.toMatchObject({ reasonCodes: [1] });
    },
  );

  it.each(Object.entries(malformedFrames).filter(([name]) => name.startsWith('connack')))(
    'malformed %s → connectionFailure DECODE_PROTOCOL_ERROR',
    async (_name, bytes) => {
      broker.handlers.connect = mock.sendRaw(bytes);
      const r = rig();
      r.client.start();
      expect((await r.until('connectionFailure')).error.code).toBe('AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR');
    },
  );

  it('a bad inbound topic alias → DECODE_PROTOCOL_ERROR', async () => {
    broker.handlers.subscribe = mock.badTopicAlias(5);
    const r = rig({ topicAliasingOptions: { inboundBehavior: InboundTopicAliasBehaviorType.Enabled, inboundCacheMaxSize: 10 } });
    r.client.start();
    await r.until('connectionSuccess');
    void r.client.subscribe({ subscriptions: [{ topicFilter: 't', qos: 0 }] }).catch(() => undefined);
    expect((await r.until('disconnection')).error.code).toBe('AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR');
  });

  it('nobody listening → connectionFailure from the connector, and attempts go on', async () => {
    const closed = await startMockBroker();
    const port = closed.port;
    await closed.stop();
    const r = rig(FAST, () => port);
    r.client.start();
    expect((await r.until('connectionFailure')).error.code).toBe('AWS_IO_SOCKET_CONNECTION_REFUSED');
    await r.clock.advanceAsync(100);
    await r.until('connectionFailure', 2);
  });

  it('stop() with a DISCONNECT: the broker gets it, then stopped', async () => {
    const r = rig();
    r.client.start();
    await r.until('connectionSuccess');
    r.client.stop({ reasonCode: 0, reasonString: 'done' });
    await r.until('stopped');
    expect((await broker.waitFor('disconnect')).packet).toMatchObject({ reasonCode: 0, properties: { reasonString: 'done' } });
    expect(r.names()).toEqual(['attemptingConnect', 'connectionSuccess', 'disconnection', 'stopped']);
  });
});

describe('reconnect backoff over many draws (refusing broker)', () => {
  async function gaps(jitter: RetryJitterType, draws: number): Promise<number[]> {
    broker.handlers.connect = mock.refuseConnack(0x88);
    const r = rig({ retryJitterMode: jitter, minReconnectDelayMs: 100, maxReconnectDelayMs: 3200 });
    const attempts: number[] = [];
    r.client.on('attemptingConnect', () => attempts.push(r.clock.now()));
    r.client.start();
    for (let i = 1; i <= draws; i++) {
      await r.until('connectionFailure', i);
      const next = r.clock.nextTimerAt();
      if (next === undefined) throw new Error('no reconnect timer');
      await r.clock.advanceAsync(next - r.clock.now());
      await r.until('attemptingConnect', i + 1);
    }
    return attempts.slice(1).map((t, i) => t - attempts[i]!);
  }

  it('Full: every delay in [0, min(max, min·2^n)]', async () => {
    const delays = await gaps(RetryJitterType.Full, 40);
    delays.forEach((d, n) => {
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(Math.min(3200, 100 * 2 ** n));
    });
    expect(new Set(delays).size).toBeGreaterThan(10); // really random
  });

  it('Decorrelated: every delay in [min, min(max, 3·previous)]', async () => {
    const delays = await gaps(RetryJitterType.Decorrelated, 40);
    delays.forEach((d, n) => {
      const previous = n === 0 ? 100 : delays[n - 1]!;
      expect(d).toBeGreaterThanOrEqual(100);
      expect(d).toBeLessThanOrEqual(Math.min(3200, 3 * previous));
    });
    expect(new Set(delays).size).toBeGreaterThan(10);
  });

  it('None: 100, 200, 400, 800, 1600, 3200, 3200', async () => {
    expect(await gaps(RetryJitterType.None, 7)).toEqual([100, 200, 400, 800, 1600, 3200, 3200]);
  });
});

describe('operations against the mock broker', () => {
  it('receive maximum 2 with 10 QoS 1 publishes in flight: never more than 2 unacked at the broker', async () => {
    broker.connack = { properties: { receiveMaximum: 2 } };
    let unacked = 0;
    let maxUnacked = 0;
    broker.handlers.publish = (packet, conn) => {
      unacked++;
      maxUnacked = Math.max(maxUnacked, unacked);
      setTimeout(() => {
        unacked--;
        conn.send({ cmd: 'puback', messageId: packet.messageId!, reasonCode: 0 });
      }, 2);
    };
    const r = rig();
    r.client.start();
    await r.until('connectionSuccess');
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => r.client.publish({ topicName: `t/${i}`, qos: 1, payload: `${i}` })));
    expect(results.every((p) => p?.reasonCode === 0)).toBe(true);
    expect(maxUnacked).toBe(2);
  });

  it('an oversized packet fails alone; the connection stays up', async () => {
    broker.connack = { properties: { maximumPacketSize: 128 } };
    const r = rig();
    r.client.start();
    await r.until('connectionSuccess');
    await expect(r.client.publish({ topicName: 't', qos: 1, payload: Buffer.alloc(200) })).rejects.toMatchObject({
      code: 'AWS_ERROR_MQTT5_PACKET_VALIDATION',
    });
    await expect(r.client.publish({ topicName: 't', qos: 1, payload: 'fits' })).resolves.toMatchObject({ reasonCode: 0 });
    expect(r.names()).toEqual(['attemptingConnect', 'connectionSuccess']);
  });

  it('ack timeout → AWS_ERROR_MQTT_TIMEOUT for each unacknowledged publish', async () => {
    broker.handlers.publish = mock.withholdAcks();
    const r = rig({ ackTimeoutSeconds: 5 });
    r.client.start();
    await r.until('connectionSuccess');
    const outcomes = Array.from({ length: 3 }, () => r.client.publish({ topicName: 't', qos: 1 }).catch((e: { code: string }) => e.code));
    await broker.waitFor('publish', { count: 3 });
    await r.clock.advanceAsync(5000);
    expect(await Promise.all(outcomes)).toEqual(['AWS_ERROR_MQTT_TIMEOUT', 'AWS_ERROR_MQTT_TIMEOUT', 'AWS_ERROR_MQTT_TIMEOUT']);
  });

  it('session resume: QoS 1 resends with DUP=1 and the same ids, in order, before new operations', async () => {
    broker.handlers.publish = mock.withholdAcks();
    broker.handlers.connect = mock.sequence('default', mock.sessionPresent());
    const r = rig({ sessionBehavior: ClientSessionBehavior.RejoinPostSuccess, ...FAST });
    r.client.start();
    await r.until('connectionSuccess');
    const first = [1, 2, 3].map((i) => r.client.publish({ topicName: `p${i}`, qos: 1, payload: `${i}` }));
    await broker.waitFor('publish', { count: 3 });
    broker.dropAll();
    await r.until('disconnection');
    const later = r.client.publish({ topicName: 'p4', qos: 1 });
    broker.handlers.publish = 'default' as never;
    delete (broker.handlers as Record<string, unknown>).publish;
    await r.clock.advanceAsync(100);
    await Promise.all([...first, later]);
    const second = broker.received.filter((p) => p.connection === 2 && p.packet.cmd === 'publish').map((p) => p.packet as any);
    const firstIds = broker.received.filter((p) => p.connection === 1 && p.packet.cmd === 'publish').map((p) => (p.packet as any).messageId);
    expect(second.map((p) => [p.topic, p.dup, p.messageId])).toEqual([
      ['p1', true, firstIds[0]],
      ['p2', true, firstIds[1]],
      ['p3', true, firstIds[2]],
      ['p4', false, 4],
    ]);
  });

  const disconnectKinds: [string, () => void][] = [
    ['FIN', () => broker.dropAll()],
    ['RST', () => broker.dropAll({ rst: true })],
    ['server DISCONNECT', () => broker.latest.disconnect(0x8b)],
    ['malformed frame', () => broker.latest.sendRaw(malformedFrames.publishQos3)],
  ];
  const policies: [string, ClientOperationQueueBehavior, string[]][] = [
    ['FailQos0', ClientOperationQueueBehavior.FailQos0PublishOnDisconnect, ['ok', 'ok', 'ok', 'OFFLINE']],
    ['FailNonQos1', ClientOperationQueueBehavior.FailNonQos1PublishOnDisconnect, ['OFFLINE', 'ok', 'ok', 'OFFLINE']],
    ['FailAll', ClientOperationQueueBehavior.FailAllOnDisconnect, ['OFFLINE', 'OFFLINE', 'OFFLINE', 'OFFLINE']],
  ];
  describe.each(policies)('offline policy %s', (_policyName, policy, expected) => {
    it.each(disconnectKinds)('on %s: unacked subscribe, unacked QoS 1, offline QoS 1, offline QoS 0', async (_kind, disconnect) => {
      broker.handlers.subscribe = mock.neverAnswer();
      broker.handlers.publish = mock.withholdAcks();
      const r = rig({ offlineQueueBehavior: policy, ...FAST });
      r.client.start();
      await r.until('connectionSuccess');
      const outcome = (p: Promise<unknown>) =>
        p.then(
          () => 'ok',
          (e: { code: string }) => (e.code === 'AWS_ERROR_MQTT5_OPERATION_FAILED_DUE_TO_OFFLINE_QUEUE_POLICY' ? 'OFFLINE' : e.code),
        );
      const sub = outcome(r.client.subscribe({ subscriptions: [{ topicFilter: 's', qos: 1 }] }));
      const q1 = outcome(r.client.publish({ topicName: 'q1', qos: 1 }));
      await broker.waitFor('publish');
      disconnect();
      await r.until('disconnection');
      const offline1 = outcome(r.client.publish({ topicName: 'offline-q1', qos: 1 }));
      const offline0 = outcome(r.client.publish({ topicName: 'offline-q0', qos: 0 }));
      delete (broker.handlers as Record<string, unknown>).subscribe;
      delete (broker.handlers as Record<string, unknown>).publish;
      await r.clock.advanceAsync(100);
      expect(await Promise.all([sub, q1, offline1, offline0])).toEqual(expected);
      expect(r.client.getOperationalStatistics().incompleteOperationCount).toBe(0);
    });
  });

  it('offline policy FailQos0 on a dropped connection: QoS 0 fails, QoS 1 / subscribe survive', async () => {
    broker.handlers.subscribe = mock.neverAnswer();
    broker.handlers.publish = mock.withholdAcks();
    const r = rig({ offlineQueueBehavior: ClientOperationQueueBehavior.FailQos0PublishOnDisconnect, ...FAST });
    r.client.start();
    await r.until('connectionSuccess');
    const sub = r.client.subscribe({ subscriptions: [{ topicFilter: 's', qos: 1 }] }).then(() => 'ok', (e) => e.code);
    const q1 = r.client.publish({ topicName: 'q1', qos: 1 }).then(() => 'ok', (e) => e.code);
    await broker.waitFor('publish');
    broker.dropAll();
    await r.until('disconnection');
    const q0 = r.client.publish({ topicName: 'q0', qos: 0 }).then(() => 'ok', (e) => e.code);
    delete (broker.handlers as Record<string, unknown>).subscribe;
    delete (broker.handlers as Record<string, unknown>).publish;
    await r.clock.advanceAsync(100);
    expect(await Promise.all([sub, q1, q0])).toEqual(['ok', 'ok', 'AWS_ERROR_MQTT5_OPERATION_FAILED_DUE_TO_OFFLINE_QUEUE_POLICY']);
  });

  it('LRU topic aliases (cache 2): a b c b c a → 1 2 1 2 1 2, alias alone on hits', async () => {
    broker.connack = { properties: { topicAliasMaximum: 2 } };
    const r = rig({ topicAliasingOptions: { outboundBehavior: OutboundTopicAliasBehaviorType.LRU, outboundCacheMaxSize: 2 } });
    r.client.start();
    await r.until('connectionSuccess');
    for (const topic of ['a', 'b', 'c', 'b', 'c', 'a']) await r.client.publish({ topicName: topic, qos: 1 });
    const wire = broker.received.filter((p) => p.packet.cmd === 'publish').map((p) => p.packet as any);
    expect(wire.map((p) => [p.topic, p.properties?.topicAlias])).toEqual([
      ['a', 1],
      ['b', 2],
      ['c', 1],
      ['', 2],
      ['', 1],
      ['a', 2],
    ]);
  });

  it('IoT Core publish rate: 650 tiny publishes need > 6 s of (fake) time', async () => {
    const r = rig({ extendedValidationAndFlowControlOptions: ClientExtendedValidationAndFlowControl.AwsIotCoreDefaults });
    r.client.start();
    await r.until('connectionSuccess');
    const start = r.clock.now();
    let done = 0;
    const all = Promise.all(Array.from({ length: 650 }, () => r.client.publish({ topicName: 't', qos: 1 }).then(() => done++)));
    while (done < 650) {
      await r.clock.advanceAsync(250);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await all;
    expect(r.clock.now() - start).toBeGreaterThan(6000);
  });

  it('statistics at each step of a QoS 1 publish, a subscribe and an unsubscribe', async () => {
    broker.handlers.publish = mock.withholdAcks();
    broker.handlers.subscribe = mock.neverAnswer();
    const r = rig();
    const stats = () => Object.values(r.client.getOperationalStatistics());
    const publish = r.client.publish({ topicName: 'hello/world', payload: 'PublishPayload', qos: 1 });
    expect(stats()).toEqual([1, 30, 0, 0]);
    r.client.start();
    await r.until('connectionSuccess');
    await broker.waitFor('publish');
    await eventually(() => stats()[2] === 1);
    expect(stats()).toEqual([1, 30, 1, 30]);
    const subscribe = r.client.subscribe({ subscriptions: [{ topicFilter: 'x'.repeat(60), qos: 1 }] });
    await broker.waitFor('subscribe');
    await eventually(() => stats()[2] === 2);
    expect(stats()).toEqual([2, 98, 2, 98]);
    const publishPacket = (await broker.waitFor('publish')).packet;
    broker.latest.send({ cmd: 'puback', messageId: publishPacket.messageId!, reasonCode: 0 });
    await publish;
    expect(stats()).toEqual([1, 68, 1, 68]);
    const subscribePacket = (await broker.waitFor('subscribe')).packet;
    broker.latest.send({ cmd: 'suback', messageId: subscribePacket.messageId, granted: [1] });
    await subscribe;
    const unsubscribe = r.client.unsubscribe({ topicFilters: ['hello/+'] });
    expect(stats()).toEqual([1, 14, 0, 0]);
    await unsubscribe;
    expect(stats()).toEqual([0, 0, 0, 0]);
  });

  it('manual acknowledgement: the PUBACK goes out only when invoked', async () => {
    const r = rig();
    let handle: PublishAcknowledgementHandle | null = null;
    r.client.on('messageReceived', (e) => (handle = e.acknowledgementControl?.acquireHandle() ?? null));
    r.client.start();
    await r.until('connectionSuccess');
    await r.client.subscribe({ subscriptions: [{ topicFilter: 'm/#', qos: 1 }] });
    broker.latest.publish('m/1', 'data', { qos: 1 });
    await eventually(() => handle !== null);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(broker.received.filter((p) => p.packet.cmd === 'puback')).toHaveLength(0);
    handle!.invokeAcknowledgement();
    await broker.waitFor('puback');
  });

  it('abort: removed before it is written, rejected after', async () => {
    broker.handlers.publish = mock.withholdAcks();
    const r = rig();
    const early = new AbortController();
    const removed = r.client.publish({ topicName: 'never', qos: 1 }, { signal: early.signal });
    early.abort();
    await expect(removed).rejects.toMatchObject({ code: 'ABORTED' });
    r.client.start();
    await r.until('connectionSuccess');
    const late = new AbortController();
    const written = r.client.publish({ topicName: 'sent', qos: 1 }, { signal: late.signal });
    await broker.waitFor('publish');
    late.abort();
    await expect(written).rejects.toMatchObject({ code: 'ABORTED' });
    expect(broker.received.filter((p) => p.packet.cmd === 'publish').map((p) => (p.packet as any).topic)).toEqual(['sent']);
  });

  it('subscribe, receive, unsubscribe through the routing broker', async () => {
    const r = rig();
    const received: string[] = [];
    r.client.on('messageReceived', (e) => received.push(`${e.message.topicName}=${e.message.payload.toString()}`));
    r.client.start();
    await r.until('connectionSuccess');
    await r.client.subscribe({ subscriptions: [{ topicFilter: 'echo/#', qos: 1 }] });
    await r.client.publish({ topicName: 'echo/a', qos: 1, payload: 'one' });
    await r.client.publish({ topicName: 'echo/b', qos: 0, payload: 'two' });
    await eventually(() => received.length === 2);
    expect(received).toEqual(['echo/a=one', 'echo/b=two']);
    await r.client.unsubscribe({ topicFilters: ['echo/#'] });
    await r.client.publish({ topicName: 'echo/c', qos: 1, payload: 'three' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(received).toHaveLength(2);
  });
});
