import { getEventListeners } from 'node:events';
import { PacketType, PubackReasonCode, QoS } from '@mqtt5/codec';
import { type Harness, disposeAll, flush, setup } from '../test/helpers/harness.js';
import type { AnyPacket } from '../test/helpers/in-memory-broker.js';
import { ClientOperationQueueBehavior, ClientSessionBehavior, RetryJitterType } from './config.js';

afterEach(disposeAll);

const FAST_RECONNECT = { minReconnectDelayMs: 10, maxReconnectDelayMs: 10, retryJitterMode: RetryJitterType.None };

describe('Mqtt5Client operations', () => {
  it('QoS 0 publish resolves with undefined once written; the broker gets the whole packet', async () => {
    const h = setup();
    await h.connect();
    const result = await h.client.publish({
      topicName: 'a/b',
      payload: 'hello',
      qos: QoS.AtMostOnce,
      contentType: 'text/plain',
      userProperties: [{ name: 'k', value: 'v' }],
    });
    expect(result).toBeUndefined();
    await flush();
    const [publish] = h.broker.packets(PacketType.Publish);
    expect(publish).toMatchObject({ topicName: 'a/b', qos: 0, contentType: 'text/plain', userProperties: [{ name: 'k', value: 'v' }] });
    expect(publish!.payload.toString()).toBe('hello');
  });

  it('QoS 1 publish resolves with the PUBACK, also with a failure reason code', async () => {
    const h = setup({}, { autoPuback: false });
    h.broker.handlers.publish = (p, conn) => {
      conn.send({ type: PacketType.Puback, packetId: p.packetId, reasonCode: p.topicName === 'bad' ? 135 : 16, reasonString: 'rs' });
    };
    await h.connect();
    await expect(h.client.publish({ topicName: 'ok', qos: 1 })).resolves.toEqual({
      type: PacketType.Puback,
      packetId: 1,
      reasonCode: PubackReasonCode.NoMatchingSubscribers,
      reasonString: 'rs',
    });
    await expect(h.client.publish({ topicName: 'bad', qos: 1 })).resolves.toMatchObject({ reasonCode: PubackReasonCode.NotAuthorized });
  });

  it('subscribe resolves with the SUBACK, unsubscribe with the UNSUBACK', async () => {
    const h = setup();
    await h.connect();
    const suback = await h.client.subscribe({ subscriptions: [{ topicFilter: 'a/+', qos: 1 }, { topicFilter: 'b/#', qos: 0 }] });
    expect(suback).toMatchObject({ type: PacketType.Suback, reasonCodes: [1, 0] });
    const unsuback = await h.client.unsubscribe({ topicFilters: ['a/+'] });
    expect(unsuback).toMatchObject({ type: PacketType.Unsuback, reasonCodes: [0] });
    expect(h.broker.packets(PacketType.Subscribe)[0]).toMatchObject({
      subscriptions: [expect.objectContaining({ topicFilter: 'a/+', qos: 1 }), expect.objectContaining({ topicFilter: 'b/#', qos: 0 })],
    });
  });

  it('payloads: string, bytes, ArrayBuffer, views and JSON objects', async () => {
    const h = setup();
    await h.connect();
    const bytes = new Uint8Array([1, 2, 3]);
    await h.client.publish({ topicName: 't', qos: 0, payload: 'é' });
    await h.client.publish({ topicName: 't', qos: 0, payload: bytes });
    await h.client.publish({ topicName: 't', qos: 0, payload: bytes.buffer });
    await h.client.publish({ topicName: 't', qos: 0, payload: new DataView(bytes.buffer, 1, 2) });
    await h.client.publish({ topicName: 't', qos: 0, payload: { a: 1 } });
    await h.client.publish({ topicName: 't', qos: 0 });
    await flush();
    expect(h.broker.packets(PacketType.Publish).map((p) => p.payload.toString('hex'))).toEqual([
      Buffer.from('é').toString('hex'),
      '010203',
      '010203',
      '0203',
      Buffer.from('{"a":1}').toString('hex'),
      '',
    ]);
  });

  it('changing or reusing the packet object after publish() changes nothing', async () => {
    const h = setup();
    await h.connect();
    const packet = { topicName: 'first', qos: 1 as QoS, payload: 'one' };
    const a = h.client.publish(packet);
    packet.topicName = 'second';
    packet.payload = 'two';
    const b = h.client.publish(packet);
    await Promise.all([a, b]);
    expect(h.broker.packets(PacketType.Publish).map((p) => [p.topicName, p.payload.toString()])).toEqual([
      ['first', 'one'],
      ['second', 'two'],
    ]);
  });

  describe('validation (rejects, never throws; nothing is sent)', () => {
    let h: Harness;
    beforeEach(async () => {
      h = setup();
      await h.connect();
    });

    it.each([
      ['QoS 2', { topicName: 't', qos: 2 }, 'QoS 2 is not supported yet'],
      ['a wildcard topic', { topicName: 'a/+', qos: 0 }, ''],
      ['an empty topic', { topicName: '', qos: 0 }, ''],
      ['qos "1"', { topicName: 't', qos: '1' }, ''],
      ['messageExpiry -5', { topicName: 't', qos: 0, messageExpiryIntervalSeconds: -5 }, ''],
      ['messageExpiry 2^32+1', { topicName: 't', qos: 0, messageExpiryIntervalSeconds: 4294967297 }, ''],
      ['topicAlias 0', { topicName: 't', qos: 0, topicAlias: 0 }, ''],
      ['subscription identifiers', { topicName: 't', qos: 0, subscriptionIdentifiers: [1] }, ''],
      ['a number payload', { topicName: 't', qos: 0, payload: 5 }, ''],
    ])('publish with %s', async (_name, packet, message) => {
      const error = await h.client.publish(packet as never).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'AWS_ERROR_MQTT5_PUBLISH_OPTIONS_VALIDATION' });
      expect((error as Error).message).toContain(message);
      await flush();
      expect(h.broker.packets(PacketType.Publish)).toHaveLength(0);
    });

    it('publish(null), subscribe(null), unsubscribe(null) reject', async () => {
      await expect(h.client.publish(null as never)).rejects.toMatchObject({ code: 'AWS_ERROR_MQTT5_PUBLISH_OPTIONS_VALIDATION' });
      await expect(h.client.subscribe(null as never)).rejects.toMatchObject({ code: 'AWS_ERROR_MQTT5_SUBSCRIBE_OPTIONS_VALIDATION' });
      await expect(h.client.unsubscribe(null as never)).rejects.toMatchObject({ code: 'AWS_ERROR_MQTT5_UNSUBSCRIBE_OPTIONS_VALIDATION' });
    });

    it.each([
      ['QoS 2', { subscriptions: [{ topicFilter: 't', qos: 2 }] }, 'QoS 2 is not supported yet'],
      ['no subscriptions', { subscriptions: [] }, ''],
      ['a bad filter', { subscriptions: [{ topicFilter: 'a/#/b', qos: 0 }] }, ''],
      ['subscriptionIdentifier 2^28', { subscriptions: [{ topicFilter: 't', qos: 0 }], subscriptionIdentifier: 268435456 }, ''],
    ])('subscribe with %s', async (_name, packet, message) => {
      const error = await h.client.subscribe(packet as never).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'AWS_ERROR_MQTT5_SUBSCRIBE_OPTIONS_VALIDATION' });
      expect((error as Error).message).toContain(message);
    });

    it('unsubscribe with no filters', async () => {
      await expect(h.client.unsubscribe({ topicFilters: [] })).rejects.toMatchObject({ code: 'AWS_ERROR_MQTT5_UNSUBSCRIBE_OPTIONS_VALIDATION' });
    });

    it('bad options', async () => {
      await expect(h.client.publish({ topicName: 't', qos: 1 }, { ackTimeoutSeconds: -1 })).rejects.toMatchObject({
        code: 'AWS_ERROR_MQTT5_PUBLISH_OPTIONS_VALIDATION',
      });
      await expect(h.client.subscribe({ subscriptions: [{ topicFilter: 't', qos: 1 }] }, { signal: {} as never })).rejects.toMatchObject({
        code: 'AWS_ERROR_MQTT5_SUBSCRIBE_OPTIONS_VALIDATION',
      });
    });
  });

  describe('negotiated limits at send time', () => {
    it('QoS above the maximum QoS fails that publish; the connection stays up', async () => {
      const h = setup({}, { connack: { maximumQos: 0 } });
      await h.connect();
      await expect(h.client.publish({ topicName: 't', qos: 1 })).rejects.toMatchObject({
        code: 'AWS_ERROR_MQTT5_PUBLISH_OPTIONS_VALIDATION',
        message: expect.stringContaining('maximum QoS 0'),
      });
      await expect(h.client.publish({ topicName: 't', qos: 0 })).resolves.toBeUndefined();
      expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess']);
    });

    it('retain when the server has no retain fails that publish', async () => {
      const h = setup({}, { connack: { retainAvailable: false } });
      await h.connect();
      await expect(h.client.publish({ topicName: 't', qos: 1, retain: true })).rejects.toMatchObject({
        code: 'AWS_ERROR_MQTT5_PUBLISH_OPTIONS_VALIDATION',
      });
      await expect(h.client.publish({ topicName: 't', qos: 1 })).resolves.toBeDefined();
    });

    it('an oversized packet fails alone with PACKET_VALIDATION; the others go through, the connection stays', async () => {
      const h = setup({}, { connack: { maximumPacketSize: 100 } });
      await h.connect();
      const results = await Promise.allSettled([
        h.client.publish({ topicName: 't', qos: 1, payload: 'small' }),
        h.client.publish({ topicName: 't', qos: 1, payload: Buffer.alloc(200) }),
        h.client.subscribe({ subscriptions: [{ topicFilter: 'x'.repeat(120), qos: 1 }] }),
        h.client.publish({ topicName: 't', qos: 0, payload: 'small too' }),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
      expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'AWS_ERROR_MQTT5_PACKET_VALIDATION' });
      expect((results[2] as PromiseRejectedResult).reason).toMatchObject({ code: 'AWS_ERROR_MQTT5_PACKET_VALIDATION' });
      expect(h.broker.packets(PacketType.Publish)).toHaveLength(2);
      expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess']);
    });

    it('a payload beyond the MQTT maximum fails at once, without copying it', async () => {
      const h = setup();
      await h.connect();
      const huge = Buffer.allocUnsafe(300 * 1024 * 1024);
      const started = Date.now();
      await expect(h.client.publish({ topicName: 't', qos: 1, payload: huge })).rejects.toMatchObject({
        code: 'AWS_ERROR_MQTT5_PACKET_VALIDATION',
      });
      expect(Date.now() - started).toBeLessThan(2000);
      expect(h.client.getOperationalStatistics().incompleteOperationCount).toBe(0);
    });

    it('a QoS 0 payload over the server maximum fails at once (fast lane), without copying it', async () => {
      const h = setup({}, { connack: { maximumPacketSize: 1024 * 1024 } });
      await h.connect();
      const big = Buffer.allocUnsafe(200 * 1024 * 1024);
      const started = Date.now();
      await expect(h.client.publish({ topicName: 't', qos: 0, payload: big })).rejects.toMatchObject({
        code: 'AWS_ERROR_MQTT5_PACKET_VALIDATION',
      });
      await expect(h.client.publish({ topicName: 't', qos: 0, payload: 'small' })).resolves.toBeUndefined();
      expect(Date.now() - started).toBeLessThan(2000);
      expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess']);
    });
  });

  describe('receive maximum', () => {
    it('never has more QoS 1 PUBLISHes in flight than the server allows; all complete', async () => {
      const h = setup({}, { connack: { receiveMaximum: 2 }, autoPuback: false });
      let inFlight = 0;
      let maxInFlight = 0;
      h.broker.handlers.publish = (p, conn) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        setTimeout(() => {
          inFlight--;
          conn.send({ type: PacketType.Puback, packetId: p.packetId, reasonCode: 0 });
        }, 1);
      };
      await h.connect();
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => h.client.publish({ topicName: `t/${i}`, qos: 1 })));
      expect(results).toHaveLength(10);
      expect(maxInFlight).toBe(2);
      expect(h.broker.packets(PacketType.Publish).map((p) => p.topicName)).toEqual(Array.from({ length: 10 }, (_, i) => `t/${i}`));
    });

    it('a blocked QoS 1 publish blocks what is behind it (head of line); QoS 0 alone is not limited', async () => {
      const h = setup({}, { connack: { receiveMaximum: 1 }, autoPuback: false });
      await h.connect();
      const first = h.client.publish({ topicName: 'a', qos: 1 });
      const second = h.client.publish({ topicName: 'b', qos: 1 });
      const third = h.client.publish({ topicName: 'c', qos: 0 });
      await flush();
      expect(h.broker.packets(PacketType.Publish).map((p) => p.topicName)).toEqual(['a']);
      h.broker.last.send({ type: PacketType.Puback, packetId: 1, reasonCode: 0 });
      await first;
      await flush();
      expect(h.broker.packets(PacketType.Publish).map((p) => p.topicName)).toEqual(['a', 'b', 'c']);
      await third;
      h.broker.last.send({ type: PacketType.Puback, packetId: 2, reasonCode: 0 });
      await second;
    });
  });

  describe('ack timeouts', () => {
    it('an unacknowledged QoS 1 publish fails with AWS_ERROR_MQTT_TIMEOUT after ackTimeoutSeconds', async () => {
      const h = setup({ ackTimeoutSeconds: 5 }, { autoPuback: false });
      await h.connect();
      const pending = h.client.publish({ topicName: 't', qos: 1 });
      const outcome = pending.catch((e: unknown) => e);
      await h.advance(4999);
      let settled = false;
      void pending.then(
        () => (settled = true),
        () => (settled = true),
      );
      await flush();
      expect(settled).toBe(false);
      await h.advance(1);
      expect(await outcome).toMatchObject({ code: 'AWS_ERROR_MQTT_TIMEOUT' });
      expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess']);
    });

    it('per-operation overrides: failures in deadline order; QoS 0 unaffected; 0 means the default', async () => {
      const h = setup({ ackTimeoutSeconds: 10 }, { autoPuback: false, handlers: { subscribe: () => undefined, unsubscribe: () => undefined } });
      await h.connect();
      const start = h.clock.now();
      const failedAt: Record<string, number> = {};
      const track = (name: string, p: Promise<unknown>) =>
        p.then(
          () => (failedAt[name] = -1),
          (e: { code: string }) => {
            expect(e.code).toBe('AWS_ERROR_MQTT_TIMEOUT');
            failedAt[name] = h.clock.now() - start;
          },
        );
      const all = Promise.all([
        track('qos1-3s', h.client.publish({ topicName: 't', qos: 1 }, { ackTimeoutSeconds: 3 })),
        track('sub-2s', h.client.subscribe({ subscriptions: [{ topicFilter: 't', qos: 1 }] }, { ackTimeoutSeconds: 2 })),
        track('qos0', h.client.publish({ topicName: 't', qos: 0 }, { ackTimeoutSeconds: 1 })),
        track('unsub-4s', h.client.unsubscribe({ topicFilters: ['t'] }, { ackTimeoutSeconds: 4 })),
        track('qos1-1s', h.client.publish({ topicName: 't', qos: 1 }, { ackTimeoutSeconds: 1 })),
        track('qos1-default', h.client.publish({ topicName: 't', qos: 1 }, { ackTimeoutSeconds: 0 })),
      ]);
      await h.advance(10_000);
      await all;
      expect(failedAt).toEqual({ 'qos1-1s': 1000, 'sub-2s': 2000, 'qos1-3s': 3000, 'unsub-4s': 4000, qos0: -1, 'qos1-default': 10_000 });
    });

    it('a late PUBACK after the timeout is ignored and its packet id is reused later', async () => {
      const h = setup({ ackTimeoutSeconds: 1 }, { autoPuback: false });
      await h.connect();
      const timedOut = h.client.publish({ topicName: 't', qos: 1 }).catch((e: unknown) => e);
      await h.advance(1000);
      expect(await timedOut).toMatchObject({ code: 'AWS_ERROR_MQTT_TIMEOUT' });
      h.broker.last.send({ type: PacketType.Puback, packetId: 1, reasonCode: 0 });
      await flush();
      expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess']);
      h.broker.autoPuback = true;
      await expect(h.client.publish({ topicName: 't', qos: 1 })).resolves.toMatchObject({ reasonCode: 0 });
    });
  });

  it('an ack timeout returns its receive-maximum slot (deliberate difference from the reference)', async () => {
    const h = setup({ ackTimeoutSeconds: 2 }, { connack: { receiveMaximum: 1 }, autoPuback: false });
    await h.connect();
    const first = h.client.publish({ topicName: 'first', qos: 1 }).catch((e: { code: string }) => e.code);
    const second = h.client.publish({ topicName: 'second', qos: 1 });
    await flush();
    expect(h.broker.packets(PacketType.Publish).map((p) => p.topicName)).toEqual(['first']);
    await h.advance(2000);
    expect(await first).toBe('AWS_ERROR_MQTT_TIMEOUT');
    await flush();
    expect(h.broker.packets(PacketType.Publish).map((p) => p.topicName)).toEqual(['first', 'second']);
    h.broker.last.send({ type: PacketType.Puback, packetId: 2, reasonCode: 0 });
    await expect(second).resolves.toMatchObject({ packetId: 2 });
  });

  describe('packet ids', () => {
    it('are 1, 2, 3 … and skip ids still in use after wrapping', async () => {
      const h = setup({}, { autoPuback: false, handlers: { subscribe: () => undefined } });
      await h.connect();
      const ids = () => h.broker.packets(PacketType.Publish).map((p) => p.packetId);
      const first = h.client.publish({ topicName: 't', qos: 1 }).catch(() => undefined);
      const sub = h.client.subscribe({ subscriptions: [{ topicFilter: 't', qos: 1 }] }).catch(() => undefined);
      await flush();
      expect(ids()).toEqual([1]);
      expect(h.broker.packets(PacketType.Subscribe)[0]!.packetId).toBe(2);
      // complete many to wrap around while id 1 stays in use
      h.broker.autoPuback = true;
      // 65 535 more: ids 3 … 65535 (65 533 of them), then 1 and 2 are still in use: 3, 4
      for (let i = 0; i < 65_535; i += 1000) {
        await Promise.all(Array.from({ length: Math.min(1000, 65_535 - i) }, () => h.client.publish({ topicName: 't', qos: 1 })));
      }
      expect(ids().slice(-3)).toEqual([65_535, 3, 4]);
      void first;
      void sub;
    });
  });

  describe('statistics', () => {
    it('counts sizes as the reference: QoS 0/1 publish 30, subscribe 68, unsubscribe 14', async () => {
      const h = setup({}, { autoPuback: false, handlers: { subscribe: () => undefined, unsubscribe: () => undefined } });
      const stats = () => h.client.getOperationalStatistics();
      expect(stats()).toEqual({ incompleteOperationCount: 0, incompleteOperationSize: 0, unackedOperationCount: 0, unackedOperationSize: 0 });
      void h.client.publish({ topicName: 'hello/world', payload: 'PublishPayload', qos: 1 }).catch(() => undefined);
      expect(stats()).toEqual({ incompleteOperationCount: 1, incompleteOperationSize: 30, unackedOperationCount: 0, unackedOperationSize: 0 });
      void h.client.subscribe({ subscriptions: [{ topicFilter: 'x'.repeat(60), qos: 1 }] }).catch(() => undefined);
      expect(stats()).toMatchObject({ incompleteOperationCount: 2, incompleteOperationSize: 98 });
      void h.client.unsubscribe({ topicFilters: ['hello/+'] }).catch(() => undefined);
      expect(stats()).toMatchObject({ incompleteOperationCount: 3, incompleteOperationSize: 112 });
      await h.connect();
      await flush();
      expect(stats()).toEqual({ incompleteOperationCount: 3, incompleteOperationSize: 112, unackedOperationCount: 3, unackedOperationSize: 112 });
    });

    it('QoS 1 lifecycle with a reconnect in between: {30,1,0,0} {30,1,30,1} {30,1,0,0} {30,1,30,1} {0,0,0,0}', async () => {
      const h = setup({ ...FAST_RECONNECT, sessionBehavior: ClientSessionBehavior.RejoinPostSuccess }, {
        autoPuback: false,
        connack: (connect) => ({ sessionPresent: connect.cleanStart === false }),
      });
      const snapshot = () => {
        const s = h.client.getOperationalStatistics();
        return [s.incompleteOperationSize, s.incompleteOperationCount, s.unackedOperationSize, s.unackedOperationCount];
      };
      const seen: number[][] = [];
      const pending = h.client.publish({ topicName: 'hello/world', payload: 'PublishPayload', qos: 1 });
      seen.push(snapshot());
      await h.connect();
      await flush();
      seen.push(snapshot());
      h.broker.last.destroy();
      await flush();
      seen.push(snapshot());
      await h.advance(10);
      seen.push(snapshot());
      const resent = h.broker.packets(PacketType.Publish).at(-1)!;
      expect(resent.dup).toBe(true);
      h.broker.last.send({ type: PacketType.Puback, packetId: resent.packetId, reasonCode: 0 });
      await pending;
      seen.push(snapshot());
      expect(seen).toEqual([
        [30, 1, 0, 0],
        [30, 1, 30, 1],
        [30, 1, 0, 0],
        [30, 1, 30, 1],
        [0, 0, 0, 0],
      ]);
    });

    it('QoS 0: incomplete until written, then 0', async () => {
      const h = setup();
      await h.connect();
      const p = h.client.publish({ topicName: 'hello/world', payload: 'PublishPayload', qos: 0 });
      expect(h.client.getOperationalStatistics()).toEqual({
        incompleteOperationCount: 1,
        incompleteOperationSize: 30,
        unackedOperationCount: 0,
        unackedOperationSize: 0,
      });
      await p;
      expect(h.client.getOperationalStatistics().incompleteOperationCount).toBe(0);
    });
  });

  describe('abort', () => {
    it('an operation not written yet is removed and rejects with ABORTED', async () => {
      const h = setup();
      const controller = new AbortController();
      const pending = h.client.publish({ topicName: 'never', qos: 1 }, { signal: controller.signal });
      const kept = h.client.publish({ topicName: 'kept', qos: 1 });
      expect(h.client.getOperationalStatistics().incompleteOperationCount).toBe(2);
      controller.abort(new Error('changed my mind'));
      await expect(pending).rejects.toMatchObject({ code: 'ABORTED', cause: expect.objectContaining({ message: 'changed my mind' }) });
      expect(h.client.getOperationalStatistics().incompleteOperationCount).toBe(1);
      await h.connect();
      await kept;
      expect(h.broker.packets(PacketType.Publish).map((p) => p.topicName)).toEqual(['kept']);
    });

    it('an already aborted signal rejects at once', async () => {
      const h = setup();
      await h.connect();
      await expect(h.client.subscribe({ subscriptions: [{ topicFilter: 't', qos: 0 }] }, { signal: AbortSignal.abort() })).rejects.toMatchObject({
        code: 'ABORTED',
      });
      await flush();
      expect(h.broker.packets(PacketType.Subscribe)).toHaveLength(0);
    });

    it('an operation already written stays (its ack is consumed) but its promise rejects', async () => {
      const h = setup({}, { autoPuback: false });
      await h.connect();
      const controller = new AbortController();
      const pending = h.client.publish({ topicName: 'sent', qos: 1 }, { signal: controller.signal });
      await flush();
      expect(h.broker.packets(PacketType.Publish)).toHaveLength(1);
      controller.abort();
      await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
      h.broker.last.send({ type: PacketType.Puback, packetId: 1, reasonCode: 0 });
      await flush();
      expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess']);
      expect(h.client.getOperationalStatistics()).toMatchObject({ incompleteOperationCount: 0, unackedOperationCount: 0 });
    });

    it('does not leak abort listeners on a long-lived signal', async () => {
      const h = setup();
      await h.connect();
      const controller = new AbortController();
      for (let i = 0; i < 50; i++) await h.client.publish({ topicName: 't', qos: 1 }, { signal: controller.signal });
      // Node warns (MaxListenersExceededWarning) past 10 listeners on one signal; none are left.
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    });
  });

  describe('batching and backpressure', () => {
    it('100 000 QoS 0 publishes in a loop take few writes, not 100 000', async () => {
      const h = setup();
      await h.connect();
      const transport = await latestClientTransport(h);
      const before = transport.writeCount;
      const promises: Promise<unknown>[] = [];
      for (let i = 0; i < 100_000; i++) promises.push(h.client.publish({ topicName: 'bench/t', qos: 0, payload: 'x'.repeat(64) }));
      await Promise.all(promises);
      await flush();
      const writes = transport.writeCount - before;
      expect(h.broker.packets(PacketType.Publish)).toHaveLength(100_000);
      expect(writes).toBeLessThan(200);
    });

    it('waits for drain when the transport says so, and loses nothing', async () => {
      const h = setup({}, { highWaterMark: 1024 });
      await h.connect();
      const transport = await latestClientTransport(h);
      h.broker.last.transport.pauseReading();
      const promises = Array.from({ length: 2000 }, (_, i) => h.client.publish({ topicName: 't', qos: 0, payload: `m${i}` }));
      await flush();
      const writesWhilePaused = transport.writeCount;
      await flush();
      expect(transport.writeCount).toBe(writesWhilePaused);
      h.broker.last.transport.resumeReading();
      await Promise.all(promises);
      await flush();
      expect(h.broker.packets(PacketType.Publish).map((p) => p.payload.toString())).toEqual(Array.from({ length: 2000 }, (_, i) => `m${i}`));
    });
  });
});

describe('offline queue policies', () => {
  const policies = [
    ClientOperationQueueBehavior.FailNonQos1PublishOnDisconnect,
    ClientOperationQueueBehavior.FailQos0PublishOnDisconnect,
    ClientOperationQueueBehavior.FailAllOnDisconnect,
  ];
  const FAILED = 'AWS_ERROR_MQTT5_OPERATION_FAILED_DUE_TO_OFFLINE_QUEUE_POLICY';
  // [qos0, qos1, subscribe, unsubscribe] kept by each policy while offline
  const kept: Record<number, boolean[]> = {
    [ClientOperationQueueBehavior.FailNonQos1PublishOnDisconnect]: [false, true, false, false],
    [ClientOperationQueueBehavior.FailQos0PublishOnDisconnect]: [false, true, true, true],
    [ClientOperationQueueBehavior.FailAllOnDisconnect]: [false, false, false, false],
  };
  const expected = (policy: number) => kept[policy]!.map((ok) => (ok ? 'ok' : FAILED));

  /** Submits one operation of each kind; the outcomes are observed at once (no unhandled rejection). */
  function submitAll(h: Harness, tag: string): Promise<string>[] {
    return [
      h.client.publish({ topicName: `${tag}-q0`, qos: 0 }),
      h.client.publish({ topicName: `${tag}-q1`, qos: 1 }),
      h.client.subscribe({ subscriptions: [{ topicFilter: `${tag}-s`, qos: 1 }] }),
      h.client.unsubscribe({ topicFilters: [`${tag}-u`] }),
    ].map((p) => p.then(() => 'ok', (e: { code: string }) => e.code));
  }

  it.each(policies)('policy %d: submissions while offline', async (policy) => {
    const h = setup({ offlineQueueBehavior: policy });
    const outcomes = submitAll(h, 'offline');
    await flush();
    await h.connect();
    expect(await Promise.all(outcomes)).toEqual(expected(policy));
  });

  const disconnects: [string, (h: Harness) => void][] = [
    ['server DISCONNECT', (h) => h.broker.last.send({ type: PacketType.Disconnect, reasonCode: 0x8b })],
    ['hang-up', (h) => h.broker.last.close()],
    ['socket error', (h) => h.broker.last.destroy(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))],
    ['protocol error', (h) => h.broker.last.sendRaw(Buffer.from([0x40, 0x01, 0x00]))],
  ];

  describe.each(policies)('policy %d on every kind of disconnect', (policy) => {
    it.each(disconnects)('%s: unacked, being written, queued and offline operations', async (_name, disconnect) => {
      const h = setup({ offlineQueueBehavior: policy, ...FAST_RECONNECT }, {
        autoPuback: false,
        handlers: { subscribe: () => undefined, unsubscribe: () => undefined },
      });
      await h.connect();
      const unacked = submitAll(h, 'unacked');
      await flush();
      expect(h.client.getOperationalStatistics().unackedOperationCount).toBe(3);
      // The broker stops reading: the next batch stays in a pending write, the one after in the queue.
      h.broker.last.transport.pauseReading();
      const writing = submitAll(h, 'writing');
      await flush();
      const queued = submitAll(h, 'queued');
      disconnect(h);
      h.broker.autoPuback = true;
      h.broker.handlers = {};
      await flush();
      const offline = submitAll(h, 'offline');
      await h.advance(5000); // the clean disconnect of a protocol error waits at most 5 s for its DISCONNECT
      await h.advance(10);
      // Unacked (also those of the pending write): QoS 1 survives the disconnect itself, but FailAll fails it
      // when the session is not resumed; a QoS 0 of the pending write always fails.
      const held = [FAILED, policy === ClientOperationQueueBehavior.FailAllOnDisconnect ? FAILED : 'ok', ...expected(policy).slice(2)];
      expect(await Promise.all(unacked)).toEqual(['ok', ...held.slice(1)]);
      expect(await Promise.all(writing)).toEqual(held);
      expect(await Promise.all(queued)).toEqual(expected(policy));
      expect(await Promise.all(offline)).toEqual(expected(policy));
      expect(h.client.getOperationalStatistics()).toEqual({
        incompleteOperationCount: 0,
        incompleteOperationSize: 0,
        unackedOperationCount: 0,
        unackedOperationSize: 0,
      });
    });
  });

  it('queued operations the policy keeps are sent right after connecting', async () => {
    const h = setup({ offlineQueueBehavior: ClientOperationQueueBehavior.FailNonQos1PublishOnDisconnect });
    const pending = h.client.publish({ topicName: 'offline', qos: 1 });
    await h.connect();
    await expect(pending).resolves.toMatchObject({ reasonCode: 0 });
  });
});

describe('session resumption', () => {
  it('resends unacked QoS 1 publishes first with DUP=1 and their packet id, then interrupted subscribes, then the queue', async () => {
    const h = setup({ ...FAST_RECONNECT, sessionBehavior: ClientSessionBehavior.RejoinPostSuccess }, {
      autoPuback: false,
      handlers: { subscribe: () => undefined },
      connack: (connect) => ({ sessionPresent: connect.cleanStart === false }),
    });
    await h.connect();
    const ops = [
      h.client.publish({ topicName: 'p1', qos: 1 }),
      h.client.subscribe({ subscriptions: [{ topicFilter: 's1', qos: 1 }] }),
      h.client.publish({ topicName: 'p2', qos: 1 }),
    ];
    await flush();
    const firstIds = h.broker.received.filter((r) => r.conn === 1).map((r) => r.packet.packetId).filter(Boolean);
    expect(firstIds).toEqual([1, 2, 3]);
    h.broker.last.destroy();
    await flush();
    const queued = h.client.publish({ topicName: 'p3', qos: 1 });
    h.broker.autoPuback = true;
    h.broker.handlers = {};
    await h.advance(10);
    await Promise.all([...ops, queued]);
    const second = h.broker.received.filter((r) => r.conn === 2 && r.packet.type !== PacketType.Connect).map((r) => r.packet as AnyPacket);
    expect(second.map((p) => [p.type === PacketType.Publish ? p.topicName : 'SUB', p.dup === true, p.packetId])).toEqual([
      ['p1', true, 1],
      ['p2', true, 3],
      ['SUB', false, 4],
      ['p3', false, 5],
    ]);
  });

  it('a clean session after a reconnect still resends unacked QoS 1 publishes (DUP=1, same id) in order', async () => {
    const h = setup({ ...FAST_RECONNECT }, { autoPuback: false });
    await h.connect();
    const ops = [h.client.publish({ topicName: 'p1', qos: 1 }), h.client.publish({ topicName: 'p2', qos: 1 })];
    await flush();
    h.broker.last.destroy();
    h.broker.autoPuback = true;
    await h.advance(10);
    await Promise.all(ops);
    const second = h.broker.connections[1]!.received.filter((p) => p.type === PacketType.Publish);
    expect(second.map((p) => [p.topicName, p.dup, p.packetId])).toEqual([
      ['p1', true, 1],
      ['p2', true, 2],
    ]);
  });

  it('stop() then start(): unacked publishes fail with USER_REQUESTED_STOP and nothing is resent', async () => {
    const h = setup({ sessionBehavior: ClientSessionBehavior.RejoinPostSuccess }, { autoPuback: false });
    await h.connect();
    const ops = Array.from({ length: 10 }, () => h.client.publish({ topicName: 't', qos: 1 }));
    await flush();
    h.client.stop();
    const results = await Promise.allSettled(ops);
    expect(results.every((r) => r.status === 'rejected' && (r.reason as { code: string }).code === 'AWS_ERROR_MQTT5_USER_REQUESTED_STOP')).toBe(true);
    await h.connect();
    await flush();
    expect(h.broker.packets(PacketType.Publish)).toHaveLength(10);
    expect(h.broker.packets(PacketType.Connect).map((p) => p.cleanStart)).toEqual([true, true]);
  });
});

async function latestClientTransport(h: Harness) {
  await flush();
  return h.broker.last.client;
}
