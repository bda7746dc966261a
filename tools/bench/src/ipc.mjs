// Parent side of the helper processes: fork with an IPC channel, request/reply with timeouts,
// kill by pid. Helpers exit on their own when the channel closes (see peer-common.mjs serveIpc).
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A forked helper process with request/reply over IPC. Every wait is bounded. */
export class Helper {
  constructor(name, script, args) {
    this.name = name;
    const argv = [];
    for (const [k, v] of Object.entries(args)) argv.push(`--${k}`, typeof v === 'string' ? v : JSON.stringify(v));
    this.child = fork(fileURLToPath(new URL(script, import.meta.url)), argv, {
      execArgv: [], // never inherit --cpu-prof / --expose-gc from the cell
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.pid = this.child.pid;
    this.waiters = new Set();
    this.failure = null;
    this.exited = false;
    this.nextId = 1;
    this.child.on('message', (msg) => {
      if (msg.type === 'error' && msg.id === undefined) this.fail(new Error(`${this.name}: ${msg.message}`));
      for (const w of [...this.waiters]) w(msg);
    });
    this.child.on('exit', (code, signal) => {
      this.exited = true;
      this.fail(new Error(`${this.name} exited (code ${code}, signal ${signal})`));
    });
    this.child.on('error', (err) => this.fail(new Error(`${this.name}: ${err.message}`)));
  }

  fail(err) {
    if (this.failure === null) this.failure = err;
    for (const w of [...this.waiters]) w(null);
  }

  /**
   * Resolves with the first message matching `pred`; rejects on helper failure, on an `error`
   * reply carrying `id`, or on timeout.
   */
  waitFor(pred, timeoutMs, what, id) {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      const waiter = (msg) => {
        if (msg === null) {
          done();
          reject(this.failure);
        } else if (msg.type === 'error' && id !== undefined && msg.id === id) {
          done();
          reject(new Error(`${this.name}: ${msg.message}`));
        } else if (pred(msg)) {
          done();
          resolve(msg);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name}: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      this.waiters.add(waiter);
    });
  }

  ready(timeoutMs) {
    return this.waitFor((m) => m.type === 'ready', timeoutMs, 'ready');
  }

  /** Sends `msg` with a fresh id; resolves with the reply of type `replyType` carrying that id. */
  request(msg, replyType, timeoutMs) {
    const id = this.nextId++;
    const p = this.waitFor((m) => m.id === id && m.type === replyType, timeoutMs, `${msg.type} → ${replyType}`, id);
    this.send({ ...msg, id });
    return p;
  }

  send(msg) {
    if (this.failure) throw this.failure;
    this.child.send(msg);
  }

  /** Stops the helper by its pid (SIGKILL: it holds no state worth a clean exit). */
  kill() {
    if (!this.exited) {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}
