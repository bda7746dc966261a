// aws-crt (npm `aws-crt`), its native MQTT 5 client (`mqtt5.Mqtt5Client`), used as its docs show:
// promises from publish()/subscribe(), events for connection and messages. Its work happens on
// native threads; process.cpuUsage() counts them, process.memoryUsage().heapUsed does not.
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
  if (onMessage) {
    client.on('messageReceived', (e) => onMessage(e.message.topicName, e.message.payload, e.message.qos));
  }
  return {
    connect() {
      return new Promise((resolve, reject) => {
        const onSuccess = () => {
          client.off('connectionFailure', onFailure);
          resolve();
        };
        const onFailure = (e) => {
          client.off('connectionSuccess', onSuccess);
          client.stop();
          reject(e.error ?? new Error('connectionFailure'));
        };
        client.once('connectionSuccess', onSuccess);
        client.once('connectionFailure', onFailure);
        client.start();
      });
    },
    async subscribe(topic, qos) {
      const suback = await client.subscribe({ subscriptions: [{ topicFilter: topic, qos }] });
      if (suback.reasonCodes[0] >= 0x80) throw new Error(`SUBACK reason ${suback.reasonCodes[0]}`);
    },
    makePublisher(topic, payload, qos, done) {
      // QoS 1: the PUBACK's reason code must be a success (aws-crt resolves either way).
      const ok = (r) => done(r && r.reasonCode >= 0x80 ? new Error(`PUBACK reason ${r.reasonCode}`) : null);
      return () => {
        client.publish({ topicName: topic, payload, qos }).then(ok, done);
      };
    },
    close() {
      return new Promise((resolve) => {
        const finish = () => {
          clearTimeout(timer);
          client.close();
          resolve();
        };
        const timer = setTimeout(finish, 3000);
        client.once('stopped', finish);
        client.stop();
      });
    },
  };
}
