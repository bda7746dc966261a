import net from 'node:net';
import { findBroker, findMosquitto, isListening } from './local-broker.js';

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('findBroker', () => {
  it('says how to get a broker when none listens and no mosquitto binary exists', async () => {
    const port = await closedPort();
    await expect(findBroker('127.0.0.1', port, () => undefined)).rejects.toThrow(/apt-get install -y mosquitto[\s\S]*MQTT_HOST/);
  });

  it('does not start a local broker for a remote host', async () => {
    await expect(findBroker('192.0.2.1.invalid', 1, () => '/bin/false')).rejects.toThrow(/Nothing answers/);
  });

  it('uses the broker that already listens', async () => {
    const server = net.createServer((s) => s.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    try {
      const broker = await findBroker('127.0.0.1', port, () => undefined);
      expect(broker).toMatchObject({ host: '127.0.0.1', port });
      expect(broker.privateMosquittoPid).toBeUndefined();
      await broker.stop();
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('findMosquitto', () => {
  it('prefers $MOSQUITTO_BIN', () => {
    expect(findMosquitto({ MOSQUITTO_BIN: process.execPath, PATH: '' })).toBe(process.execPath);
  });
  it('reports a closed port as not listening', async () => {
    expect(await isListening('127.0.0.1', await closedPort(), 500)).toBe(false);
  });
});
