/**
 * Run by debuglog.integ.spec.ts in a child jest with NODE_DEBUG=mqtt5 (util.debuglog reads the
 * variable at process start): a connect with a username and password, a publish, a stop.
 */
import { Mqtt5Client } from '../../src/client.js';
import { flush } from '../helpers/in-memory-broker.js';
import { InMemoryBroker } from '../helpers/in-memory-broker.js';

it('connects, publishes and stops', async () => {
  const broker = new InMemoryBroker({ connack: { reasonCode: 0 } });
  const client = new Mqtt5Client({
    connector: broker.connector,
    connectProperties: { keepAliveIntervalSeconds: 60, clientId: 'probe-client', username: 'probe-user', password: 'S3cr3t-probe-pass' },
  });
  client.start();
  await flush();
  await client.publish({ topicName: 'probe/topic', qos: 1, payload: 'probe-payload' });
  client.stop();
  await flush();
  client.close();
});
