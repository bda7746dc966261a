import { randomBytes } from 'node:crypto';
import {
  Mqtt5Client,
  QoS,
  SubackReasonCode,
  UnsubackReasonCode,
  type MessageReceivedEvent,
  type Mqtt5ClientConfig,
} from '../src/index.js';
import { nextEvent, recordLifecycle } from './client-helpers.js';

/**
 * The behaviour every transport must give the client: connect, subscribe, publish QoS 0 and 1,
 * receive, unsubscribe, stop → stopped, and restart. `makeConfig` is called inside the tests (after
 * the peers of the file started).
 */
export function describeTransportSuite(name: string, makeConfig: () => Mqtt5ClientConfig): void {
  describe(`transport: ${name}`, () => {
    let client: Mqtt5Client | undefined;

    afterEach(() => {
      client?.close();
      client = undefined;
    });

    it('connects, subscribes, publishes QoS 0 and 1, receives them, unsubscribes, stops', async () => {
      const c = (client = new Mqtt5Client({ ...makeConfig(), minReconnectDelayMs: 50, maxReconnectDelayMs: 200 }));
      const events = recordLifecycle(c);
      const received: MessageReceivedEvent[] = [];
      c.on('messageReceived', (event) => received.push(event));
      const connected = nextEvent(c, 'connectionSuccess');
      c.start();
      const { connack, settings } = await connected;
      expect(connack.reasonCode).toBe(0);
      expect(settings.clientId).not.toBe('');

      const topic = `test/${name.replace(/[^a-z0-9]+/gi, '-')}/${randomBytes(4).toString('hex')}`;
      const suback = await c.subscribe({ subscriptions: [{ topicFilter: `${topic}/#`, qos: QoS.AtLeastOnce }] });
      expect(suback.reasonCodes).toEqual([SubackReasonCode.GrantedQoS1]);

      // larger than a TLS record; kept small because mosquitto's websocket output is slow (~40 KiB/s)
      const big = randomBytes(20 * 1024);
      await expect(c.publish({ topicName: `${topic}/q0`, payload: 'zero', qos: QoS.AtMostOnce })).resolves.toBeUndefined();
      const puback = await c.publish({ topicName: `${topic}/q1`, payload: big, qos: QoS.AtLeastOnce });
      expect(puback?.reasonCode).toBe(0);

      for (let i = 0; i < 500 && received.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
      expect(received.map((e) => [e.message.topicName, e.message.qos])).toEqual([
        [`${topic}/q0`, QoS.AtMostOnce],
        [`${topic}/q1`, QoS.AtLeastOnce],
      ]);
      expect(Buffer.from(received[0]!.message.payload ?? []).toString()).toBe('zero');
      expect(Buffer.compare(Buffer.from(received[1]!.message.payload ?? []), big)).toBe(0);

      const unsuback = await c.unsubscribe({ topicFilters: [`${topic}/#`] });
      expect(unsuback.reasonCodes).toEqual([UnsubackReasonCode.Success]);

      const stopped = nextEvent(c, 'stopped');
      c.stop();
      await stopped;
      expect(events).toEqual(['attemptingConnect', 'connectionSuccess', 'disconnection:AWS_ERROR_MQTT5_USER_REQUESTED_STOP', 'stopped']);
      expect(c.getOperationalStatistics()).toEqual({
        incompleteOperationCount: 0,
        incompleteOperationSize: 0,
        unackedOperationCount: 0,
        unackedOperationSize: 0,
      });
    });

    it('connects again after stop() → start() with a fresh connection attempt', async () => {
      const c = (client = new Mqtt5Client({ ...makeConfig(), minReconnectDelayMs: 50, maxReconnectDelayMs: 200 }));
      const events = recordLifecycle(c);
      for (let round = 0; round < 2; round++) {
        const connected = nextEvent(c, 'connectionSuccess');
        c.start();
        await connected;
        const stopped = nextEvent(c, 'stopped');
        c.stop({ reasonCode: 0 });
        await stopped;
      }
      expect(events.filter((e) => e === 'connectionSuccess')).toHaveLength(2);
      expect(events.filter((e) => e.startsWith('connectionFailure'))).toEqual([]);
    });
  });
}
