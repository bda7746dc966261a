/**
 * Finds a broker for the sample: the one at host:port when something listens there; otherwise, for a
 * loopback address, a private mosquitto started on a free port (stopped again by its pid).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface Broker {
  host: string;
  port: number;
  /** Set when the sample started its own mosquitto. */
  privateMosquittoPid?: number;
  stop(): Promise<void>;
}

/** True when a TCP connection to host:port succeeds within `timeoutMs`. */
export function isListening(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The mosquitto binary: $MOSQUITTO_BIN, the Debian path, or the first on $PATH. */
export function findMosquitto(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = [env.MOSQUITTO_BIN, '/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto', '/opt/homebrew/sbin/mosquitto'];
  for (const dir of (env.PATH ?? '').split(path.delimiter)) if (dir) candidates.push(path.join(dir, 'mosquitto'));
  return candidates.find((c): c is string => typeof c === 'string' && c.length > 0 && existsSync(c));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function startPrivateMosquitto(bin: string): Promise<Broker> {
  const dir = mkdtempSync(path.join(tmpdir(), 'mqtt5-sample-broker-'));
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  // On Linux, setpriv ties the broker's life to ours (it gets SIGKILL if we die abruptly); the
  // 'exit' hook covers crashes and process.exit() everywhere.
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
  const child: ChildProcess = setpriv
    ? spawn(setpriv, ['--pdeathsig', 'SIGKILL', '--', bin, '-c', conf], { stdio: 'ignore' })
    : spawn(bin, ['-c', conf], { stdio: 'ignore' });
  const killOnExit = () => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    if (await isListening('127.0.0.1', port, 200)) {
      return { host: '127.0.0.1', port, privateMosquittoPid: child.pid, stop };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(`mosquitto (${bin}) did not start listening on 127.0.0.1:${port}`);
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** The broker to use, or an Error whose message tells the user how to get one. */
export async function findBroker(
  host: string,
  port: number,
  findBinary: () => string | undefined = findMosquitto,
): Promise<Broker> {
  if (await isListening(host, port)) return { host, port, stop: async () => {} };
  if (!LOOPBACK.has(host)) throw new Error(`Nothing answers at ${host}:${port}.`);
  const bin = findBinary();
  if (!bin) {
    throw new Error(
      `No MQTT broker listens on ${host}:${port} and no mosquitto binary was found to start one.\n` +
        '  Install one:  sudo apt-get install -y mosquitto   (Debian/Ubuntu)\n' +
        '                brew install mosquitto              (macOS)\n' +
        '  or point the sample at a broker:  MQTT_HOST=<host> MQTT_PORT=<port> pnpm start',
    );
  }
  return startPrivateMosquitto(bin);
}
