import { type ConnackPacket, DisconnectReasonCode, Mqtt5Error, PacketType } from '@mqtt5/codec';
import { disposeAll, flush, setup } from '../test/helpers/harness.js';
import { Mqtt5Client } from './client.js';
import { ClientSessionBehavior, InboundTopicAliasBehaviorType, RetryJitterType } from './config.js';

afterEach(disposeAll);

describe('Mqtt5Client lifecycle', () => {
  it('connects, then stops with a clean DISCONNECT: attemptingConnect, connectionSuccess, disconnection, stopped', async () => {
    const h = setup();
    await h.connect();
    const success = h.events[1]![1];
    expect(success.connack).toMatchObject({ type: PacketType.Connack, reasonCode: 0, sessionPresent: false });
    expect(success.settings).toMatchObject({ maximumQos: 1, serverKeepAlive: 1200, rejoinedSession: false });
    h.client.stop({ reasonCode: DisconnectReasonCode.DisconnectWithWillMessage });
    await flush();
    expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess', 'disconnection', 'stopped']);
    const disconnection = h.events[2]![1];
    expect(disconnection.error).toBeInstanceOf(Mqtt5Error);
    expect(disconnection.error.code).toBe('AWS_ERROR_MQTT5_USER_REQUESTED_STOP');
    expect(disconnection.disconnect).toBeUndefined();
    expect(h.broker.received.map((r) => r.packet.type)).toEqual([PacketType.Connect, PacketType.Disconnect]);
    expect(h.broker.packets(PacketType.Disconnect)[0]).toMatchObject({ reasonCode: 4 });
    expect(h.broker.last.closed).toBe(true);
  });

  it('stop() without a packet sends no DISCONNECT', async () => {
    const h = setup();
    await h.connect();
    h.client.stop();
    await flush();
    expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess', 'disconnection', 'stopped']);
    expect(h.broker.packets(PacketType.Disconnect)).toHaveLength(0);
    expect(h.broker.last.closed).toBe(true);
  });

  it('emits events asynchronously, never inside start() or stop()', async () => {
    const h = setup();
    h.client.start();
    expect(h.events).toHaveLength(0);
    await flush();
    expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess']);
    h.client.stop();
    expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess']);
    await flush();
    expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess', 'disconnection', 'stopped']);
  });

  it('a throwing listener breaks neither the client nor the other listeners', async () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const h = setup();
    const seen: string[] = [];
    h.client.on('connectionSuccess', () => {
      throw new Error('boom');
    });
    h.client.on('connectionSuccess', async () => {
      throw new Error('async boom');
    });
    h.client.on('connectionSuccess', () => seen.push('second'));
    await h.connect();
    await flush();
    expect(seen).toEqual(['second']);
    await expect(h.client.publish({ topicName: 'a', qos: 1 })).resolves.toMatchObject({ reasonCode: 0 });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toContain('boom');
  });

  it('refused CONNACK: connectionFailure with the connack, then reconnects with backoff', async () => {
    const h = setup({ retryJitterMode: RetryJitterType.None, minReconnectDelayMs: 500, maxReconnectDelayMs: 5000 }, {
      connack: { reasonCode: 138, reasonString: 'banned' },
    });
    h.client.start();
    await flush();
    expect(h.names()).toEqual(['attemptingConnect', 'connectionFailure']);
    const failure = h.events[1]![1];
    expect(failure.error.code).toBe('AWS_ERROR_MQTT5_CONNACK_CONNECTION_REFUSED');
    expect(failure.error.reasonCode).toBe(138);
    expect(failure.error.message).toContain('Banned');
    expect(failure.connack).toMatchObject({ reasonCode: 138 });
    expect(h.broker.connectCalls).toBe(1);
    await h.advance(499);
    expect(h.broker.connectCalls).toBe(1);
    await h.advance(1);
    expect(h.broker.connectCalls).toBe(2);
    expect(h.names()).toEqual(['attemptingConnect', 'connectionFailure', 'attemptingConnect', 'connectionFailure']);
  });

  it('refusal backoff follows None: 500, 1000, 2000, 4000, 5000, 5000', async () => {
    const h = setup({ retryJitterMode: RetryJitterType.None, minReconnectDelayMs: 500, maxReconnectDelayMs: 5000 }, {
      connack: { reasonCode: 135 },
    });
    const attempts: number[] = [];
    h.client.on('attemptingConnect', () => attempts.push(h.clock.now()));
    h.client.start();
    await flush();
    for (let i = 0; i < 6; i++) await h.advance(5000);
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
    expect(gaps.slice(0, 6)).toEqual([500, 1000, 2000, 4000, 5000, 5000]);
    for (let i = 0; i < h.events.length; i += 2) {
      expect(h.events[i]![0]).toBe('attemptingConnect');
      expect(h.events[i + 1]![0]).toBe('connectionFailure');
    }
  });

  it('CONNACK timeout: connectionFailure AWS_ERROR_MQTT5_CONNACK_TIMEOUT after connackTimeoutMs', async () => {
    const h = setup({ connackTimeoutMs: 2000 }, { handlers: { connect: () => undefined } });
    h.client.start();
    await flush();
    expect(h.names()).toEqual(['attemptingConnect']);
    await h.advance(1999);
    expect(h.names()).toEqual(['attemptingConnect']);
    await h.advance(1);
    expect(h.names()).toEqual(['attemptingConnect', 'connectionFailure']);
    expect(h.events[1]![1].error.code).toBe('AWS_ERROR_MQTT5_CONNACK_TIMEOUT');
    expect(h.broker.connections[0]!.closed).toBe(true);
  });

  it('session present although a clean start was asked: connectionFailure AWS_ERROR_MQTT_CANCELLED_FOR_CLEAN_SESSION', async () => {
    const h = setup({}, { connack: { sessionPresent: true } });
    h.client.start();
    await flush();
    expect(h.names()).toEqual(['attemptingConnect', 'connectionFailure']);
    expect(h.events[1]![1].error.code).toBe('AWS_ERROR_MQTT_CANCELLED_FOR_CLEAN_SESSION');
    expect(h.events[1]![1].connack).toMatchObject({ sessionPresent: true });
  });

  it('server DISCONNECT: disconnection with the packet, no DISCONNECT back, then reconnect', async () => {
    const h = setup({ minReconnectDelayMs: 100, maxReconnectDelayMs: 100, retryJitterMode: RetryJitterType.None });
    await h.connect();
    h.broker.last.send({ type: PacketType.Disconnect, reasonCode: 149, reasonString: 'too big' });
    await flush();
    expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess', 'disconnection']);
    const event = h.events[2]![1];
    expect(event.error.code).toBe('AWS_ERROR_MQTT5_DISCONNECT_RECEIVED');
    expect(event.error.reasonCode).toBe(149);
    expect(event.disconnect).toMatchObject({ reasonCode: 149, reasonString: 'too big' });
    expect(h.broker.packets(PacketType.Disconnect)).toHaveLength(0);
    await h.advance(100);
    expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess', 'disconnection', 'attemptingConnect', 'connectionSuccess']);
  });

  it('the server hanging up: disconnection AWS_ERROR_MQTT_UNEXPECTED_HANGUP', async () => {
    const h = setup();
    await h.connect();
    h.broker.last.close();
    await flush();
    expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess', 'disconnection']);
    expect(h.events[2]![1].error.code).toBe('AWS_ERROR_MQTT_UNEXPECTED_HANGUP');
  });

  it('a socket error: disconnection with the mapped code and the error as cause', async () => {
    const h = setup();
    await h.connect();
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    h.broker.last.destroy(reset);
    await flush();
    expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess', 'disconnection']);
    const error = h.events[2]![1].error;
    expect(error.code).toBe('AWS_IO_SOCKET_CLOSED');
    expect(error.cause).toBe(reset);
  });

  it('a protocol error from the broker: DISCONNECT 130, DECODE_PROTOCOL_ERROR, reconnect', async () => {
    const h = setup({ minReconnectDelayMs: 10, maxReconnectDelayMs: 10, retryJitterMode: RetryJitterType.None });
    await h.connect();
    h.broker.last.sendRaw(Buffer.from([0xf0, 0x00])); // reserved/invalid AUTH flags … any malformed frame
    await flush();
    expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess', 'disconnection']);
    expect(h.events[2]![1].error.code).toBe('AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR');
    expect(h.broker.packets(PacketType.Disconnect)).toEqual([expect.objectContaining({ reasonCode: 130 })]);
    await h.advance(10);
    expect(h.names().slice(3)).toEqual(['attemptingConnect', 'connectionSuccess']);
  });

  it('a second CONNACK is a protocol error', async () => {
    const h = setup();
    await h.connect();
    h.broker.last.send({ type: PacketType.Connack, sessionPresent: false, reasonCode: 0 });
    await flush();
    expect(h.events[2]![1].error.code).toBe('AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR');
    expect(h.broker.packets(PacketType.Disconnect)).toEqual([expect.objectContaining({ reasonCode: 130 })]);
  });

  it('a PUBLISH before CONNACK: connectionFailure DECODE_PROTOCOL_ERROR', async () => {
    const h = setup({}, {
      handlers: {
        connect: (_p, conn) => {
          conn.send({ type: PacketType.Publish, topicName: 'a', qos: 0, payload: Buffer.from('x') });
        },
      },
    });
    h.client.start();
    await flush();
    expect(h.names()).toEqual(['attemptingConnect', 'connectionFailure']);
    expect(h.events[1]![1].error.code).toBe('AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR');
  });

  it('an AUTH packet from the server is a protocol error', async () => {
    const h = setup();
    await h.connect();
    h.broker.last.send({ type: PacketType.Auth, reasonCode: 0x18, authenticationMethod: 'x' });
    await flush();
    expect(h.events[2]![1].error.code).toBe('AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR');
  });

  it('a frame over the client maximum packet size: DISCONNECT 0x95 and DECODE_PROTOCOL_ERROR', async () => {
    const h = setup({ connectProperties: { keepAliveIntervalSeconds: 60, maximumPacketSizeBytes: 64 } });
    await h.connect();
    h.broker.last.send({ type: PacketType.Publish, topicName: 'a', qos: 0, payload: Buffer.alloc(100) });
    await flush();
    expect(h.events[2]![1].error.code).toBe('AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR');
    expect(h.broker.packets(PacketType.Disconnect)).toEqual([expect.objectContaining({ reasonCode: 0x95 })]);
  });

  describe('connector failures', () => {
    it('a rejection with an Mqtt5Error is the connectionFailure error; reconnect goes on', async () => {
      const h = setup({ minReconnectDelayMs: 50, maxReconnectDelayMs: 50, retryJitterMode: RetryJitterType.None });
      const refused = new Mqtt5Error('AWS_IO_SOCKET_CONNECTION_REFUSED', 'refused');
      h.broker.connectError = refused;
      h.client.start();
      await flush();
      expect(h.events[1]![1].error).toBe(refused);
      await h.advance(50);
      expect(h.broker.connectCalls).toBe(2);
      h.broker.connectError = undefined;
      await h.advance(100);
      expect(h.names().at(-1)).toBe('connectionSuccess');
    });

    it('any other rejection or a synchronous throw: AWS_ERROR_TRANSPORT_FAILURE with the cause', async () => {
      const h = setup({ minReconnectDelayMs: 50, maxReconnectDelayMs: 50, retryJitterMode: RetryJitterType.None });
      const cause = new Error('nope');
      h.broker.connectError = cause;
      h.broker.throwSync = true;
      h.client.start();
      expect(h.events).toHaveLength(0);
      await flush();
      expect(h.names()).toEqual(['attemptingConnect', 'connectionFailure']);
      expect(h.events[1]![1].error.code).toBe('AWS_ERROR_TRANSPORT_FAILURE');
      expect(h.events[1]![1].error.cause).toBe(cause);
      h.broker.throwSync = false;
      await h.advance(50);
      expect(h.events[3]![1].error.cause).toBe(cause);
    });

    it('stop() while the connector is pending aborts its signal: connectionFailure USER_REQUESTED_STOP, stopped', async () => {
      const h = setup();
      h.broker.hangConnect = true;
      h.client.start();
      await flush();
      expect(h.names()).toEqual(['attemptingConnect']);
      h.client.stop();
      expect(h.broker.connectSignals[0]!.aborted).toBe(true);
      await flush();
      expect(h.names()).toEqual(['attemptingConnect', 'connectionFailure', 'stopped']);
      expect(h.events[1]![1].error.code).toBe('AWS_ERROR_MQTT5_USER_REQUESTED_STOP');
    });
  });

  it('reconnects forever, also when the very first attempt fails, and connects as soon as the broker answers', async () => {
    const h = setup({ minReconnectDelayMs: 1000, maxReconnectDelayMs: 8000, retryJitterMode: RetryJitterType.None });
    h.broker.connectError = new Mqtt5Error('AWS_IO_SOCKET_CONNECTION_REFUSED', 'refused');
    h.client.start();
    await flush();
    for (let i = 0; i < 20; i++) await h.advance(8000);
    expect(h.broker.connectCalls).toBeGreaterThanOrEqual(20);
    h.broker.connectError = undefined;
    await h.advance(8000);
    expect(h.names().at(-1)).toBe('connectionSuccess');
  });

  it('stop() while waiting to reconnect: stopped, no further attempt; start() again connects at once', async () => {
    const h = setup({ minReconnectDelayMs: 1000, maxReconnectDelayMs: 1000, retryJitterMode: RetryJitterType.None }, {
      connack: { reasonCode: 136 },
    });
    h.client.start();
    await flush();
    h.client.stop();
    await flush();
    expect(h.names()).toEqual(['attemptingConnect', 'connectionFailure', 'stopped']);
    expect(h.clock.pendingTimerCount()).toBe(0);
    await h.advance(5000);
    expect(h.broker.connectCalls).toBe(1);
    h.broker.connack = {};
    await h.connect();
    expect(h.broker.connectCalls).toBe(2);
  });

  it('start/stop cycles keep the pairing guarantees', async () => {
    const h = setup();
    for (let i = 0; i < 5; i++) {
      await h.connect();
      h.client.stop();
      await flush();
    }
    expect(h.names()).toEqual(Array(5).fill(['attemptingConnect', 'connectionSuccess', 'disconnection', 'stopped']).flat());
  });

  it('stop() inside a connectionSuccess listener, and start() inside stopped', async () => {
    const h = setup();
    let restarts = 0;
    h.client.once('connectionSuccess', () => h.client.stop());
    h.client.on('stopped', () => {
      if (restarts++ === 0) h.client.start();
    });
    h.client.start();
    await flush(40);
    expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess', 'disconnection', 'stopped', 'attemptingConnect', 'connectionSuccess']);
  });

  it('stop(packet) then start() at once: the DISCONNECT goes out, then it reconnects without delay', async () => {
    const h = setup({ minReconnectDelayMs: 60_000, maxReconnectDelayMs: 60_000 });
    await h.connect();
    h.client.stop({ reasonCode: 0 });
    h.client.start();
    await flush();
    expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess', 'disconnection', 'attemptingConnect', 'connectionSuccess']);
    expect(h.broker.packets(PacketType.Disconnect)).toHaveLength(1);
  });

  it('the server closing before CONNACK: connectionFailure AWS_ERROR_MQTT_UNEXPECTED_HANGUP', async () => {
    const h = setup({}, { handlers: { connect: (_p, conn) => conn.close() } });
    h.client.start();
    await flush();
    expect(h.names()).toEqual(['attemptingConnect', 'connectionFailure']);
    expect(h.events[1]![1].error.code).toBe('AWS_ERROR_MQTT_UNEXPECTED_HANGUP');
  });

  it('a connector resolving something that is not a transport: connectionFailure AWS_ERROR_TRANSPORT_FAILURE', async () => {
    const h = setup({ connector: async () => 42 as never });
    h.client.start();
    await flush();
    expect(h.names()).toEqual(['attemptingConnect', 'connectionFailure']);
    expect(h.events[1]![1].error.code).toBe('AWS_ERROR_TRANSPORT_FAILURE');
  });

  it('a transport whose write throws: the attempt fails, nothing escapes', async () => {
    const { EventEmitter } = await import('node:events');
    const broken = Object.assign(new EventEmitter(), {
      write: () => {
        throw new Error('EBADF');
      },
      end: () => undefined,
      destroy: () => undefined,
    });
    const h = setup({ connector: async () => broken as never });
    h.client.start();
    await flush();
    expect(h.names()).toEqual(['attemptingConnect', 'connectionFailure']);
    expect(h.events[1]![1].error.cause).toMatchObject({ message: 'EBADF' });
  });

  describe('backoff reset', () => {
    it('staying connected minConnectedTimeToResetReconnectDelayMs resets the backoff; less does not', async () => {
      const h = setup({
        retryJitterMode: RetryJitterType.None,
        minReconnectDelayMs: 500,
        maxReconnectDelayMs: 5000,
        minConnectedTimeToResetReconnectDelayMs: 5000,
      }, { connack: { reasonCode: 136 } });
      const attempts: number[] = [];
      h.client.on('attemptingConnect', () => attempts.push(h.clock.now()));
      h.client.start();
      await flush();
      for (let i = 0; i < 6; i++) await h.advance(5000); // 7 refusals: delays saturate at 5000
      h.broker.connack = {};
      await h.advance(5000);
      expect(h.names().at(-1)).toBe('connectionSuccess');
      // insufficient: disconnected after 1 s → the next delay is still the max
      await h.advance(1000);
      h.broker.last.destroy();
      await flush();
      let before = h.clock.now();
      await h.advance(4999);
      expect(attempts.at(-1)).toBeLessThan(before);
      await h.advance(1);
      expect(attempts.at(-1)).toBe(before + 5000);
      // sufficient: connected 10 s → the next delay is the min again
      await h.advance(10_000);
      h.broker.last.destroy();
      await flush();
      before = h.clock.now();
      await h.advance(500);
      expect(attempts.at(-1)).toBe(before + 500);
    });
  });

  describe('keep-alive', () => {
    it('sends PINGREQ every serverKeepAlive seconds while connected', async () => {
      const h = setup({ connectProperties: { keepAliveIntervalSeconds: 2 }, pingTimeoutMs: 750 });
      await h.connect();
      const start = h.clock.now();
      const pingTimes: number[] = [];
      h.broker.handlers.pingreq = (_p, conn) => {
        pingTimes.push(h.clock.now() - start);
        conn.send({ type: PacketType.Pingresp });
      };
      await h.advance(10_000);
      expect(pingTimes).toEqual([2000, 4000, 6000, 8000, 10_000]);
      expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess']);
    });

    it("uses the CONNACK's serverKeepAlive", async () => {
      const h = setup({ connectProperties: { keepAliveIntervalSeconds: 100 } }, { connack: { serverKeepAlive: 3 } });
      await h.connect();
      expect(h.events[1]![1].settings.serverKeepAlive).toBe(3);
      await h.advance(3000);
      expect(h.broker.packets(PacketType.Pingreq)).toHaveLength(1);
    });

    it('ping timeout: disconnection PING_RESPONSE_TIMEOUT with DISCONNECT 141 after keepAlive + pingTimeout, then reconnect', async () => {
      const h = setup({
        connectProperties: { keepAliveIntervalSeconds: 10 },
        pingTimeoutMs: 5000,
        minReconnectDelayMs: 100,
        maxReconnectDelayMs: 100,
        retryJitterMode: RetryJitterType.None,
      }, { handlers: { pingreq: () => undefined } });
      await h.connect();
      await h.advance(14_999);
      expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess']);
      await h.advance(1);
      expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess', 'disconnection']);
      expect(h.events[2]![1].error.code).toBe('AWS_ERROR_MQTT5_PING_RESPONSE_TIMEOUT');
      expect(h.broker.packets(PacketType.Disconnect)).toEqual([expect.objectContaining({ reasonCode: 141 })]);
      await h.advance(100);
      expect(h.names().slice(3)).toEqual(['attemptingConnect', 'connectionSuccess']);
    });

    it('clamps the ping timeout to half the keep-alive', async () => {
      const h = setup({ connectProperties: { keepAliveIntervalSeconds: 10 }, pingTimeoutMs: 20_000 }, {
        handlers: { pingreq: () => undefined },
      });
      await h.connect();
      await h.advance(14_999);
      expect(h.names()).toHaveLength(2);
      await h.advance(1);
      expect(h.names()).toHaveLength(3);
      expect(h.events[2]![1].error.code).toBe('AWS_ERROR_MQTT5_PING_RESPONSE_TIMEOUT');
    });

    it('keepAlive 0 sends no PINGREQ', async () => {
      const h = setup({ connectProperties: { keepAliveIntervalSeconds: 0 } });
      await h.connect();
      expect(h.events[1]![1].settings.serverKeepAlive).toBe(0);
      await h.advance(3_600_000);
      expect(h.broker.packets(PacketType.Pingreq)).toHaveLength(0);
      expect(h.clock.pendingTimerCount()).toBe(0);
    });

    it('other traffic does not postpone the PINGREQ', async () => {
      const h = setup({ connectProperties: { keepAliveIntervalSeconds: 5 } });
      await h.connect();
      for (let i = 0; i < 5; i++) {
        await h.client.publish({ topicName: 't', qos: 1 });
        await h.advance(1000);
      }
      expect(h.broker.packets(PacketType.Pingreq)).toHaveLength(1);
    });
  });

  describe('sessions', () => {
    async function cleanStarts(behavior: ClientSessionBehavior, sessionPresent: (n: number) => boolean): Promise<[boolean[], boolean[]]> {
      let n = 0;
      const h = setup(
        { sessionBehavior: behavior, minReconnectDelayMs: 10, maxReconnectDelayMs: 10, retryJitterMode: RetryJitterType.None },
        { connack: (connect) => ({ sessionPresent: connect.cleanStart === false && sessionPresent(n++) }) },
      );
      const rejoined: boolean[] = [];
      h.client.on('connectionSuccess', (e) => rejoined.push(e.settings.rejoinedSession));
      await h.connect();
      for (let i = 0; i < 4; i++) {
        h.broker.last.destroy();
        await h.advance(10);
      }
      return [h.broker.packets(PacketType.Connect).map((p) => p.cleanStart), rejoined];
    }

    it('Clean: every CONNECT has cleanStart', async () => {
      const [starts, rejoined] = await cleanStarts(ClientSessionBehavior.Clean, () => true);
      expect(starts).toEqual([true, true, true, true, true]);
      expect(rejoined).toEqual([false, false, false, false, false]);
    });

    it('RejoinPostSuccess: clean until the first success, then resume', async () => {
      const [starts, rejoined] = await cleanStarts(ClientSessionBehavior.RejoinPostSuccess, () => true);
      expect(starts).toEqual([true, false, false, false, false]);
      expect(rejoined).toEqual([false, true, true, true, true]);
    });

    it('RejoinAlways: never clean', async () => {
      const [starts, rejoined] = await cleanStarts(ClientSessionBehavior.RejoinAlways, () => true);
      expect(starts).toEqual([false, false, false, false, false]);
      expect(rejoined).toEqual([true, true, true, true, true]);
    });

    it('RejoinPostSuccess: stop() wipes the session; the restart is clean', async () => {
      const h = setup({ sessionBehavior: ClientSessionBehavior.RejoinPostSuccess });
      await h.connect();
      h.client.stop();
      await flush();
      await h.connect();
      expect(h.broker.packets(PacketType.Connect).map((p) => p.cleanStart)).toEqual([true, true]);
    });

    it('keeps the server-assigned client id for later connections', async () => {
      const h = setup({ minReconnectDelayMs: 10, maxReconnectDelayMs: 10, retryJitterMode: RetryJitterType.None }, {
        connack: (connect) => (connect.clientId ? {} : { assignedClientIdentifier: 'assigned-1' }),
      });
      await h.connect();
      expect(h.events[1]![1].settings.clientId).toBe('assigned-1');
      h.broker.last.destroy();
      await h.advance(10);
      h.client.stop();
      await flush();
      await h.connect();
      expect(h.broker.packets(PacketType.Connect).map((p) => p.clientId)).toEqual(['', 'assigned-1', 'assigned-1']);
    });
  });

  it('negotiated settings follow the CONNACK', async () => {
    const connack: Partial<ConnackPacket> = {
      maximumQos: 0,
      receiveMaximum: 7,
      maximumPacketSize: 1000,
      topicAliasMaximum: 4,
      retainAvailable: false,
      wildcardSubscriptionsAvailable: false,
      subscriptionIdentifiersAvailable: false,
      sharedSubscriptionsAvailable: false,
      sessionExpiryInterval: 30,
      serverKeepAlive: 20,
    };
    const h = setup(
      {
        connectProperties: { keepAliveIntervalSeconds: 60, clientId: 'me', sessionExpiryIntervalSeconds: 100 },
        topicAliasingOptions: { inboundBehavior: InboundTopicAliasBehaviorType.Enabled, inboundCacheMaxSize: 9 },
      },
      { connack },
    );
    await h.connect();
    expect(h.broker.packets(PacketType.Connect)[0]).toMatchObject({ topicAliasMaximum: 9, clientId: 'me', keepAliveIntervalSeconds: 60 });
    expect(h.events[1]![1].settings).toEqual({
      maximumQos: 0,
      sessionExpiryInterval: 30,
      receiveMaximumFromServer: 7,
      maximumPacketSizeToServer: 1000,
      topicAliasMaximumToServer: 4,
      topicAliasMaximumToClient: 9,
      serverKeepAlive: 20,
      retainAvailable: false,
      wildcardSubscriptionsAvailable: false,
      subscriptionIdentifiersAvailable: false,
      sharedSubscriptionsAvailable: false,
      rejoinedSession: false,
      clientId: 'me',
    });
  });

  describe('close()', () => {
    it('is terminal: stops, fails operations with CLIENT_TERMINATED, start() throws, later operations reject', async () => {
      const h = setup({}, { autoPuback: false });
      await h.connect();
      const pending = h.client.publish({ topicName: 't', qos: 1 });
      await flush();
      h.client.close();
      await expect(pending).rejects.toMatchObject({ code: 'AWS_ERROR_MQTT5_CLIENT_TERMINATED' });
      await flush();
      expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess', 'disconnection', 'stopped']);
      expect(() => h.client.start()).toThrow(expect.objectContaining({ code: 'AWS_ERROR_MQTT5_CLIENT_TERMINATED' }));
      await expect(h.client.publish({ topicName: 't', qos: 0 })).rejects.toMatchObject({ code: 'AWS_ERROR_MQTT5_CLIENT_TERMINATED' });
      await expect(h.client.subscribe({ subscriptions: [{ topicFilter: 't', qos: 0 }] })).rejects.toMatchObject({
        code: 'AWS_ERROR_MQTT5_CLIENT_TERMINATED',
      });
      await expect(h.client.unsubscribe({ topicFilters: ['t'] })).rejects.toMatchObject({ code: 'AWS_ERROR_MQTT5_CLIENT_TERMINATED' });
      h.client.stop();
      h.client.close();
      expect(h.clock.pendingTimerCount()).toBe(0);
    });

    it('Symbol.asyncDispose closes the client', async () => {
      const h = setup();
      await h.connect();
      await h.client[Symbol.asyncDispose]();
      expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess', 'disconnection', 'stopped']);
      expect(() => h.client.start()).toThrow();
    });

    it('operations queued while never started settle on close()', async () => {
      const h = setup();
      const pending = h.client.subscribe({ subscriptions: [{ topicFilter: 'a', qos: 1 }] });
      h.client.close();
      await expect(pending).rejects.toMatchObject({ code: 'AWS_ERROR_MQTT5_CLIENT_TERMINATED' });
      expect(h.events).toHaveLength(0);
    });
  });

  describe('configuration', () => {
    it('throws synchronously on bad config with clear codes', () => {
      expect(() => new Mqtt5Client({})).toThrow(expect.objectContaining({ code: 'AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION' }));
      const connector = async () => {
        throw new Error('unused');
      };
      expect(() => new Mqtt5Client({ connector, sessionBehavior: 'x' as never })).toThrow(
        expect.objectContaining({ code: 'AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION' }),
      );
      expect(() => new Mqtt5Client({ connector, connectProperties: { keepAliveIntervalSeconds: 65536 } })).toThrow(
        expect.objectContaining({ code: 'AWS_ERROR_MQTT5_CONNECT_OPTIONS_VALIDATION' }),
      );
    });

    it('keeps a deep-frozen copy: changing the config object afterwards changes nothing', async () => {
      const connectProperties = { keepAliveIntervalSeconds: 30, clientId: 'before', userProperties: [{ name: 'a', value: '1' }] };
      const h = setup({ connectProperties });
      connectProperties.clientId = 'after';
      connectProperties.userProperties[0]!.value = '2';
      expect(Object.isFrozen(h.client.config)).toBe(true);
      await h.connect();
      expect(h.broker.packets(PacketType.Connect)[0]).toMatchObject({ clientId: 'before', userProperties: [{ name: 'a', value: '1' }] });
    });

    it('stop(packet) validates the DISCONNECT synchronously and keeps running when it is invalid', async () => {
      const h = setup();
      await h.connect();
      expect(() => h.client.stop({ reasonCode: 0, sessionExpiryIntervalSeconds: 10 })).toThrow(
        expect.objectContaining({ code: 'AWS_ERROR_MQTT5_DISCONNECT_OPTIONS_VALIDATION' }),
      );
      expect(() => h.client.stop({ reasonCode: 0, sessionExpiryIntervalSeconds: -5 })).toThrow(
        expect.objectContaining({ code: 'AWS_ERROR_MQTT5_DISCONNECT_OPTIONS_VALIDATION' }),
      );
      expect(() => h.client.stop({ reasonCode: 3 as never })).toThrow(
        expect.objectContaining({ code: 'AWS_ERROR_MQTT5_DISCONNECT_OPTIONS_VALIDATION' }),
      );
      await expect(h.client.publish({ topicName: 'x', qos: 1 })).resolves.toBeDefined();
      h.client.stop();
      await flush();
      expect(h.names().at(-1)).toBe('stopped');
    });
  });
});
