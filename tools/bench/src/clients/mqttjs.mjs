// MQTT.js 5 (npm `mqtt`), protocol version 5, used the way its README shows: the callback form
// of publish (its fastest API; QoS 0 completes once written, QoS 1 on PUBACK).
export const name = 'mqttjs';
export const label = 'MQTT.js';

let mqtt;

export async function load() {
  mqtt = (await import('mqtt')).default;
}

export function createClient({ host, port, clientId, keepAlive, onMessage }) {
  const client = mqtt.connect({
    host,
    port,
    protocol: 'mqtt',
    protocolVersion: 5,
    clientId,
    keepalive: keepAlive,
    clean: true,
    reconnectPeriod: 0, // a failed run must fail, not retry
    connectTimeout: 10_000,
    manualConnect: true, // construct here, connect in connect() so only the connect is timed
  });
  if (onMessage) client.on('message', (topic, payload, packet) => onMessage(topic, payload, packet.qos));
  return {
    connect() {
      return new Promise((resolve, reject) => {
        const onError = (err) => {
          client.off('connect', onConnect);
          reject(err);
        };
        const onClose = () => onError(new Error('connection closed before CONNACK'));
        const onConnect = () => {
          client.off('error', onError);
          client.off('close', onClose);
          resolve();
        };
        client.once('connect', onConnect);
        client.once('error', onError);
        client.once('close', onClose);
        client.connect();
      });
    },
    subscribe(topic, qos) {
      return client.subscribeAsync(topic, { qos }).then((granted) => {
        if (!granted[0] || granted[0].qos >= 0x80) throw new Error(`SUBACK ${JSON.stringify(granted)}`);
      });
    },
    makePublisher(topic, payload, qos, done) {
      return () => {
        client.publish(topic, payload, { qos }, done);
      };
    },
    close() {
      return new Promise((resolve) => client.end(false, {}, () => resolve()));
    },
  };
}
