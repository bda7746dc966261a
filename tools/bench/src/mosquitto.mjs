// A private mosquitto for the "real world" half of the benchmark: generated config, free loopback
// port, started and stopped by pid. `MOSQUITTO_BIN` overrides the binary.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { userInfo } from 'node:os';
import path from 'node:path';

/** A free TCP port on 127.0.0.1 (may be taken by someone else before use: callers retry). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * The broker config: plain TCP on loopback, anonymous, no persistence. Flow-control limits are
 * lifted so that the client, not a broker default, sets the pace: no cap on messages in flight
 * (so the CONNACK carries no Receive Maximum below the 65535 default) and no queue limit
 * (so no QoS 0 message to the counting subscriber is ever dropped).
 */
export function mosquittoConfig({ port }) {
  return [
    `user ${userInfo().username}`, // as root, mosquitto would otherwise switch to user "mosquitto"
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    'max_inflight_messages 0',
    'max_queued_messages 0',
    'max_queued_bytes 0',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'connection_messages false',
    '',
  ].join('\n');
}

/**
 * Starts mosquitto on a free port; resolves `{ port, pid, logFile, stop(), killSync() }`. Three
 * attempts (a free port can be taken by someone else before mosquitto binds it).
 */
export async function startMosquitto(dir) {
  mkdirSync(dir, { recursive: true });
  const bin = process.env.MOSQUITTO_BIN || 'mosquitto';
  let lastError = null;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const conf = path.join(dir, 'mosquitto.conf');
    const logFile = path.join(dir, 'mosquitto.log');
    writeFileSync(conf, mosquittoConfig({ port }));
    const out = openSync(logFile, 'a');
    const child = spawn(bin, ['-c', conf], { stdio: ['ignore', out, out] });
    closeSync(out);
    let exited = false;
    let spawnError = null;
    child.on('exit', () => {
      exited = true;
    });
    child.on('error', (err) => {
      spawnError = err;
      exited = true;
    });
    let up = false;
    for (let i = 0; i < 100 && !exited; i++) {
      // at most ~5 s
      if (await canConnect(port)) {
        up = true;
        break;
      }
      await sleep(50);
    }
    if (spawnError) throw new Error(`cannot start ${bin}: ${spawnError.message}`);
    if (up && !exited) {
      return {
        port,
        pid: child.pid,
        logFile,
        async stop() {
          if (exited) return;
          const gone = new Promise((resolve) => child.once('exit', resolve));
          try {
            process.kill(child.pid, 'SIGTERM');
          } catch {
            return;
          }
          const t = setTimeout(() => {
            try {
              process.kill(child.pid, 'SIGKILL');
            } catch {
              // gone
            }
          }, 3000);
          await gone;
          clearTimeout(t);
        },
        killSync() {
          if (!exited) {
            try {
              process.kill(child.pid, 'SIGKILL');
            } catch {
              // gone
            }
          }
        },
      };
    }
    if (!exited && child.pid) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    let tail = '';
    try {
      tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join(' | ');
    } catch {
      // no log
    }
    lastError = new Error(`mosquitto did not open port ${port}${tail ? `: ${tail}` : ''}`);
  }
  throw lastError;
}
