// aws-crt (npm `aws-crt`), its native MQTT 5 client (`mqtt5.Mqtt5Client`), used as its docs show:
// promises from publish()/subscribe(), events for connection and messages. Its work happens on
// native threads; process.cpuUsage() counts them, process.memoryUsage().heapUsed does not.
import { wrapCrtStyleClient } from './crt-style.mjs';

export const name = 'awscrt';
export const label = 'aws-crt';

let mqtt5;

export async function load() {
  mqtt5 = (await import('aws-crt')).mqtt5;
}

export function createClient({ host, port, clientId, keepAlive, onMessage }) {
  const client = new mqtt5.Mqtt5Client({
    hostName: host,
    port,
    sessionBehavior: mqtt5.ClientSessionBehavior.Clean,
    connectProperties: { keepAliveIntervalSeconds: keepAlive, clientId },
    connackTimeoutMs: 10_000,
  });
  return wrapCrtStyleClient(client, onMessage);
}
