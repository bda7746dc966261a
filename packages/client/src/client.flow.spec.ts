import diagnosticsChannel from 'node:diagnostics_channel';
import { PacketType } from '@mqtt5/codec';
import { disposeAll, flush, setup } from '../test/helpers/harness.js';
import { ClientExtendedValidationAndFlowControl, OutboundTopicAliasBehaviorType, RetryJitterType } from './config.js';
import { DIAGNOSTICS_CHANNELS } from './diagnostics.js';

afterEach(disposeAll);

const FAST_RECONNECT = { minReconnectDelayMs: 10, maxReconnectDelayMs: 10, retryJitterMode: RetryJitterType.None };

describe('outbound topic aliases', () => {
  function wire(h: ReturnType<typeof setup>) {
    return h.broker.packets(PacketType.Publish).map((p) => [p.topicName, p.topicAlias]);
  }

  it('LRU, cache 2: a b c b c a → 1 2 1 2 1 2; hits send the alias alone', async () => {
    const h = setup({ topicAliasingOptions: { outboundBehavior: OutboundTopicAliasBehaviorType.LRU, outboundCacheMaxSize: 2 } }, {
      connack: { topicAliasMaximum: 10 },
    });
    await h.connect();
    for (const topic of ['a', 'b', 'c', 'b', 'c', 'a']) await h.client.publish({ topicName: topic, qos: 1, topicAlias: 9 });
    expect(wire(h)).toEqual([
      ['a', 1],
      ['b', 2],
      ['c', 1],
      ['', 2],
      ['', 1],
      ['a', 2],
    ]);
  });

  it('LRU: a1 b2 c1 a2 c1r b2 (size = min(cache, server maximum))', async () => {
    const h = setup({ topicAliasingOptions: { outboundBehavior: OutboundTopicAliasBehaviorType.LRU, outboundCacheMaxSize: 25 } }, {
      connack: { topicAliasMaximum: 2 },
    });
    await h.connect();
    for (const topic of ['a', 'b', 'c', 'a', 'c', 'b']) await h.client.publish({ topicName: topic, qos: 0 });
    expect(wire(h)).toEqual([
      ['a', 1],
      ['b', 2],
      ['c', 1],
      ['a', 2],
      ['', 1],
      ['b', 2],
    ]);
  });

  it('LRU without a CONNACK topicAliasMaximum sends full topics; the bindings reset on reconnect', async () => {
    const h = setup({ ...FAST_RECONNECT, topicAliasingOptions: { outboundBehavior: OutboundTopicAliasBehaviorType.LRU } }, {
      connack: (_c, conn) => (conn.id === 1 ? { topicAliasMaximum: 5 } : {}),
    });
    await h.connect();
    await h.client.publish({ topicName: 'a', qos: 0 });
    await h.client.publish({ topicName: 'a', qos: 0 });
    h.broker.last.destroy();
    await h.advance(10);
    await h.client.publish({ topicName: 'a', qos: 0 });
    expect(wire(h)).toEqual([
      ['a', 1],
      ['', 1],
      ['a', undefined],
    ]);
  });

  it('Manual, server maximum 2: a(1) b(2) a(1) b(2) → topics first, aliases alone after', async () => {
    const h = setup({ topicAliasingOptions: { outboundBehavior: OutboundTopicAliasBehaviorType.Manual } }, {
      connack: { topicAliasMaximum: 2 },
    });
    await h.connect();
    await h.client.publish({ topicName: 'a', qos: 1, topicAlias: 1 });
    await h.client.publish({ topicName: 'b', qos: 1, topicAlias: 2 });
    await h.client.publish({ topicName: 'a', qos: 1, topicAlias: 1 });
    await h.client.publish({ topicName: 'b', qos: 1, topicAlias: 2 });
    await h.client.publish({ topicName: 'c', qos: 1 });
    expect(wire(h)).toEqual([
      ['a', 1],
      ['b', 2],
      ['', 1],
      ['', 2],
      ['c', undefined],
    ]);
  });

  it('Manual: an alias above the server maximum fails that publish only; the connection stays up', async () => {
    const h = setup({ topicAliasingOptions: { outboundBehavior: OutboundTopicAliasBehaviorType.Manual } }, {
      connack: { topicAliasMaximum: 2 },
    });
    await h.connect();
    await expect(h.client.publish({ topicName: 'a', qos: 1, topicAlias: 3 })).rejects.toMatchObject({
      code: 'AWS_ERROR_MQTT5_INVALID_OUTBOUND_TOPIC_ALIAS',
    });
    await expect(h.client.publish({ topicName: 'a', qos: 1, topicAlias: 2 })).resolves.toBeDefined();
    expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess']);
  });

  it('Disabled: the user alias is ignored and the full topic always sent', async () => {
    const h = setup({}, { connack: { topicAliasMaximum: 10 } });
    await h.connect();
    await h.client.publish({ topicName: 'a', qos: 0, topicAlias: 1 });
    await h.client.publish({ topicName: 'a', qos: 0, topicAlias: 1 });
    expect(wire(h)).toEqual([
      ['a', undefined],
      ['a', undefined],
    ]);
  });

  it('a resend after reconnect carries the full topic again (the stored packet keeps its topic)', async () => {
    const h = setup({ ...FAST_RECONNECT, topicAliasingOptions: { outboundBehavior: OutboundTopicAliasBehaviorType.LRU } }, {
      connack: { topicAliasMaximum: 5 },
      autoPuback: false,
    });
    await h.connect();
    h.broker.autoPuback = true;
    await h.client.publish({ topicName: 'a', qos: 1 });
    h.broker.autoPuback = false;
    const pending = h.client.publish({ topicName: 'a', qos: 1 });
    await flush();
    h.broker.last.destroy();
    h.broker.autoPuback = true;
    await h.advance(10);
    await pending;
    expect(wire(h)).toEqual([
      ['a', 1],
      ['', 1],
      ['a', 1],
    ]);
  });
});

describe('AWS IoT Core flow control and validation (AwsIotCoreDefaults)', () => {
  const IOT = { extendedValidationAndFlowControlOptions: ClientExtendedValidationAndFlowControl.AwsIotCoreDefaults };

  it('generates a "gen" + 32 hex client id when none is configured', async () => {
    const h = setup(IOT);
    await h.connect();
    expect(h.broker.packets(PacketType.Connect)[0]!.clientId).toMatch(/^gen[0-9a-f]{32}$/);
  });

  it('publishes at most 100 per second (bucket empty at connection)', async () => {
    const h = setup(IOT);
    await h.connect();
    const start = h.clock.now();
    const sentAt: number[] = [];
    h.broker.handlers.publish = () => {
      sentAt.push(h.clock.now() - start);
      return 'default';
    };
    const all = Promise.all(Array.from({ length: 250 }, () => h.client.publish({ topicName: 't', qos: 1 })));
    for (let i = 0; i < 30; i++) await h.advance(100);
    await all;
    expect(sentAt).toHaveLength(250);
    // n publishes need n tokens at 100/s: the n-th cannot go before (n × 10 ms)
    sentAt.forEach((t, i) => expect(t).toBeGreaterThanOrEqual((i + 1) * 10 - 1));
    expect(sentAt.at(-1)).toBeLessThanOrEqual(2600);
  });

  it('sends at most 512 KiB per second', async () => {
    const h = setup(IOT);
    await h.connect();
    const start = h.clock.now();
    const payload = Buffer.alloc(127 * 1024);
    const all = Promise.all(Array.from({ length: 21 }, () => h.client.publish({ topicName: 't', qos: 1, payload })));
    for (let i = 0; i < 80; i++) await h.advance(100);
    await all;
    expect(h.clock.now() - start).toBeGreaterThan(5000);
    expect(h.broker.packets(PacketType.Publish)).toHaveLength(21);
  });

  it('without AwsIotCoreDefaults, no throttling', async () => {
    const h = setup();
    await h.connect();
    await Promise.all(Array.from({ length: 650 }, () => h.client.publish({ topicName: 't', qos: 1 })));
    expect(h.broker.packets(PacketType.Publish)).toHaveLength(650);
  });

  it.each([
    ['a topic of 9 levels', () => ({ topicName: 'a/b/c/d/e/f/g/h/i', qos: 0 }), '8 levels'],
    ['a topic over 256 bytes', () => ({ topicName: 'x'.repeat(257), qos: 0 }), '256'],
    ['a payload over 128 KiB', () => ({ topicName: 't', qos: 0, payload: Buffer.alloc(128 * 1024 + 1) }), '131072'],
  ])('rejects a publish with %s before sending it', async (_name, make, limit) => {
    const h = setup(IOT);
    await h.connect();
    const error = await h.client.publish(make() as never).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'AWS_ERROR_MQTT5_PUBLISH_OPTIONS_VALIDATION' });
    expect((error as Error).message).toContain(limit);
  });

  it('accepts the edge values: 8 levels after stripping $aws/rules/<rule>/, 128 KiB payload', async () => {
    const h = setup(IOT);
    await h.connect();
    const sent = h.client.publish({ topicName: '$aws/rules/r/a/b/c/d/e/f/g/h', qos: 0, payload: Buffer.alloc(128 * 1024) });
    await h.advance(1000); // the throughput bucket starts empty at each connection
    await expect(sent).resolves.toBeUndefined();
  });

  it('rejects a SUBSCRIBE with 9 subscriptions and an UNSUBSCRIBE with a 9-level filter', async () => {
    const h = setup(IOT);
    await h.connect();
    await expect(
      h.client.subscribe({ subscriptions: Array.from({ length: 9 }, (_, i) => ({ topicFilter: `t/${i}`, qos: 1 as const })) }),
    ).rejects.toMatchObject({ code: 'AWS_ERROR_MQTT5_SUBSCRIBE_OPTIONS_VALIDATION', message: expect.stringContaining('8') });
    const eight = h.client.subscribe({ subscriptions: Array.from({ length: 8 }, (_, i) => ({ topicFilter: `t/${i}`, qos: 1 as const })) });
    await h.advance(100);
    await expect(eight).resolves.toBeDefined();
    await expect(h.client.unsubscribe({ topicFilters: ['a/b/c/d/e/f/g/h/#'] })).rejects.toMatchObject({
      code: 'AWS_ERROR_MQTT5_UNSUBSCRIBE_OPTIONS_VALIDATION',
    });
  });

  it('a configured client id over 128 bytes is rejected at construction', () => {
    expect(() => setup({ ...IOT, connectProperties: { keepAliveIntervalSeconds: 60, clientId: 'x'.repeat(129) } })).toThrow(
      expect.objectContaining({ code: 'AWS_ERROR_MQTT5_CONNECT_OPTIONS_VALIDATION' }),
    );
  });
});

describe('robustness against a hostile broker', () => {
  it('acks for unknown packet ids are ignored', async () => {
    const h = setup();
    await h.connect();
    h.broker.last.sendMany([
      { type: PacketType.Puback, packetId: 77, reasonCode: 0 },
      { type: PacketType.Suback, packetId: 78, reasonCodes: [0] },
      { type: PacketType.Unsuback, packetId: 79, reasonCodes: [0] },
    ]);
    await flush();
    expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess']);
    await expect(h.client.publish({ topicName: 't', qos: 1 })).resolves.toBeDefined();
  });

  it('an ack of the wrong kind for a pending packet id is a protocol error; the operation goes on after reconnect', async () => {
    const h = setup(FAST_RECONNECT, { handlers: { subscribe: () => undefined } });
    await h.connect();
    const pending = h.client.subscribe({ subscriptions: [{ topicFilter: 't', qos: 1 }] });
    await flush();
    h.broker.last.send({ type: PacketType.Puback, packetId: 1, reasonCode: 0 });
    await flush();
    expect(h.events[2]![1].error.code).toBe('AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR');
    expect(h.broker.packets(PacketType.Disconnect)).toEqual([expect.objectContaining({ reasonCode: 130 })]);
    h.broker.handlers = {};
    await h.advance(10);
    await expect(pending).resolves.toMatchObject({ reasonCodes: [1] });
  });

  it('a SUBACK whose reason-code count differs from the request fails the operation and the connection', async () => {
    const h = setup(FAST_RECONNECT);
    h.broker.handlers.subscribe = (p, conn) => conn.send({ type: PacketType.Suback, packetId: p.packetId, reasonCodes: [0] });
    await h.connect();
    await expect(
      h.client.subscribe({ subscriptions: [{ topicFilter: 'a', qos: 0 }, { topicFilter: 'b', qos: 0 }] }),
    ).rejects.toMatchObject({ code: 'AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR' });
    await flush();
    expect(h.events[2]![1].error.code).toBe('AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR');
    expect(h.broker.packets(PacketType.Disconnect)).toEqual([expect.objectContaining({ reasonCode: 130 })]);
  });

  it('an UNSUBACK whose reason-code count differs fails likewise', async () => {
    const h = setup(FAST_RECONNECT);
    h.broker.handlers.unsubscribe = (p, conn) => conn.send({ type: PacketType.Unsuback, packetId: p.packetId, reasonCodes: [0, 0] });
    await h.connect();
    await expect(h.client.unsubscribe({ topicFilters: ['a'] })).rejects.toMatchObject({ code: 'AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR' });
  });

  it('a flood of unsolicited PINGRESPs changes nothing', async () => {
    const h = setup();
    await h.connect();
    const used = process.memoryUsage().heapUsed;
    for (let i = 0; i < 20; i++) h.broker.last.sendRaw(Buffer.alloc(2 * 10_000, Buffer.from([0xd0, 0x00])));
    await flush();
    expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess']);
    expect(process.memoryUsage().heapUsed - used).toBeLessThan(20 * 1024 * 1024);
  });

  it('QoS 1 PUBLISHes beyond the client receive maximum: DISCONNECT 0x93, DECODE_PROTOCOL_ERROR', async () => {
    const h = setup({ connectProperties: { keepAliveIntervalSeconds: 60, receiveMaximum: 3 } });
    h.client.on('messageReceived', (e) => void e.acknowledgementControl?.acquireHandle());
    await h.connect();
    h.broker.last.sendMany([1, 2, 3, 4].map((id) => ({ type: PacketType.Publish, topicName: 't', qos: 1, packetId: id, payload: Buffer.alloc(1) })));
    await flush();
    expect(h.events[2]![1].error.code).toBe('AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR');
    expect(h.broker.packets(PacketType.Disconnect)).toEqual([expect.objectContaining({ reasonCode: 0x93 })]);
  });

  it('a QoS 1 publish with packet id 0, QoS 3, a wildcard topic: protocol errors, never a crash', async () => {
    for (const bytes of [
      Buffer.from([0x32, 0x04, 0x00, 0x01, 0x74, 0x00, 0x00, 0x00].slice(0, 8)),
      Buffer.from([0x36, 0x06, 0x00, 0x01, 0x74, 0x00, 0x01, 0x00]),
      Buffer.from([0x30, 0x04, 0x00, 0x01, 0x2b, 0x00]),
    ]) {
      const h = setup();
      await h.connect();
      h.broker.last.sendRaw(bytes);
      await flush();
      expect(h.events[2]?.[1].error.code).toBe('AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR');
    }
  });
});

describe('offline queue scale', () => {
  it('100 000 operations queued offline cost well under 4 KiB each and all settle promptly on stop()', async () => {
    const h = setup({}, {});
    h.broker.hangConnect = true;
    h.client.start();
    (globalThis as { gc?: () => void }).gc?.();
    const before = process.memoryUsage().heapUsed;
    const outcomes: Promise<string>[] = [];
    for (let i = 0; i < 100_000; i++) {
      outcomes.push(
        h.client.publish({ topicName: 'offline/queue', qos: 1, payload: 'x'.repeat(16) }).then(
          () => 'ok',
          (e: { code: string }) => e.code,
        ),
      );
    }
    const perOperation = (process.memoryUsage().heapUsed - before) / 100_000;
    expect(perOperation).toBeLessThan(4096);
    expect(h.client.getOperationalStatistics().incompleteOperationCount).toBe(100_000);
    const started = Date.now();
    h.client.stop();
    const results = await Promise.all(outcomes);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(new Set(results)).toEqual(new Set(['AWS_ERROR_MQTT5_USER_REQUESTED_STOP']));
    expect(h.client.getOperationalStatistics().incompleteOperationCount).toBe(0);
  });
});

describe('diagnostics', () => {
  it('publishes connect attempts, outcomes and disconnections on diagnostics channels', async () => {
    const connects: { phase: string; error?: { code: string } }[] = [];
    const disconnects: { error: { code: string } }[] = [];
    const onConnect = (m: unknown) => connects.push(m as never);
    const onDisconnect = (m: unknown) => disconnects.push(m as never);
    diagnosticsChannel.subscribe(DIAGNOSTICS_CHANNELS.connect, onConnect);
    diagnosticsChannel.subscribe(DIAGNOSTICS_CHANNELS.disconnect, onDisconnect);
    try {
      const h = setup(FAST_RECONNECT, { connack: (_c, conn) => (conn.id === 1 ? { reasonCode: 135 } : {}) });
      h.client.start();
      await h.advance(10);
      h.client.stop();
      await flush();
      expect(connects.map((m) => m.phase)).toEqual(['attempt', 'failure', 'attempt', 'success']);
      expect(connects[1]!.error!.code).toBe('AWS_ERROR_MQTT5_CONNACK_CONNECTION_REFUSED');
      expect(disconnects.map((m) => m.error.code)).toEqual(['AWS_ERROR_MQTT5_USER_REQUESTED_STOP']);
      expect((connects[0] as unknown as { client: unknown }).client).toBe(h.client);
    } finally {
      diagnosticsChannel.unsubscribe(DIAGNOSTICS_CHANNELS.connect, onConnect);
      diagnosticsChannel.unsubscribe(DIAGNOSTICS_CHANNELS.disconnect, onDisconnect);
    }
  });
});
