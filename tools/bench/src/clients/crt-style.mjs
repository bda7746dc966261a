// Drives any client with aws-crt's MQTT 5 API (aws-crt itself, and ours, whose API is aws-crt's so that
// migrating is a change of import): promises from publish()/subscribe(), events for connection and
// messages. Each adapter passes its constructed client; this wraps it for the harness.
export function wrapCrtStyleClient(client, onMessage) {
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
      // QoS 1: the PUBACK's reason code must be a success (both clients resolve either way).
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
