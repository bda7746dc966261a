/**
 * Red-team tests of the robustness contract (API.md): hostile inbound bytes, throwing and re-entrant
 * listeners, every promise settling, and the QoS 0 fast lane under interleaving and disconnects.
 */
import { getEventListeners } from 'node:events';
import { PacketType } from '@mqtt5/codec';
import { disposeAll, flush, setup } from '../test/helpers/harness.js';
import { ClientOperationQueueBehavior, InboundTopicAliasBehaviorType, RetryJitterType } from './config.js';
import type { MessageReceivedEvent } from './events.js';
import type { BrokerHandlers, ServerConnection } from '../test/helpers/in-memory-broker.js';

afterEach(disposeAll);

const FAST_RECONNECT = { minReconnectDelayMs: 10, maxReconnectDelayMs: 10, retryJitterMode: RetryJitterType.None };

/** Broker handlers that answer only the first CONNECT with `answer`, and behave normally afterwards. */
function answerFirstConnect(answer: (conn: ServerConnection) => void): BrokerHandlers {
  let first = true;
  return {
    connect: (_p, conn) => {
      if (!first) return 'default';
      first = false;
      answer(conn);
      return undefined;
    },
  };
}

/** The first attempt gets `answer` and must fail with DECODE_PROTOCOL_ERROR; the reconnect must succeed. */
async function expectDecodeFailureThenReconnect(answer: (conn: ServerConnection) => void): Promise<void> {
  const h = setup(FAST_RECONNECT, { handlers: answerFirstConnect(answer) });
  h.client.start();
  await flush();
  expect(h.names()).toEqual(['attemptingConnect', 'connectionFailure']);
  expect(h.events[1]![1].error.code).toBe('AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR');
  await h.advance(10);
  expect(h.names().slice(2)).toEqual(['attemptingConnect', 'connectionSuccess']);
}

function settled(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'ok',
    (e: { code?: string }) => e.code ?? 'no code',
  );
}

describe('hostile frames after CONNACK: DISCONNECT 130, DECODE_PROTOCOL_ERROR, then reconnect', () => {
  const cases: [string, number[], number[]?][] = [
    ['a topic with invalid UTF-8', [0x30, 0x04, 0x00, 0x01, 0xff, 0x00]],
    ['a topic with U+0000', [0x30, 0x05, 0x00, 0x02, 0x61, 0x00, 0x00]],
    ['an empty topic without an alias', [0x30, 0x03, 0x00, 0x00, 0x00]],
    ['subscription identifier 0', [0x30, 0x06, 0x00, 0x01, 0x74, 0x02, 0x0b, 0x00]],
    ['a duplicate message expiry property', [0x30, 0x0e, 0x00, 0x01, 0x74, 0x0a, 0x02, 0, 0, 0, 1, 0x02, 0, 0, 0, 1]],
    [
      'a topic alias although the client allows none',
      [0x30, 0x07, 0x00, 0x01, 0x74, 0x03, 0x23, 0x00, 0x01],
      [130, 148],
    ],
    ['a PUBACK with reserved flags', [0x42, 0x02, 0x00, 0x01]],
    ['packet type 0', [0x00, 0x00]],
    ['a malformed remaining length', [0x30, 0xff, 0xff, 0xff, 0xff, 0x01]],
    ['a PUBLISH with QoS 3', [0x36, 0x06, 0x00, 0x01, 0x74, 0x00, 0x01, 0x00]],
    ['a QoS 1 PUBLISH with packet id 0', [0x32, 0x06, 0x00, 0x01, 0x74, 0x00, 0x00, 0x00]],
    [
      'a SUBACK with a duplicate reason string',
      [0x90, 0x0c, 0x00, 0x01, 0x08, 0x1f, 0x00, 0x01, 0x61, 0x1f, 0x00, 0x01, 0x61, 0x00],
    ],
    ['a DISCONNECT whose properties overrun it', [0xe0, 0x02, 0x00, 0x05]],
    ['a PINGRESP with a body', [0xd0, 0x01, 0x00]],
  ];

  it.each(cases)('%s', async (_name, bytes, reasons = [130]) => {
    const h = setup({
      ...FAST_RECONNECT,
      topicAliasingOptions: { inboundBehavior: InboundTopicAliasBehaviorType.Disabled },
    });
    const messages: MessageReceivedEvent[] = [];
    h.client.on('messageReceived', (e) => messages.push(e));
    await h.connect();
    h.broker.last.sendRaw(Buffer.from(bytes));
    await flush();
    expect(messages).toHaveLength(0);
    expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess', 'disconnection']);
    expect(h.events[2]![1].error.code).toBe('AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR');
    const disconnects = h.broker.packets(PacketType.Disconnect);
    expect(disconnects).toHaveLength(1);
    expect(reasons).toContain(disconnects[0]!.reasonCode);
    await h.advance(10);
    expect(h.names().slice(3)).toEqual(['attemptingConnect', 'connectionSuccess']);
    await expect(h.client.publish({ topicName: 't', qos: 1 })).resolves.toMatchObject({ reasonCode: 0 });
  });

  it('a frame over the client maximum packet size is refused from its fixed header alone', async () => {
    const h = setup({
      ...FAST_RECONNECT,
      connectProperties: { keepAliveIntervalSeconds: 60, maximumPacketSizeBytes: 1024 },
    });
    await h.connect();
    // PUBLISH announcing 100 MB; none of the body is ever sent.
    h.broker.last.sendRaw(Buffer.from([0x30, 0x80, 0xc2, 0xd7, 0x2f]));
    await flush();
    expect(h.events[2]![1].error.code).toBe('AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR');
    expect(h.broker.packets(PacketType.Disconnect)).toEqual([expect.objectContaining({ reasonCode: 0x95 })]);
    await h.advance(10);
    expect(h.names().slice(3)).toEqual(['attemptingConnect', 'connectionSuccess']);
  });
});

describe('hostile frames before CONNACK: connectionFailure DECODE_PROTOCOL_ERROR, then reconnect', () => {
  const cases: [string, object][] = [
    ['a PUBACK', { type: PacketType.Puback, packetId: 1, reasonCode: 0 }],
    ['a SUBACK', { type: PacketType.Suback, packetId: 1, reasonCodes: [0] }],
    ['an UNSUBACK', { type: PacketType.Unsuback, packetId: 1, reasonCodes: [0] }],
    ['a PINGRESP', { type: PacketType.Pingresp }],
    ['an AUTH', { type: PacketType.Auth, reasonCode: 0x18, authenticationMethod: 'x' }],
  ];
  it.each(cases)('%s', async (_name, packet) => {
    await expectDecodeFailureThenReconnect((conn) => {
      conn.send(packet);
    });
  });
});

describe('acks', () => {
  it('a PUBACK for a subscribe id while a QoS 1 publish is pending elsewhere fails nothing but the connection', async () => {
    const h = setup(FAST_RECONNECT, { autoPuback: false, handlers: { subscribe: () => undefined } });
    await h.connect();
    const pub = h.client.publish({ topicName: 'p', qos: 1 });
    const sub = h.client.subscribe({ subscriptions: [{ topicFilter: 's', qos: 1 }] });
    await flush();
    const subId = h.broker.packets(PacketType.Subscribe)[0]!.packetId as number;
    h.broker.last.send({ type: PacketType.Unsuback, packetId: subId, reasonCodes: [0] });
    await flush();
    expect(h.events[2]![1].error.code).toBe('AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR');
    h.broker.handlers = {};
    h.broker.autoPuback = true;
    await h.advance(10);
    await expect(pub).resolves.toMatchObject({ reasonCode: 0 });
    await expect(sub).resolves.toMatchObject({ reasonCodes: [1] });
  });

  it('acks for unknown ids, also for ids of operations still queued (not yet written), are ignored', async () => {
    const h = setup({}, { autoPuback: false });
    await h.connect();
    const pub = h.client.publish({ topicName: 'p', qos: 1 });
    await flush();
    const id = h.broker.packets(PacketType.Publish)[0]!.packetId as number;
    h.broker.last.sendMany([
      { type: PacketType.Puback, packetId: id + 1, reasonCode: 0 },
      { type: PacketType.Suback, packetId: id + 2, reasonCodes: [0, 0, 0] },
    ]);
    await flush();
    expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess']);
    h.broker.last.send({ type: PacketType.Puback, packetId: id, reasonCode: 0 });
    await expect(pub).resolves.toMatchObject({ reasonCode: 0 });
  });
});

describe('floods', () => {
  it('QoS 0 PUBLISH flood: delivered, nothing retained by the client', async () => {
    const h = setup();
    let count = 0;
    h.client.on('messageReceived', () => count++);
    await h.connect();
    const one = Buffer.from([0x30, 0x04, 0x00, 0x01, 0x74, 0x00]);
    for (let i = 0; i < 10; i++) h.broker.last.sendRaw(Buffer.alloc(one.length * 10_000, one));
    await flush(50);
    expect(count).toBe(100_000);
    expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess']);
  });
});

describe('listeners', () => {
  const ALL = [
    'attemptingConnect',
    'connectionSuccess',
    'connectionFailure',
    'disconnection',
    'stopped',
    'messageReceived',
  ] as const;

  it('a throwing listener on every event type: never uncaught, the other listeners still run', async () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onUncaught);
    try {
      const h = setup(FAST_RECONNECT);
      const seen: string[] = [];
      for (const name of ALL) {
        h.client.on(name, () => {
          throw new Error(`boom ${name}`);
        });
        h.client.on(name, async () => {
          throw new Error(`async boom ${name}`);
        });
        h.client.on(name, () => seen.push(name));
      }
      h.broker.connectError = new Error('refused');
      h.client.start();
      await flush();
      h.broker.connectError = undefined;
      await h.advance(10);
      h.broker.last.send({ type: PacketType.Publish, topicName: 't', qos: 1, packetId: 3, payload: Buffer.from('x') });
      await flush();
      expect(h.broker.packets(PacketType.Puback)).toEqual([expect.objectContaining({ packetId: 3 })]);
      h.client.stop();
      await flush();
      expect(seen).toEqual([
        'attemptingConnect',
        'connectionFailure',
        'attemptingConnect',
        'connectionSuccess',
        'messageReceived',
        'disconnection',
        'stopped',
      ]);
      expect(uncaught).toEqual([]);
      h.client.start();
      await flush();
      await expect(h.client.publish({ topicName: 't', qos: 1 })).resolves.toBeDefined();
    } finally {
      process.off('uncaughtException', onUncaught);
      process.off('unhandledRejection', onUncaught);
      warn.mockRestore();
    }
  });

  it('a listener throwing something that is not an Error (no toString) or rejecting with it is contained', async () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => uncaught.push(e);
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onUncaught);
    try {
      const h = setup();
      const seen: string[] = [];
      h.client.on('connectionSuccess', () => {
        throw Object.create(null);
      });
      h.client.on('connectionSuccess', () => Promise.reject(Object.create(null)));
      h.client.on('connectionSuccess', () => seen.push('second'));
      h.client.on('messageReceived', () => {
        throw Object.create(null);
      });
      h.client.on('messageReceived', (e) => seen.push(e.message.topicName));
      await h.connect();
      h.broker.last.send({ type: PacketType.Publish, topicName: 'm', qos: 1, packetId: 1, payload: Buffer.from('x') });
      await flush();
      expect(seen).toEqual(['second', 'm']);
      expect(h.broker.packets(PacketType.Puback)).toHaveLength(1);
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
      process.off('unhandledRejection', onUncaught);
      warn.mockRestore();
    }
  });

  it('a consumer that throws inside messages() iteration ends its stream only', async () => {
    const h = setup();
    const seen: string[] = [];
    h.client.on('messageReceived', (e) => seen.push(e.message.topicName));
    await h.connect();
    const consumer = (async () => {
      for await (const message of h.client.messages()) {
        throw new Error(`consumer failed on ${message.topicName}`);
      }
    })();
    h.broker.last.send({ type: PacketType.Publish, topicName: 'a', qos: 1, packetId: 1, payload: Buffer.from('x') });
    await expect(consumer).rejects.toThrow('consumer failed on a');
    h.broker.last.send({ type: PacketType.Publish, topicName: 'b', qos: 1, packetId: 2, payload: Buffer.from('x') });
    await flush();
    expect(seen).toEqual(['a', 'b']);
    expect(h.broker.packets(PacketType.Puback).map((p) => p.packetId)).toEqual([1, 2]);
    expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess']);
  });

  it.each(ALL)(
    'stop() then start() inside a %s listener: pairs kept, operations settle, it runs again',
    async (name) => {
      const h = setup(FAST_RECONNECT);
      let done = false;
      const pending: Promise<string>[] = [];
      h.client.on(name, () => {
        if (done) return;
        done = true;
        pending.push(settled(h.client.publish({ topicName: 'inside', qos: 1 })));
        h.client.stop();
        pending.push(settled(h.client.publish({ topicName: 'between', qos: 0 })));
        h.client.start();
      });
      if (name === 'connectionFailure') h.broker.connectError = new Error('refused');
      h.client.start();
      await flush();
      h.broker.connectError = undefined;
      if (name === 'messageReceived' || name === 'disconnection' || name === 'stopped') {
        h.broker.last.send({ type: PacketType.Publish, topicName: 'in', qos: 0, payload: Buffer.from('x') });
        await flush();
        if (name !== 'messageReceived') {
          h.client.stop();
          await flush();
          h.client.start();
        }
      }
      await h.advance(10);
      await h.advance(10);
      expect(done).toBe(true);
      const names = h.names();
      expect(names.at(-1)).toBe('connectionSuccess');
      // Pairing: every attemptingConnect is followed by exactly one success or failure.
      let open = false;
      for (const n of names) {
        if (n === 'attemptingConnect') {
          expect(open).toBe(false);
          open = true;
        } else if (n === 'connectionSuccess' || n === 'connectionFailure') {
          expect(open).toBe(true);
          open = false;
        }
      }
      const results = await Promise.all(pending);
      for (const r of results)
        expect([
          'ok',
          'AWS_ERROR_MQTT5_USER_REQUESTED_STOP',
          'AWS_ERROR_MQTT5_OPERATION_FAILED_DUE_TO_OFFLINE_QUEUE_POLICY',
        ]).toContain(r);
      await expect(h.client.publish({ topicName: 'later', qos: 1 })).resolves.toBeDefined();
    },
  );

  it.each(ALL)(
    'close() inside a %s listener settles everything; nothing is emitted or thrown afterwards',
    async (name) => {
      const h = setup(FAST_RECONNECT);
      let pending: Promise<string>[] = [];
      const after: string[] = [];
      let closed = false;
      for (const n of ALL) h.client.on(n, () => closed && after.push(n));
      h.client.on(name, () => {
        if (closed) return;
        pending.push(settled(h.client.publish({ topicName: 'inside', qos: 1 })));
        h.client.close();
        closed = true;
        pending.push(settled(h.client.publish({ topicName: 'after', qos: 0 })));
      });
      h.broker.handlers.publish = () => undefined; // no PUBACK: a QoS 1 publish stays unacked
      if (name === 'connectionFailure') h.broker.connectError = new Error('refused');
      pending = [settled(h.client.publish({ topicName: 'before', qos: 1 }))];
      h.client.start();
      await flush();
      if (name === 'messageReceived' || name === 'disconnection' || name === 'stopped') {
        h.broker.last.send({ type: PacketType.Publish, topicName: 'in', qos: 0, payload: Buffer.from('x') });
        await flush();
        if (name !== 'messageReceived') h.client.stop();
        await flush();
      }
      expect(closed).toBe(true);
      const results = await Promise.all(pending);
      expect(
        results.every((r) => r === 'AWS_ERROR_MQTT5_CLIENT_TERMINATED' || r === 'AWS_ERROR_MQTT5_USER_REQUESTED_STOP'),
      ).toBe(true);
      expect(results.at(-1)).toBe('AWS_ERROR_MQTT5_CLIENT_TERMINATED');
      await h.advance(60_000);
      expect(h.client.getOperationalStatistics()).toEqual({
        incompleteOperationCount: 0,
        incompleteOperationSize: 0,
        unackedOperationCount: 0,
        unackedOperationSize: 0,
      });
      expect(() => h.client.start()).toThrow(expect.objectContaining({ code: 'AWS_ERROR_MQTT5_CLIENT_TERMINATED' }));
      // The pairing guarantees still hold: only the events that close the pairs follow.
      const rest: Record<string, string[]> = {
        attemptingConnect: ['connectionFailure', 'stopped'],
        connectionSuccess: ['disconnection', 'stopped'],
        connectionFailure: ['stopped'],
        disconnection: ['stopped'],
        stopped: [],
        messageReceived: ['disconnection', 'stopped'],
      };
      expect(after).toEqual(rest[name]);
    },
  );
});

describe('close() settles every promise', () => {
  it('while the connector is pending', async () => {
    const h = setup();
    h.broker.hangConnect = true;
    h.client.start();
    const ops = [
      settled(h.client.publish({ topicName: 'a', qos: 0 })),
      settled(h.client.publish({ topicName: 'a', qos: 1 })),
      settled(h.client.subscribe({ subscriptions: [{ topicFilter: 'a', qos: 1 }] })),
      settled(h.client.unsubscribe({ topicFilters: ['a'] })),
    ];
    await flush();
    h.client.close();
    // As the reference: the disconnect handling applies the offline policy (Default: QoS 0 fails) first.
    expect(await Promise.all(ops)).toEqual([
      'AWS_ERROR_MQTT5_OPERATION_FAILED_DUE_TO_OFFLINE_QUEUE_POLICY',
      ...Array(3).fill('AWS_ERROR_MQTT5_CLIENT_TERMINATED'),
    ]);
    expect(h.broker.connectSignals[0]!.aborted).toBe(true);
  });

  it('while waiting for CONNACK', async () => {
    const h = setup({}, { handlers: { connect: () => undefined } });
    h.client.start();
    const ops = [
      settled(h.client.publish({ topicName: 'a', qos: 1 })),
      settled(h.client.subscribe({ subscriptions: [{ topicFilter: 'a', qos: 1 }] })),
    ];
    await flush();
    h.client.close();
    expect(await Promise.all(ops)).toEqual(Array(2).fill('AWS_ERROR_MQTT5_CLIENT_TERMINATED'));
  });

  it('while connected with unacked and queued operations', async () => {
    const h = setup(
      { connectProperties: { keepAliveIntervalSeconds: 60 } },
      { autoPuback: false, handlers: { subscribe: () => undefined }, connack: { receiveMaximum: 1 } },
    );
    await h.connect();
    const ops = [
      settled(h.client.publish({ topicName: 'a', qos: 1 })),
      settled(h.client.publish({ topicName: 'b', qos: 1 })),
      settled(h.client.subscribe({ subscriptions: [{ topicFilter: 'a', qos: 1 }] })),
    ];
    await flush();
    expect(h.client.getOperationalStatistics().unackedOperationCount).toBe(1);
    h.client.close();
    expect(await Promise.all(ops)).toEqual(Array(3).fill('AWS_ERROR_MQTT5_CLIENT_TERMINATED'));
    expect(h.client.getOperationalStatistics().incompleteOperationCount).toBe(0);
  });

  it('while waiting to reconnect, with operations held from the lost connection', async () => {
    const h = setup(
      { minReconnectDelayMs: 1000, maxReconnectDelayMs: 1000, retryJitterMode: RetryJitterType.None },
      { autoPuback: false, handlers: { subscribe: () => undefined } },
    );
    await h.connect();
    const ops = [
      settled(h.client.publish({ topicName: 'a', qos: 1 })),
      settled(h.client.subscribe({ subscriptions: [{ topicFilter: 'a', qos: 1 }] })),
    ];
    await flush();
    h.broker.last.destroy();
    await flush();
    expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess', 'disconnection']);
    ops.push(settled(h.client.unsubscribe({ topicFilters: ['a'] })));
    h.client.close();
    expect(await Promise.all(ops)).toEqual(Array(3).fill('AWS_ERROR_MQTT5_CLIENT_TERMINATED'));
    await h.advance(5000);
    expect(h.broker.connections).toHaveLength(1);
  });
});

describe('abort', () => {
  it('a subscribe aborted after it was written rejects; its SUBACK is consumed without a protocol error', async () => {
    const h = setup({}, { handlers: { subscribe: () => undefined } });
    await h.connect();
    const controller = new AbortController();
    const sub = h.client.subscribe({ subscriptions: [{ topicFilter: 'a', qos: 1 }] }, { signal: controller.signal });
    await flush();
    controller.abort();
    await expect(sub).rejects.toMatchObject({ code: 'ABORTED' });
    const id = h.broker.packets(PacketType.Subscribe)[0]!.packetId as number;
    h.broker.last.send({ type: PacketType.Suback, packetId: id, reasonCodes: [1] });
    await flush();
    expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess']);
    expect(h.client.getOperationalStatistics().unackedOperationCount).toBe(0);
  });

  it('a publish aborted while queued offline is never sent', async () => {
    const h = setup(FAST_RECONNECT);
    const controller = new AbortController();
    const pub = h.client.publish({ topicName: 'never', qos: 1 }, { signal: controller.signal });
    const other = h.client.publish({ topicName: 'sent', qos: 1 });
    controller.abort();
    await expect(pub).rejects.toMatchObject({ code: 'ABORTED' });
    await h.connect();
    await expect(other).resolves.toBeDefined();
    expect(h.broker.packets(PacketType.Publish).map((p) => p.topicName)).toEqual(['sent']);
  });
});

describe('caller input', () => {
  it('a 50 MB payload over the negotiated maximum fails that operation promptly; the connection stays', async () => {
    const h = setup({}, { connack: { maximumPacketSize: 128 * 1024 } });
    await h.connect();
    const big = Buffer.alloc(50 * 1024 * 1024);
    const started = Date.now();
    const results = await Promise.all([
      settled(h.client.publish({ topicName: 'big', qos: 1, payload: big })),
      settled(h.client.publish({ topicName: 'big', qos: 0, payload: big })),
      settled(h.client.publish({ topicName: 'small', qos: 1, payload: 'x' })),
    ]);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(results).toEqual(['AWS_ERROR_MQTT5_PACKET_VALIDATION', 'AWS_ERROR_MQTT5_PACKET_VALIDATION', 'ok']);
    expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess']);
  });

  it('ack timeout per-operation override on a subscribe and an unsubscribe', async () => {
    const h = setup(
      { ackTimeoutSeconds: 100 },
      { handlers: { subscribe: () => undefined, unsubscribe: () => undefined } },
    );
    await h.connect();
    const sub = settled(
      h.client.subscribe({ subscriptions: [{ topicFilter: 'a', qos: 1 }] }, { ackTimeoutSeconds: 2 }),
    );
    const unsub = settled(h.client.unsubscribe({ topicFilters: ['a'] }, { ackTimeoutSeconds: 1 }));
    const order: string[] = [];
    void sub.then((r) => order.push(`sub ${r}`));
    void unsub.then((r) => order.push(`unsub ${r}`));
    await h.advance(999);
    expect(order).toEqual([]);
    await h.advance(1);
    expect(order).toEqual(['unsub AWS_ERROR_MQTT_TIMEOUT']);
    await h.advance(1000);
    expect(order).toEqual(['unsub AWS_ERROR_MQTT_TIMEOUT', 'sub AWS_ERROR_MQTT_TIMEOUT']);
    expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess']);
  });
});

describe('QoS 0 fast lane', () => {
  it('keeps submission order with interleaved QoS 1 publishes and subscribes', async () => {
    const h = setup();
    await h.connect();
    const ops: Promise<unknown>[] = [];
    const expected: string[] = [];
    for (let i = 0; i < 30; i++) {
      const kind = i % 5;
      const topic = `t${i}`;
      if (kind === 3) {
        ops.push(h.client.subscribe({ subscriptions: [{ topicFilter: topic, qos: 1 }] }));
      } else {
        ops.push(h.client.publish({ topicName: topic, qos: kind === 2 ? 1 : 0 }));
      }
      expected.push(topic);
      if (i % 7 === 0) await flush(1);
    }
    await Promise.all(ops);
    const sent = h.broker.received
      .map((r) => r.packet)
      .filter((p) => p.type === PacketType.Publish || p.type === PacketType.Subscribe)
      .map((p) => (p.type === PacketType.Publish ? p.topicName : p.subscriptions[0]?.topicFilter));
    expect(sent).toEqual(expected);
    expect(h.client.getOperationalStatistics()).toEqual({
      incompleteOperationCount: 0,
      incompleteOperationSize: 0,
      unackedOperationCount: 0,
      unackedOperationSize: 0,
    });
  });

  it('statistics count lane publishes until written', async () => {
    const h = setup();
    await h.connect();
    const a = h.client.publish({ topicName: 'a/b', qos: 0, payload: 'x' });
    const b = h.client.publish({ topicName: 'a/b', qos: 0, payload: 'x' });
    const stats = h.client.getOperationalStatistics();
    expect(stats.incompleteOperationCount).toBe(2);
    expect(stats.unackedOperationCount).toBe(0);
    await Promise.all([a, b]);
    expect(h.client.getOperationalStatistics().incompleteOperationCount).toBe(0);
    expect(h.client.getOperationalStatistics().incompleteOperationSize).toBe(0);
  });

  it.each([
    ClientOperationQueueBehavior.Default,
    ClientOperationQueueBehavior.FailNonQos1PublishOnDisconnect,
    ClientOperationQueueBehavior.FailQos0PublishOnDisconnect,
    ClientOperationQueueBehavior.FailAllOnDisconnect,
  ])('a disconnect with lane chunks unwritten fails exactly those publishes (policy %s)', async (policy) => {
    const h = setup({ ...FAST_RECONNECT, offlineQueueBehavior: policy }, { highWaterMark: 64 });
    await h.connect();
    const big = 'x'.repeat(4000);
    // A QoS 0 publish being written blocks the transport (high water mark 64); the next go to the lane.
    const written = settled(h.client.publish({ topicName: 'first', qos: 0, payload: big }));
    await Promise.resolve();
    const lane = Array.from({ length: 50 }, (_, i) =>
      settled(h.client.publish({ topicName: `lane${i}`, qos: 0, payload: big })),
    );
    const qos1 = settled(h.client.publish({ topicName: 'q1', qos: 1 }));
    h.broker.last.destroy();
    await flush();
    const laneResults = await Promise.all(lane);
    const writtenResult = await written;
    expect(['ok', 'AWS_ERROR_MQTT5_OPERATION_FAILED_DUE_TO_OFFLINE_QUEUE_POLICY']).toContain(writtenResult);
    expect(new Set(laneResults)).toEqual(new Set(['AWS_ERROR_MQTT5_OPERATION_FAILED_DUE_TO_OFFLINE_QUEUE_POLICY']));
    expect(h.client.getOperationalStatistics().incompleteOperationCount).toBe(
      policy === ClientOperationQueueBehavior.FailAllOnDisconnect ? 0 : 1,
    );
    await h.advance(10);
    expect(await qos1).toBe(
      policy === ClientOperationQueueBehavior.FailAllOnDisconnect
        ? 'AWS_ERROR_MQTT5_OPERATION_FAILED_DUE_TO_OFFLINE_QUEUE_POLICY'
        : 'ok',
    );
    const resent = h.broker.connections[1]!.received.filter((p) => p.type === PacketType.Publish).map(
      (p) => p.topicName,
    );
    expect(resent.filter((t) => t.startsWith('lane'))).toEqual([]);
    expect(h.client.getOperationalStatistics().incompleteOperationCount).toBe(0);
  });
});

describe('more edges', () => {
  it('a lane publish and a queued publish of the same packet count the same statistics', async () => {
    const h = setup();
    await h.connect();
    const packet = { topicName: 'stats/topic', qos: 0 as const, payload: 'abc' };
    const lane = h.client.publish(packet);
    const laneStats = h.client.getOperationalStatistics();
    await lane;
    const queued = h.client.publish(packet, {});
    const queuedStats = h.client.getOperationalStatistics();
    await queued;
    expect(laneStats).toEqual(queuedStats);
  });

  it('a per-operation ack timeout survives a reconnect: the resent publish and subscribe time out by it', async () => {
    const h = setup(
      { ...FAST_RECONNECT, ackTimeoutSeconds: 100 },
      { autoPuback: false, handlers: { subscribe: () => undefined } },
    );
    await h.connect();
    const pub = settled(h.client.publish({ topicName: 'p', qos: 1 }, { ackTimeoutSeconds: 5 }));
    const sub = settled(
      h.client.subscribe({ subscriptions: [{ topicFilter: 's', qos: 1 }] }, { ackTimeoutSeconds: 5 }),
    );
    await flush();
    h.broker.last.destroy();
    await flush();
    await h.advance(10);
    expect(h.names()).toEqual([
      'attemptingConnect',
      'connectionSuccess',
      'disconnection',
      'attemptingConnect',
      'connectionSuccess',
    ]);
    expect(h.broker.connections[1]!.received.filter((p) => p.type === PacketType.Publish)).toHaveLength(1);
    const results: string[] = [];
    void pub.then((r) => results.push(`pub ${r}`));
    void sub.then((r) => results.push(`sub ${r}`));
    await h.advance(5000);
    expect(results.sort()).toEqual(['pub AWS_ERROR_MQTT_TIMEOUT', 'sub AWS_ERROR_MQTT_TIMEOUT']);
  });

  it('CONNACK with receive maximum 0 is a protocol error', async () => {
    await expectDecodeFailureThenReconnect((conn) => {
      // CONNACK, session present 0, reason 0, properties: receive maximum (0x21) = 0
      conn.sendRaw(Buffer.from([0x20, 0x06, 0x00, 0x00, 0x03, 0x21, 0x00, 0x00]));
    });
  });

  it('a QoS 1 publish over the maximum packet size negotiated at reconnect fails alone when resent', async () => {
    const limit: { max?: number } = {};
    const h = setup(FAST_RECONNECT, {
      autoPuback: false,
      connack: () => (limit.max === undefined ? {} : { maximumPacketSize: limit.max }),
    });
    await h.connect();
    const big = settled(h.client.publish({ topicName: 'big', qos: 1, payload: Buffer.alloc(2000) }));
    const small = settled(h.client.publish({ topicName: 'small', qos: 1, payload: 'x' }));
    await flush();
    limit.max = 1000;
    h.broker.autoPuback = true;
    h.broker.last.destroy();
    await flush();
    await h.advance(10);
    expect(await small).toBe('ok');
    expect(await big).toBe('AWS_ERROR_MQTT5_PACKET_VALIDATION');
    expect(h.names().at(-1)).toBe('connectionSuccess');
  });
});

describe('hostile caller input never throws synchronously', () => {
  const boom = (): never => {
    throw new Error('getter boom');
  };
  it.each([
    [
      'publish with a throwing topicName getter',
      (c: ReturnType<typeof setup>['client']) =>
        c.publish({
          get topicName(): string {
            return boom();
          },
          qos: 0,
        }),
    ],
    [
      'publish with a throwing qos getter',
      (c: ReturnType<typeof setup>['client']) =>
        c.publish({
          topicName: 't',
          get qos(): 0 {
            return boom();
          },
        }),
    ],
    [
      'publish with a circular JSON payload',
      (c: ReturnType<typeof setup>['client']) => {
        const payload: Record<string, unknown> = {};
        payload.self = payload;
        return c.publish({ topicName: 't', qos: 1, payload: payload as never });
      },
    ],
    [
      'publish with a BigInt payload object',
      (c: ReturnType<typeof setup>['client']) => c.publish({ topicName: 't', qos: 0, payload: { n: 1n } as never }),
    ],
    [
      'subscribe with a throwing subscriptions getter',
      (c: ReturnType<typeof setup>['client']) =>
        c.subscribe({
          get subscriptions(): never {
            return boom();
          },
        }),
    ],
    [
      'unsubscribe with a throwing topicFilters getter',
      (c: ReturnType<typeof setup>['client']) =>
        c.unsubscribe({
          get topicFilters(): never {
            return boom();
          },
        }),
    ],
    [
      'publish with a throwing options getter',
      (c: ReturnType<typeof setup>['client']) =>
        c.publish(
          { topicName: 't', qos: 1 },
          {
            get signal(): never {
              return boom();
            },
          },
        ),
    ],
  ])('%s rejects', async (_name, call) => {
    const h = setup();
    await h.connect();
    let promise: Promise<unknown> | undefined;
    expect(() => {
      promise = call(h.client) as Promise<unknown>;
    }).not.toThrow();
    await expect(promise).rejects.toMatchObject({ code: expect.stringMatching(/^AWS_ERROR_MQTT5_/) });
    expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess']);
    await expect(h.client.publish({ topicName: 'after', qos: 1 })).resolves.toBeDefined();
  });
});

describe('re-entrancy in messageReceived', () => {
  it.each(['close', 'stop', 'stopWithPacket'] as const)(
    '%s() inside the first of several messages in one chunk: no later delivery, no PUBACK',
    async (how) => {
      const h = setup();
      const seen: number[] = [];
      h.client.on('messageReceived', (e) => {
        seen.push(e.message.packetId as number);
        if (how === 'close') h.client.close();
        else if (how === 'stop') h.client.stop();
        else h.client.stop({ reasonCode: 0 });
      });
      await h.connect();
      h.broker.last.sendMany(
        [1, 2, 3].map((id) => ({
          type: PacketType.Publish,
          topicName: 't',
          qos: 1,
          packetId: id,
          payload: Buffer.from('x'),
        })),
      );
      await flush();
      expect(seen).toEqual([1]);
      expect(h.broker.packets(PacketType.Puback)).toEqual([]);
      expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess', 'disconnection', 'stopped']);
    },
  );

  it('stop(packet) with unwritten fast-lane publishes: they fail, the DISCONNECT still goes out', async () => {
    const h = setup({}, { highWaterMark: 64 });
    await h.connect();
    const first = settled(h.client.publish({ topicName: 'first', qos: 0, payload: 'x'.repeat(4000) }));
    await Promise.resolve();
    const lane = [1, 2, 3].map((i) =>
      settled(h.client.publish({ topicName: `lane${i}`, qos: 0, payload: 'y'.repeat(4000) })),
    );
    h.client.stop({ reasonCode: 4 });
    await h.advance(100);
    expect(await first).toBe('ok');
    expect(await Promise.all(lane)).toEqual(
      Array(3).fill('AWS_ERROR_MQTT5_OPERATION_FAILED_DUE_TO_OFFLINE_QUEUE_POLICY'),
    );
    expect(h.broker.packets(PacketType.Disconnect)).toEqual([expect.objectContaining({ reasonCode: 4 })]);
    expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess', 'disconnection', 'stopped']);
    expect(h.client.getOperationalStatistics().incompleteOperationCount).toBe(0);
  });
});

describe('abort bookkeeping', () => {
  it('aborts during the write, after the write, and while held offline leave the statistics at zero', async () => {
    const h = setup(FAST_RECONNECT, { highWaterMark: 64, autoPuback: false });
    await h.connect();
    const controllers = [0, 1, 2, 3].map(() => new AbortController());
    const ops = [
      settled(
        h.client.publish({ topicName: 'a', qos: 0, payload: 'x'.repeat(4000) }, { signal: controllers[0]!.signal }),
      ),
      settled(
        h.client.publish({ topicName: 'b', qos: 1, payload: 'x'.repeat(4000) }, { signal: controllers[1]!.signal }),
      ),
      settled(
        h.client.subscribe({ subscriptions: [{ topicFilter: 'c', qos: 1 }] }, { signal: controllers[2]!.signal }),
      ),
      settled(h.client.publish({ topicName: 'd', qos: 1 }, { signal: controllers[3]!.signal })),
    ];
    await Promise.resolve();
    await Promise.resolve();
    controllers[0]!.abort(); // most likely mid-write
    await flush();
    controllers[1]!.abort(); // written, unacked
    h.broker.last.destroy();
    await flush();
    controllers[3]!.abort(); // held offline
    await h.advance(10);
    controllers[2]!.abort();
    const results = await Promise.all(ops);
    expect(results.slice(0, 2)).toEqual(['ABORTED', 'ABORTED']);
    expect(results[3]).toBe('ABORTED');
    h.broker.autoPuback = true;
    for (const conn of h.broker.connections.slice(1)) {
      for (const p of conn.received) {
        if (p.type === PacketType.Publish && p.qos === 1)
          conn.send({ type: PacketType.Puback, packetId: p.packetId, reasonCode: 0 });
      }
    }
    await h.advance(10);
    expect(h.client.getOperationalStatistics()).toEqual({
      incompleteOperationCount: 0,
      incompleteOperationSize: 0,
      unackedOperationCount: 0,
      unackedOperationSize: 0,
    });
    await expect(h.client.publish({ topicName: 'after', qos: 1 })).resolves.toBeDefined();
  });
});

describe('broken transports', () => {
  it('a transport whose on() throws: connectionFailure, nothing escapes, attempts go on', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const broken = {
        write: () => true,
        end: () => undefined,
        destroy: () => undefined,
        on: () => {
          throw new Error('on() is broken');
        },
      };
      const h = setup({ ...FAST_RECONNECT, connector: async () => broken as never });
      h.client.start();
      await flush();
      expect(h.names()).toEqual(['attemptingConnect', 'connectionFailure']);
      expect(h.events[1]![1].error.code).toBe('AWS_ERROR_TRANSPORT_FAILURE');
      await h.advance(10);
      expect(h.names().slice(2)).toEqual(['attemptingConnect', 'connectionFailure']);
      h.client.stop();
      await flush();
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('connector rejecting with an unprintable value', () => {
  it('connectionFailure AWS_ERROR_TRANSPORT_FAILURE, nothing escapes', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const h = setup({ connector: () => Promise.reject(Object.create(null)) });
      h.client.start();
      await flush();
      expect(h.names()).toEqual(['attemptingConnect', 'connectionFailure']);
      expect(h.events[1]![1].error.code).toBe('AWS_ERROR_TRANSPORT_FAILURE');
      h.client.stop();
      await flush();
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('a transport error that is not an Error', () => {
  it('ends the connection with a transport code; emitting it does not throw', async () => {
    const h = setup(FAST_RECONNECT);
    await h.connect();
    expect(() => h.broker.last.client.emit('error', Object.create(null))).not.toThrow();
    await flush();
    expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess', 'disconnection']);
    expect(h.events[2]![1].error.code).toMatch(/^AWS_/);
    await h.advance(10);
    expect(h.names().at(-1)).toBe('connectionSuccess');
  });
});

describe('packet id exhaustion', () => {
  it('an operation waiting for a free packet id goes out when a SUBACK frees one', async () => {
    const h = setup({}, { handlers: { subscribe: () => undefined } });
    await h.connect();
    const subs: Promise<string>[] = [];
    for (let i = 0; i < 65_535; i++)
      subs.push(settled(h.client.subscribe({ subscriptions: [{ topicFilter: 's', qos: 1 }] })));
    const waiting = settled(h.client.publish({ topicName: 'waiting', qos: 1 }));
    await flush();
    expect(h.broker.packets(PacketType.Subscribe)).toHaveLength(65_535);
    expect(h.broker.packets(PacketType.Publish)).toHaveLength(0);
    h.broker.last.send({ type: PacketType.Suback, packetId: 7, reasonCodes: [1] });
    await flush();
    expect(h.broker.packets(PacketType.Publish)).toEqual([expect.objectContaining({ packetId: 7 })]);
    expect(await waiting).toBe('ok');
    h.client.stop();
    expect(new Set(await Promise.all(subs))).toEqual(new Set(['ok', 'AWS_ERROR_MQTT5_USER_REQUESTED_STOP']));
  });
});

describe('statistics after protocol errors', () => {
  const ZERO = {
    incompleteOperationCount: 0,
    incompleteOperationSize: 0,
    unackedOperationCount: 0,
    unackedOperationSize: 0,
  };

  it('a SUBACK with the wrong reason-code count leaves nothing counted', async () => {
    const h = setup(FAST_RECONNECT);
    h.broker.handlers.subscribe = (p, conn) =>
      conn.send({ type: PacketType.Suback, packetId: p.packetId, reasonCodes: [0, 0] });
    await h.connect();
    expect(await settled(h.client.subscribe({ subscriptions: [{ topicFilter: 'a', qos: 0 }] }))).toBe(
      'AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR',
    );
    await h.advance(10);
    expect(h.client.getOperationalStatistics()).toEqual(ZERO);
  });

  it('a SUBACK with the wrong count for a subscribe aborted after it was written', async () => {
    const h = setup(FAST_RECONNECT, { handlers: { subscribe: () => undefined } });
    await h.connect();
    const controller = new AbortController();
    const sub = settled(
      h.client.subscribe({ subscriptions: [{ topicFilter: 'a', qos: 0 }] }, { signal: controller.signal }),
    );
    await flush();
    controller.abort();
    expect(await sub).toBe('ABORTED');
    h.broker.last.send({ type: PacketType.Suback, packetId: 1, reasonCodes: [0, 0] });
    await flush();
    expect(h.events[2]![1].error.code).toBe('AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR');
    await h.advance(10);
    expect(h.names().at(-1)).toBe('connectionSuccess');
    expect(h.client.getOperationalStatistics()).toEqual(ZERO);
  });
});

describe('a broker that stops reading', () => {
  it('ping timeout with the transport blocked: the connection still ends, operations settle, it reconnects', async () => {
    const h = setup({ ...FAST_RECONNECT, connectProperties: { keepAliveIntervalSeconds: 10 }, pingTimeoutMs: 1000 });
    await h.connect();
    h.broker.last.transport.pauseReading();
    const ops = [
      settled(h.client.publish({ topicName: 'q0', qos: 0, payload: Buffer.alloc(64 * 1024) })),
      settled(h.client.publish({ topicName: 'q1', qos: 1, payload: Buffer.alloc(64 * 1024) })),
    ];
    await h.advance(10_000); // PINGREQ due, cannot be written
    await h.advance(10_000); // still not written a keep-alive later: the ping timeout starts
    expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess']);
    await h.advance(1_000); // ping timeout: DISCONNECT 141 cannot be written either
    await h.advance(1_000); // the clean-disconnect deadline ends it
    h.broker.autoPuback = true;
    await h.advance(10);
    expect(h.names().slice(0, 3)).toEqual(['attemptingConnect', 'connectionSuccess', 'disconnection']);
    expect(h.events[2]![1].error.code).toBe('AWS_ERROR_MQTT5_PING_RESPONSE_TIMEOUT');
    expect(await ops[0]).toBe('AWS_ERROR_MQTT5_OPERATION_FAILED_DUE_TO_OFFLINE_QUEUE_POLICY');
    expect(h.names().at(-1)).toBe('connectionSuccess');
    expect(await ops[1]).toBe('ok');
  });

  it('stop(packet) with the transport blocked still reaches stopped and settles everything', async () => {
    const h = setup();
    await h.connect();
    h.broker.last.transport.pauseReading();
    const op = settled(h.client.publish({ topicName: 'q1', qos: 1, payload: Buffer.alloc(64 * 1024) }));
    await flush();
    h.client.stop({ reasonCode: 0 });
    await h.advance(60_000);
    expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess', 'disconnection', 'stopped']);
    expect(await op).toBe('AWS_ERROR_MQTT5_USER_REQUESTED_STOP');
  });
});

describe('hostile CONNACKs: connectionFailure DECODE_PROTOCOL_ERROR, then reconnect', () => {
  it.each([
    ['maximum packet size 0', [0x20, 0x08, 0x00, 0x00, 0x05, 0x27, 0, 0, 0, 0]],
    ['maximum QoS 2', [0x20, 0x05, 0x00, 0x00, 0x02, 0x24, 0x02]],
    ['retain available 2', [0x20, 0x05, 0x00, 0x00, 0x02, 0x25, 0x02]],
    ['reserved acknowledge flags', [0x20, 0x03, 0x02, 0x00, 0x00]],
    ['a duplicate server keep alive', [0x20, 0x09, 0x00, 0x00, 0x06, 0x13, 0x00, 0x05, 0x13, 0x00, 0x05]],
  ])('%s', async (_name, bytes) => {
    await expectDecodeFailureThenReconnect((conn) => {
      conn.sendRaw(Buffer.from(bytes));
    });
  });
});

describe('event order within one chunk', () => {
  it('CONNACK, PUBLISH and DISCONNECT in one chunk: connectionSuccess, messageReceived, disconnection', async () => {
    const h = setup(FAST_RECONNECT, {
      handlers: answerFirstConnect((conn) => {
        conn.sendMany([
          { type: PacketType.Connack, sessionPresent: false, reasonCode: 0 },
          { type: PacketType.Publish, topicName: 'last words', qos: 0, payload: Buffer.from('x') },
          { type: PacketType.Disconnect, reasonCode: 0x89 },
        ]);
      }),
    });
    const order: string[] = [];
    h.client.on('connectionSuccess', () => order.push('connectionSuccess'));
    h.client.on('messageReceived', (e) => order.push(`message ${e.message.topicName}`));
    h.client.on('disconnection', (e) => order.push(`disconnection ${e.error.code}`));
    h.client.start();
    await flush();
    expect(order).toEqual([
      'connectionSuccess',
      'message last words',
      'disconnection AWS_ERROR_MQTT5_DISCONNECT_RECEIVED',
    ]);
    await h.advance(10);
    expect(h.names().at(-1)).toBe('connectionSuccess');
  });
});

describe('offline scale with one shared AbortSignal', () => {
  it('100 000 operations sharing a signal all settle promptly on stop(), and on abort()', async () => {
    for (const how of ['stop', 'abort'] as const) {
      const h = setup();
      h.broker.hangConnect = true;
      h.client.start();
      const controller = new AbortController();
      const outcomes: Promise<string>[] = [];
      for (let i = 0; i < 100_000; i++) {
        outcomes.push(
          settled(
            h.client.publish({ topicName: 'offline/queue', qos: 1, payload: 'x' }, { signal: controller.signal }),
          ),
        );
      }
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1); // no MaxListenersExceededWarning
      const started = Date.now();
      if (how === 'stop') h.client.stop();
      else controller.abort();
      const results = await Promise.all(outcomes);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(new Set(results)).toEqual(new Set([how === 'stop' ? 'AWS_ERROR_MQTT5_USER_REQUESTED_STOP' : 'ABORTED']));
      expect(h.client.getOperationalStatistics().incompleteOperationCount).toBe(0);
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
      h.client.close();
    }
  });
});
