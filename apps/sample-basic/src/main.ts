/**
 * The main sample: connect to an MQTT 5 broker, log every lifecycle event, subscribe, publish a few
 * QoS 1 messages to ourselves, receive them, and stop cleanly.
 *
 *   pnpm start                               # 127.0.0.1:1883, or a private mosquitto if none runs there
 *   MQTT_HOST=broker.local MQTT_PORT=1883 pnpm start
 *   MESSAGES=10 pnpm start
 */
import { once } from 'node:events';
import { Mqtt5Client, QoS, isSuccessfulPubackReasonCode } from '@mqtt5/sdk';
import { findBroker } from './local-broker.js';

const host = process.env.MQTT_HOST ?? '127.0.0.1';
const port = Number(process.env.MQTT_PORT ?? 1883);
const messages = Math.min(Math.max(Number(process.env.MESSAGES ?? 5) || 5, 1), 1000);

async function main(): Promise<void> {
  const broker = await findBroker(host, port);
  if (broker.privateMosquittoPid !== undefined) {
    console.log(`No broker on ${host}:${port}: started a private mosquitto on ${broker.host}:${broker.port} (pid ${broker.privateMosquittoPid}).`);
  }
  const clientId = `sample-${process.pid}`;
  const topic = `sample/${clientId}/hello`;
  const client = new Mqtt5Client({
    hostName: broker.host,
    port: broker.port,
    connectProperties: { clientId, keepAliveIntervalSeconds: 60 },
  });

  client.on('attemptingConnect', () => console.log(`[event] attemptingConnect to ${broker.host}:${broker.port}`));
  client.on('connectionSuccess', ({ settings }) =>
    console.log(`[event] connectionSuccess: clientId=${settings.clientId} keepAlive=${settings.serverKeepAlive}s maximumQos=${settings.maximumQos}`),
  );
  client.on('connectionFailure', ({ error }) => console.log(`[event] connectionFailure: ${error.code}: ${error.message}`));
  client.on('disconnection', ({ error }) => console.log(`[event] disconnection: ${error.code}`));
  client.on('stopped', () => console.log('[event] stopped'));

  let received = 0;
  const allReceived = new Promise<void>((resolve) => {
    client.on('messageReceived', ({ message }) => {
      received++;
      console.log(`[message] ${message.topicName}: ${message.payload.toString('utf8')}`);
      if (received === messages) resolve();
    });
  });

  const deadline = setTimeout(() => {
    console.error('The sample did not finish within 20 s.');
    process.exitCode = 1;
    client.stop();
  }, 20_000);

  try {
    const connected = once(client, 'connectionSuccess');
    client.start();
    await connected;

    const suback = await client.subscribe({ subscriptions: [{ topicFilter: `sample/${clientId}/#`, qos: QoS.AtLeastOnce }] });
    console.log(`subscribed: reason codes ${suback.reasonCodes.join(',')}`);

    for (let i = 1; i <= messages; i++) {
      const puback = await client.publish({ topicName: topic, qos: QoS.AtLeastOnce, payload: `hello #${i}` });
      if (puback && !isSuccessfulPubackReasonCode(puback.reasonCode)) throw new Error(`publish #${i} refused: ${puback.reasonCode}`);
    }
    await allReceived;
    console.log(`published and received ${messages} messages`);
  } finally {
    clearTimeout(deadline);
    const stopped = once(client, 'stopped');
    client.stop({ reasonCode: 0 });
    await stopped;
    client.close();
    await broker.stop();
  }
}

// Ctrl-C: exit through process.exit so that the private broker (if any) is stopped by its exit hook.
process.once('SIGINT', () => process.exit(130));

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
