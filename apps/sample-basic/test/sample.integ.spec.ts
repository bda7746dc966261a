import { execFile } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { isProcessRunning, startMosquitto, type MosquittoInstance } from '@mqtt5/test-peers';

const main = path.join(__dirname, '..', 'dist', 'main.js');

function runSample(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [main], { env: { ...process.env, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('the main sample (pnpm start)', () => {
  let broker: MosquittoInstance;
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await broker.stop();
  });

  it('connects, subscribes, publishes and receives against a running broker', async () => {
    const { code, stdout } = await runSample({ MQTT_HOST: '127.0.0.1', MQTT_PORT: String(broker.ports.tcp), MESSAGES: '3' });
    expect(stdout).not.toMatch(/private mosquitto/);
    expect(stdout).toMatch(/\[event\] attemptingConnect/);
    expect(stdout).toMatch(/\[event\] connectionSuccess/);
    expect(stdout.match(/\[message\] /g)).toHaveLength(3);
    expect(stdout).toMatch(/published and received 3 messages/);
    expect(stdout).toMatch(/\[event\] stopped/);
    expect(code).toBe(0);
  });

  it('starts a private mosquitto when nothing listens, and stops it afterwards', async () => {
    const { code, stdout } = await runSample({ MQTT_HOST: '127.0.0.1', MQTT_PORT: String(await closedPort()) });
    const pid = Number(/\(pid (\d+)\)/.exec(stdout)?.[1]);
    expect(pid).toBeGreaterThan(0);
    expect(stdout).toMatch(/published and received 5 messages/);
    expect(code).toBe(0);
    expect(isProcessRunning(pid)).toBe(false);
  });
});
