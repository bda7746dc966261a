import { type IncomingPublishPacket, PacketType } from '@mqtt5/codec';
import { disposeAll, flush, setup } from '../test/helpers/harness.js';
import { InboundTopicAliasBehaviorType, RetryJitterType } from './config.js';
import type { MessageReceivedEvent, PublishAcknowledgementHandle } from './events.js';

afterEach(disposeAll);

const FAST_RECONNECT = { minReconnectDelayMs: 10, maxReconnectDelayMs: 10, retryJitterMode: RetryJitterType.None };

function publish(topicName: string, qos: 0 | 1, packetId?: number, extra: Record<string, unknown> = {}) {
  return {
    type: PacketType.Publish,
    topicName,
    qos,
    payload: Buffer.from(`payload of ${topicName}`),
    packetId,
    ...extra,
  };
}

describe('receiving', () => {
  it('emits one messageReceived with the whole packet: payload as Buffer, every property', async () => {
    const h = setup();
    const received: MessageReceivedEvent[] = [];
    h.client.on('messageReceived', (e) => received.push(e));
    await h.connect();
    h.broker.last.send(
      publish('a/b', 1, 7, {
        retain: true,
        payloadFormat: 1,
        messageExpiryIntervalSeconds: 30,
        responseTopic: 'r',
        correlationData: Buffer.from([1, 2]),
        subscriptionIdentifiers: [5],
        contentType: 'text/plain',
        userProperties: [
          { name: 'a', value: '1' },
          { name: 'a', value: '2' },
        ],
      }),
    );
    await flush();
    expect(received).toHaveLength(1);
    const message = received[0]!.message;
    expect(Buffer.isBuffer(message.payload)).toBe(true);
    expect(message.payload.toString()).toBe('payload of a/b');
    expect(message).toMatchObject({
      type: PacketType.Publish,
      topicName: 'a/b',
      qos: 1,
      retain: true,
      payloadFormat: 1,
      messageExpiryIntervalSeconds: 30,
      responseTopic: 'r',
      subscriptionIdentifiers: [5],
      contentType: 'text/plain',
      userProperties: [
        { name: 'a', value: '1' },
        { name: 'a', value: '2' },
      ],
    });
    expect(received[0]!.acknowledgementControl).toBeDefined();
    expect(h.broker.packets(PacketType.Puback)).toEqual([expect.objectContaining({ packetId: 7, reasonCode: 0 })]);
  });

  it('QoS 0 messages have no acknowledgementControl and get no PUBACK', async () => {
    const h = setup();
    const received: MessageReceivedEvent[] = [];
    h.client.on('messageReceived', (e) => received.push(e));
    await h.connect();
    h.broker.last.send(publish('q0', 0));
    await flush();
    expect(received[0]!.acknowledgementControl).toBeUndefined();
    expect(h.broker.packets(PacketType.Puback)).toHaveLength(0);
  });

  it('PUBACKs in the order the PUBLISHes arrived, after all listeners returned, batched', async () => {
    const h = setup();
    const order: string[] = [];
    h.client.on('messageReceived', (e) => order.push(`listener ${e.message.packetId}`));
    await h.connect();
    h.broker.handlers.publish = () => undefined;
    h.broker.last.transport.on('data', () => order.push('data at broker'));
    h.broker.last.sendMany([1, 2, 3, 4, 5].map((id) => publish('t', 1, id)));
    await flush();
    expect(h.broker.packets(PacketType.Puback).map((p) => p.packetId)).toEqual([1, 2, 3, 4, 5]);
    expect(order).toEqual(['listener 1', 'listener 2', 'listener 3', 'listener 4', 'listener 5', 'data at broker']);
  });

  it('connectionSuccess is observed before a PUBLISH that arrives in the same chunk as the CONNACK', async () => {
    const h = setup(
      {},
      {
        handlers: {
          connect: (_p, conn) => {
            conn.sendMany([
              { type: PacketType.Connack, sessionPresent: false, reasonCode: 0 },
              publish('first', 0),
              publish('second', 1, 1),
            ]);
          },
        },
      },
    );
    const order: string[] = [];
    h.client.on('connectionSuccess', () => order.push('connectionSuccess'));
    h.client.on('messageReceived', (e) => order.push(e.message.topicName));
    h.client.start();
    await flush();
    expect(order).toEqual(['connectionSuccess', 'first', 'second']);
    expect(h.broker.packets(PacketType.Puback)).toHaveLength(1);
  });

  it('messages are delivered when no listener is attached, and QoS 1 is still acknowledged', async () => {
    const h = setup();
    await h.connect();
    h.broker.last.send(publish('t', 1, 3));
    await flush();
    expect(h.broker.packets(PacketType.Puback)).toEqual([expect.objectContaining({ packetId: 3 })]);
  });

  describe('manual acknowledgement', () => {
    it('acquireHandle() defers the PUBACK until invokeAcknowledgement()', async () => {
      const h = setup();
      let handle: PublishAcknowledgementHandle | null = null;
      h.client.on('messageReceived', (e) => {
        handle = e.acknowledgementControl!.acquireHandle();
      });
      await h.connect();
      h.broker.last.send(publish('t', 1, 9));
      await flush();
      expect(handle).not.toBeNull();
      expect(h.broker.packets(PacketType.Puback)).toHaveLength(0);
      handle!.invokeAcknowledgement();
      handle!.invokeAcknowledgement();
      await flush();
      expect(h.broker.packets(PacketType.Puback)).toEqual([expect.objectContaining({ packetId: 9, reasonCode: 0 })]);
    });

    it('a second acquireHandle() returns null, and so does one after the listeners returned', async () => {
      const h = setup();
      let second: unknown = 'unset';
      let event: MessageReceivedEvent | undefined;
      h.client.on('messageReceived', (e) => {
        event = e;
        e.acknowledgementControl!.acquireHandle();
        second = e.acknowledgementControl!.acquireHandle();
      });
      await h.connect();
      h.broker.last.send(publish('t', 1, 1));
      await flush();
      expect(second).toBeNull();

      const h2 = setup();
      let late: MessageReceivedEvent | undefined;
      h2.client.on('messageReceived', (e) => (late = e));
      await h2.connect();
      h2.broker.last.send(publish('t', 1, 1));
      await flush();
      expect(late!.acknowledgementControl!.acquireHandle()).toBeNull();
      expect(h2.broker.packets(PacketType.Puback)).toHaveLength(1);
      void event;
    });

    it('acks invoked in reverse order all go out', async () => {
      const h = setup();
      const handles: PublishAcknowledgementHandle[] = [];
      h.client.on('messageReceived', (e) => handles.push(e.acknowledgementControl!.acquireHandle()!));
      await h.connect();
      h.broker.last.sendMany([1, 2, 3].map((id) => publish('t', 1, id)));
      await flush();
      for (const handle of handles.reverse()) handle.invokeAcknowledgement();
      await flush();
      expect(h.broker.packets(PacketType.Puback).map((p) => p.packetId)).toEqual([3, 2, 1]);
    });

    it('a handle invoked after its connection ended sends nothing (the server redelivers)', async () => {
      const h = setup(FAST_RECONNECT);
      let handle: PublishAcknowledgementHandle | null = null;
      h.client.on('messageReceived', (e) => (handle = e.acknowledgementControl!.acquireHandle()));
      await h.connect();
      h.broker.last.send(publish('t', 1, 1));
      await flush();
      h.broker.last.destroy();
      await h.advance(10);
      handle!.invokeAcknowledgement();
      await flush();
      expect(h.broker.packets(PacketType.Puback)).toHaveLength(0);
      expect(h.names().at(-1)).toBe('connectionSuccess');
    });
  });

  describe('messages() async iterator', () => {
    it('feeds any number of concurrent streams through one listener (no MaxListenersExceeded warning)', async () => {
      const h = setup();
      await h.connect();
      const warnings: Error[] = [];
      const onWarning = (w: Error) => warnings.push(w);
      process.on('warning', onWarning);
      try {
        const before = h.client.listenerCount('messageReceived');
        const streams = Array.from({ length: 25 }, () => h.client.messages());
        expect(h.client.listenerCount('messageReceived')).toBe(before + 1);
        const firsts = streams.map((s) => s.next());
        h.broker.last.sendMany([publish('a', 0)]);
        const results = await Promise.all(firsts);
        expect(results.map((r) => (r.done ? undefined : r.value.topicName))).toEqual(streams.map(() => 'a'));
        // ending some streams keeps the others fed; ending the last removes the listener
        for (const s of streams.slice(0, 20)) await s.return?.();
        const seconds = streams.slice(20).map((s) => s.next());
        h.broker.last.sendMany([publish('b', 0)]);
        expect((await Promise.all(seconds)).map((r) => (r.done ? undefined : r.value.topicName))).toEqual([
          'b',
          'b',
          'b',
          'b',
          'b',
        ]);
        for (const s of streams.slice(20)) await s.return?.();
        expect(h.client.listenerCount('messageReceived')).toBe(before);
        await new Promise((resolve) => setImmediate(resolve));
        expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
      } finally {
        process.off('warning', onWarning);
      }
    });

    it('yields messages in order and ends when the signal aborts', async () => {
      const h = setup();
      await h.connect();
      const controller = new AbortController();
      const topics: string[] = [];
      const loop = (async () => {
        for await (const message of h.client.messages({ signal: controller.signal })) {
          topics.push(message.topicName);
          if (topics.length === 3) controller.abort();
        }
      })();
      h.broker.last.sendMany([publish('a', 0), publish('b', 1, 1), publish('c', 1, 2), publish('d', 0)]);
      await loop;
      expect(topics).toEqual(['a', 'b', 'c']);
      await flush();
      expect(h.broker.packets(PacketType.Puback).map((p) => p.packetId)).toEqual([1, 2]);
    });

    it('acknowledges QoS 1 messages only when the consumer takes them', async () => {
      const h = setup();
      await h.connect();
      const stream = h.client.messages();
      h.broker.last.sendMany([publish('a', 1, 1), publish('b', 1, 2)]);
      await flush();
      expect(h.broker.packets(PacketType.Puback)).toHaveLength(0);
      const first = await stream.next();
      expect((first.value as IncomingPublishPacket).topicName).toBe('a');
      await flush();
      expect(h.broker.packets(PacketType.Puback).map((p) => p.packetId)).toEqual([1]);
      await stream.return!();
      expect(await stream.next()).toEqual({ value: undefined, done: true });
    });

    it('ends when the client is closed; drops QoS 0 beyond maxBufferedMessages', async () => {
      const h = setup();
      await h.connect();
      const stream = h.client.messages({ maxBufferedMessages: 2 });
      h.broker.last.sendMany([publish('a', 0), publish('b', 0), publish('c', 0)]);
      await flush();
      expect(stream.droppedMessages).toBe(1);
      expect((await stream.next()).value).toMatchObject({ topicName: 'a' });
      h.client.close();
      expect(await stream.next()).toEqual({ value: undefined, done: true });
      expect(h.client.listenerCount('messageReceived')).toBe(0);
    });
  });

  describe('inbound topic aliases', () => {
    it('Enabled: binds, resolves, rebinds', async () => {
      const h = setup({
        topicAliasingOptions: { inboundBehavior: InboundTopicAliasBehaviorType.Enabled, inboundCacheMaxSize: 10 },
      });
      const topics: string[] = [];
      h.client.on('messageReceived', (e) => topics.push(e.message.topicName));
      await h.connect();
      expect(h.broker.packets(PacketType.Connect)[0]).toMatchObject({ topicAliasMaximum: 10 });
      h.broker.last.sendMany([
        publish('topic1', 0, undefined, { topicAlias: 1 }),
        publish('', 0, undefined, { topicAlias: 1 }),
        publish('topic2', 0, undefined, { topicAlias: 1 }),
        publish('', 0, undefined, { topicAlias: 1 }),
      ]);
      await flush();
      expect(topics).toEqual(['topic1', 'topic1', 'topic2', 'topic2']);
    });

    it.each([
      ['Disabled, any alias', InboundTopicAliasBehaviorType.Disabled, [publish('t', 0, undefined, { topicAlias: 1 })]],
      [
        'alias above the maximum',
        InboundTopicAliasBehaviorType.Enabled,
        [publish('t', 0, undefined, { topicAlias: 11 })],
      ],
      ['an unbound alias', InboundTopicAliasBehaviorType.Enabled, [publish('', 0, undefined, { topicAlias: 3 })]],
      ['an empty topic without alias', InboundTopicAliasBehaviorType.Enabled, [publish('', 0)]],
    ])(
      '%s: DISCONNECT 130, disconnection DECODE_PROTOCOL_ERROR, reconnect',
      async (_name, inboundBehavior, packets) => {
        const h = setup({ ...FAST_RECONNECT, topicAliasingOptions: { inboundBehavior, inboundCacheMaxSize: 10 } });
        const received: unknown[] = [];
        h.client.on('messageReceived', (e) => received.push(e));
        await h.connect();
        h.broker.last.sendMany(packets);
        await flush();
        expect(received).toHaveLength(0);
        expect(h.events[2]![1].error.code).toBe('AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR');
        expect(h.broker.packets(PacketType.Disconnect)).toEqual([expect.objectContaining({ reasonCode: 130 })]);
        await h.advance(10);
        expect(h.names().at(-1)).toBe('connectionSuccess');
      },
    );

    it('bindings do not survive a reconnect', async () => {
      const h = setup({
        ...FAST_RECONNECT,
        topicAliasingOptions: { inboundBehavior: InboundTopicAliasBehaviorType.Enabled },
      });
      await h.connect();
      h.broker.last.send(publish('topic1', 0, undefined, { topicAlias: 1 }));
      await flush();
      h.broker.last.destroy();
      await h.advance(10);
      h.broker.last.send(publish('', 0, undefined, { topicAlias: 1 }));
      await flush();
      expect(h.events.at(-1)![1].error.code).toBe('AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR');
    });
  });

  describe('calling the client from listeners (no deadlock, no reentrancy bug)', () => {
    it('publish, subscribe and unsubscribe awaited inside every lifecycle listener and messageReceived', async () => {
      const h = setup();
      const results: string[] = [];
      const useClient = async (tag: string) => {
        const puback = await h.client.publish({ topicName: `from/${tag}`, qos: 1 });
        const suback = await h.client.subscribe({ subscriptions: [{ topicFilter: `s/${tag}`, qos: 1 }] });
        const unsuback = await h.client.unsubscribe({ topicFilters: [`s/${tag}`] });
        results.push(`${tag}:${puback?.reasonCode}/${suback.reasonCodes[0]}/${unsuback.reasonCodes[0]}`);
      };
      h.client.on('attemptingConnect', () => void useClient('attempting'));
      h.client.on('connectionSuccess', () => void useClient('success'));
      h.client.on('messageReceived', async (e) => {
        if (e.message.topicName === 'echo') await useClient('message');
      });
      await h.connect();
      h.broker.last.send(publish('echo', 1, 1));
      await flush(60);
      expect(results.sort()).toEqual(['attempting:0/1/0', 'message:0/1/0', 'success:0/1/0']);
    });

    it('stop() inside messageReceived: later packets of the same chunk are not delivered, no PUBACK is written', async () => {
      const h = setup();
      const topics: string[] = [];
      h.client.on('messageReceived', (e) => {
        topics.push(e.message.topicName);
        h.client.stop();
      });
      await h.connect();
      h.broker.last.sendMany([publish('a', 1, 1), publish('b', 1, 2)]);
      await flush();
      expect(topics).toEqual(['a']);
      expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess', 'disconnection', 'stopped']);
      expect(h.broker.packets(PacketType.Puback)).toHaveLength(0);
    });

    it('awaiting a publish inside disconnection and stopped listeners settles (queued or failed by policy)', async () => {
      const h = setup(FAST_RECONNECT);
      const outcomes: string[] = [];
      h.client.on('disconnection', () => {
        h.client.publish({ topicName: 'x', qos: 1 }).then(
          () => outcomes.push('disconnection: ok'),
          (e: { code: string }) => outcomes.push(`disconnection: ${e.code}`),
        );
      });
      h.client.on('stopped', () => {
        h.client.publish({ topicName: 'x', qos: 0 }).then(
          () => outcomes.push('stopped: ok'),
          (e: { code: string }) => outcomes.push(`stopped: ${e.code}`),
        );
      });
      await h.connect();
      h.broker.last.destroy();
      await h.advance(10);
      await flush();
      h.client.stop();
      await flush();
      expect(outcomes).toEqual([
        'disconnection: ok',
        'stopped: AWS_ERROR_MQTT5_OPERATION_FAILED_DUE_TO_OFFLINE_QUEUE_POLICY',
      ]);
    });
  });
});
