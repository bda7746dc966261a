// Ours: @mqtt5/sdk (the facade over @mqtt5/client + transports), imported from its built dist
// (`pnpm bench` builds first). Its API is aws-crt's, so this adapter mirrors awscrt.mjs; received
// payloads are Buffers.
export const name = 'ours';
export const label = 'ours';

let sdk;

export async function load() {
  try {
    sdk = await import('@mqtt5/sdk');
  } catch (err) {
    throw new Error(`@mqtt5/sdk is not available (not built yet, or not a dependency of @mqtt5/bench): ${err.message}`);
  }
  if (typeof sdk.Mqtt5Client !== 'function') throw new Error('@mqtt5/sdk does not export Mqtt5Client');
}

export function createClient({ host, port, clientId, keepAlive, onMessage }) {
  const client = new sdk.Mqtt5Client({
    hostName: host,
    port,
    connectProperties: { keepAliveIntervalSeconds: keepAlive, clientId },
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
