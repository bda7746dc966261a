/**
 * The plain TCP path of `createTcpConnector` (no TLS, no tunnel): one callback-driven attempt, a
 * connect timeout shared by every pending attempt, connectors shared per host:port, and the client's
 * abort hook (`ATTEMPT_ON_ABORT`) next to the `AbortSignal`.
 *
 * Connect-phase timeouts and aborts need a TCP connect that stays pending on loopback. A Node server
 * accepts at once, so {@link startStalledListener} runs a listener in a child process (backlog 1)
 * whose event loop is blocked (`Atomics.wait`, no CPU) so that it never calls accept(), then fills its
 * accept queue: from then on Linux drops the SYNs to that port and every connect stays pending until
 * the connector gives up. The child exits by itself after 30 s and is SIGKILLed by pid in `afterAll`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import tls from 'node:tls';
import { Mqtt5Client, type ConnectOptions, type Connector } from '@mqtt5/client';
import { Mqtt5Error } from '@mqtt5/codec';
import { getFreePort, neverAborted, rejection, startSilentServer } from '@mqtt5/test-peers';
import { createTcpConnector, type TcpConnectorOptions } from '../src/index.js';

jest.setTimeout(15_000);

const host = '127.0.0.1';
const ATTEMPT_ON_ABORT = Symbol.for('@mqtt5/client.ConnectOptions.onAbort');

function noop(): void {}

/** How many live resources of this kind the process holds (`Timeout` counts ref'd timers only). */
function live(kind: 'TCPSocketWrap' | 'TCPConnectWrap' | 'Timeout'): number {
  return process.getActiveResourcesInfo().filter((name) => name === kind || (kind === 'TCPConnectWrap' && name === 'ConnectWrap')).length;
}

/** Polls `done` every 5 ms, at most `timeoutMs`. */
async function until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Resolves once the process holds no more TCP socket handles than `base` (nothing leaked). The
 * baseline is taken once the echo server has no connection left, so no closing socket hides a leak.
 */
async function noLeak(base: Base): Promise<void> {
  await until(
    () => live('TCPSocketWrap') <= base.sockets,
    2000,
    `sockets back to ${base.sockets} (now ${live('TCPSocketWrap')})`,
  );
}

interface Base {
  readonly sockets: number;
  readonly connects: number;
}

/** The socket handles and pending connects of the process, once the echo server's connections are closed. */
async function baseline(): Promise<Base> {
  await until(() => echoServer.open === 0, 2000, 'the echo server connections to close');
  await until(() => live('TCPSocketWrap') === stalledSockets, 2000, 'earlier sockets to close');
  return { sockets: live('TCPSocketWrap'), connects: live('TCPConnectWrap') };
}

/** Whether Nagle's algorithm was turned off on the socket (Node keeps it under `kSetNoDelay`; no public getter). */
function noDelayOf(socket: net.Socket): unknown {
  const key = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'kSetNoDelay');
  expect(key).toBeDefined();
  return (socket as unknown as Record<symbol, unknown>)[key as symbol];
}

interface Listener {
  readonly port: number;
  stop(): Promise<void>;
}

/** An echo server on 127.0.0.1 (in process). */
async function startEchoServer(): Promise<Listener & { readonly accepted: number; readonly open: number }> {
  const open = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    open.add(socket);
    socket.on('error', noop);
    socket.on('close', () => open.delete(socket));
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get accepted() {
      return accepted;
    },
    get open() {
      return open.size;
    },
    stop() {
      for (const s of open) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const STALLED_CHILD = `
const server = require('node:net').createServer();
server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
  process.stdout.write(server.address().port + '\\n', () => {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30000);
    process.exit(0);
  });
});`;

/** A listener whose TCP connects never complete (see the file comment). */
async function startStalledListener(): Promise<Listener> {
  const child: ChildProcess = spawn(process.execPath, ['-e', STALLED_CHILD], { stdio: ['ignore', 'pipe', 'ignore'] });
  const fillers: net.Socket[] = [];
  const stop = async (): Promise<void> => {
    for (const s of fillers) s.destroy();
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      await exited;
    }
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('stalled listener did not start')), 5000);
      child.once('error', reject);
      child.stdout?.once('data', (data: Buffer) => {
        clearTimeout(timer);
        resolve(Number(String(data).trim()));
      });
    });
    // fill the accept queue: the first connect that stays pending proves the port is stalled
    for (let i = 0; i < 8; i++) {
      const socket = net.connect({ host, port });
      socket.on('error', noop);
      fillers.push(socket);
      const connected = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 150);
        socket.once('connect', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      if (!connected) return { port, stop };
    }
    throw new Error('the accept queue of the stalled listener never filled');
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * The `ConnectOptions` of the client's documented abort-hook contract (`ATTEMPT_ON_ABORT` in
 * `@mqtt5/client`): one abort callback, set or cleared; false once aborted.
 */
class HookedAttempt implements ConnectOptions {
  readonly #controller = new AbortController();
  #listener: ((reason: unknown) => void) | undefined = undefined;
  /** Whether an abort callback is set now. */
  get listening(): boolean {
    return this.#listener !== undefined;
  }
  get signal(): AbortSignal {
    return this.#controller.signal;
  }
  [ATTEMPT_ON_ABORT](listener: ((reason: unknown) => void) | undefined): boolean {
    if (this.#controller.signal.aborted) return false;
    this.#listener = listener;
    return true;
  }
  abort(reason: unknown): void {
    if (this.#controller.signal.aborted) return;
    const listener = this.#listener;
    this.#listener = undefined;
    this.#controller.abort(reason);
    listener?.(reason);
  }
}

function connectorOf(port: number, extra: Partial<TcpConnectorOptions> = {}): Connector {
  return createTcpConnector({ hostName: host, port, ...extra });
}

/** Writes `text` and resolves with what comes back (the echo server). */
function echo(socket: net.Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const onData = (chunk: Buffer): void => {
      got += chunk.toString();
      if (got.length >= text.length) {
        socket.removeListener('data', onData);
        socket.removeListener('error', reject);
        resolve(got);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(text);
  });
}

let echoServer: Awaited<ReturnType<typeof startEchoServer>>;
let stalled: Listener;
/** The client sockets the stalled listener holds (its accept queue fillers). */
let stalledSockets = 0;

beforeAll(async () => {
  echoServer = await startEchoServer();
  stalled = await startStalledListener();
  stalledSockets = live('TCPSocketWrap');
});

afterAll(async () => {
  await stalled?.stop();
  await echoServer?.stop();
});

describe('plain TCP success', () => {
  it('returns the connected net.Socket itself, Nagle off, bytes flowing both ways', async () => {
    const socket = (await connectorOf(echoServer.port)({ signal: neverAborted() })) as net.Socket;
    expect(socket).toBeInstanceOf(net.Socket);
    expect(socket).not.toBeInstanceOf(tls.TLSSocket);
    expect(socket.connecting).toBe(false);
    expect(socket.readyState).toBe('open');
    expect(socket.remotePort).toBe(echoServer.port);
    expect(noDelayOf(socket)).toBe(true);
    await expect(echo(socket, 'ping')).resolves.toBe('ping');
    socket.destroy();
  });

  it('applies keepAlive from socketOptions (and Nagle stays off)', async () => {
    const socket = (await connectorOf(echoServer.port, { socketOptions: { keepAlive: true, keepAliveDelayMs: 5000 } })({
      signal: neverAborted(),
    })) as net.Socket;
    const keepAlive = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'kSetKeepAlive');
    expect((socket as unknown as Record<symbol, unknown>)[keepAlive as symbol]).toBe(true);
    expect(noDelayOf(socket)).toBe(true);
    socket.destroy();
  });

  it('a settled attempt leaves no ref’d timer behind (the 10 s connect timeout does not hold the process)', async () => {
    const timers = live('Timeout');
    const socket = await connectorOf(echoServer.port)({ signal: neverAborted() });
    await new Promise((r) => setImmediate(r));
    expect(live('Timeout')).toBeLessThanOrEqual(timers);
    socket.destroy();
    await rejection(connectorOf(await getFreePort())({ signal: neverAborted() }));
    await new Promise((r) => setImmediate(r));
    expect(live('Timeout')).toBeLessThanOrEqual(timers);
  });

  it('an error emitted on the returned socket before the caller listens is not an uncaught exception', async () => {
    const socket = await connectorOf(echoServer.port)({ signal: neverAborted() });
    const closing = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.destroy(new Error('boom'));
    await closing;
  });
});

describe('plain TCP failures', () => {
  it('refused → AWS_IO_SOCKET_CONNECTION_REFUSED, on the signal and the hook path, nothing left open', async () => {
    const base = await baseline();
    const port = await getFreePort();
    for (const attempt of [{ signal: neverAborted() }, new HookedAttempt()]) {
      const error = await rejection<Mqtt5Error>(connectorOf(port)(attempt));
      expect(Mqtt5Error.isInstance(error)).toBe(true);
      expect(error.code).toBe('AWS_IO_SOCKET_CONNECTION_REFUSED');
      expect((error.cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
      if (attempt instanceof HookedAttempt) expect(attempt.listening).toBe(false);
    }
    await noLeak(base);
  });

  it('a TCP connect that never completes → AWS_IO_SOCKET_TIMEOUT after connectTimeoutMs, socket destroyed', async () => {
    const base = await baseline();
    const timers = live('Timeout');
    const started = performance.now();
    const error = await rejection<Mqtt5Error>(
      connectorOf(stalled.port, { socketOptions: { connectTimeoutMs: 150 } })({ signal: neverAborted() }),
    );
    const elapsed = performance.now() - started;
    expect(error.code).toBe('AWS_IO_SOCKET_TIMEOUT');
    expect(error.message).toContain(`${host}:${stalled.port}`);
    expect(elapsed).toBeGreaterThanOrEqual(145);
    expect(elapsed).toBeLessThan(1000);
    await noLeak(base);
    expect(live('Timeout')).toBeLessThanOrEqual(timers); // (an unrelated timer may have fired meanwhile)
  });

  it('the connect timeout works on the hook path too, and clears the abort callback', async () => {
    const base = await baseline();
    const attempt = new HookedAttempt();
    const error = await rejection<Mqtt5Error>(connectorOf(stalled.port, { socketOptions: { connectTimeoutMs: 100 } })(attempt));
    expect(error.code).toBe('AWS_IO_SOCKET_TIMEOUT');
    expect(attempt.listening).toBe(false);
    await noLeak(base);
  });
});

describe('plain TCP abort', () => {
  it('through the AbortSignal, during the TCP connect: rejects promptly with ABORTED, socket destroyed', async () => {
    const base = await baseline();
    const controller = new AbortController();
    const pending = connectorOf(stalled.port)({ signal: controller.signal });
    await until(() => live('TCPConnectWrap') > base.connects, 1000, 'the connect to start');
    const reason = new Error('stop()');
    const started = performance.now();
    controller.abort(reason);
    const error = await rejection<Mqtt5Error>(pending);
    expect(performance.now() - started).toBeLessThan(100);
    expect(error.code).toBe('ABORTED');
    expect(error.cause).toBe(reason);
    await noLeak(base);
  });

  it('through the abort hook, during the TCP connect: rejects promptly with ABORTED, socket destroyed', async () => {
    const base = await baseline();
    const attempt = new HookedAttempt();
    const pending = connectorOf(stalled.port)(attempt);
    expect(attempt.listening).toBe(true);
    await until(() => live('TCPConnectWrap') > base.connects, 1000, 'the connect to start');
    const reason = new Error('stop()');
    const started = performance.now();
    attempt.abort(reason);
    const error = await rejection<Mqtt5Error>(pending);
    expect(performance.now() - started).toBeLessThan(100);
    expect(error.code).toBe('ABORTED');
    expect(error.cause).toBe(reason);
    await noLeak(base);
  });

  it('the client’s stop() aborts the attempt through its hook: the attempt rejects with the stop reason, nothing leaks', async () => {
    const base = await baseline();
    const tcp = connectorOf(stalled.port);
    const attempts: { options: ConnectOptions; result: Promise<unknown> }[] = [];
    const client = new Mqtt5Client({
      connector: (options) => {
        const result = tcp(options);
        attempts.push({ options, result: result.then(noop, (e: unknown) => e) });
        return result;
      },
    });
    try {
      client.start();
      await until(() => attempts.length === 1 && live('TCPConnectWrap') > base.connects, 2000, 'the attempt');
      const [attempt] = attempts;
      expect(typeof (attempt?.options as unknown as Record<symbol, unknown>)[ATTEMPT_ON_ABORT]).toBe('function');
      const started = performance.now();
      client.stop();
      const error = (await attempt?.result) as Mqtt5Error;
      expect(performance.now() - started).toBeLessThan(100);
      expect(Mqtt5Error.isInstance(error)).toBe(true);
      expect(error.code).toBe('AWS_ERROR_MQTT5_USER_REQUESTED_STOP');
      await noLeak(base);
      expect(attempts).toHaveLength(1);
    } finally {
      client.close();
    }
  });

  it('an attempt aborted before it starts rejects at once, on both paths, without reaching the server', async () => {
    const silent = await startSilentServer();
    try {
      const base = await baseline();
      const controller = new AbortController();
      controller.abort(new Error('early'));
      const viaSignal = await rejection<Mqtt5Error>(connectorOf(silent.port)({ signal: controller.signal }));
      expect(viaSignal.code).toBe('ABORTED');
      const attempt = new HookedAttempt();
      attempt.abort(new Error('early'));
      const viaHook = await rejection<Mqtt5Error>(connectorOf(silent.port)(attempt));
      expect(viaHook.code).toBe('ABORTED');
      expect((viaHook.cause as Error).message).toBe('early');
      await noLeak(base);
      expect(silent.open.size).toBe(0);
    } finally {
      await silent.stop();
    }
  });

  it('an abort after the socket was handed over does not touch it (signal and hook paths)', async () => {
    const controller = new AbortController();
    const a = (await connectorOf(echoServer.port)({ signal: controller.signal })) as net.Socket;
    const attempt = new HookedAttempt();
    const b = (await connectorOf(echoServer.port)(attempt)) as net.Socket;
    await new Promise((r) => setImmediate(r));
    expect(attempt.listening).toBe(false); // the hook was cleared
    controller.abort();
    attempt.abort(new Error('late'));
    await new Promise((r) => setImmediate(r));
    for (const socket of [a, b]) {
      expect(socket.destroyed).toBe(false);
      await expect(echo(socket, 'still here')).resolves.toBe('still here');
      socket.destroy();
    }
  });
});

describe('the shared connect-timeout timer', () => {
  it('concurrent attempts with different outcomes and deadlines all settle, each at its own time', async () => {
    const base = await baseline();
    const timers = live('Timeout');
    const started = performance.now();
    type Outcome = { name: string; code: string; at: number };
    const settle = (name: string, p: Promise<unknown>): Promise<Outcome> =>
      p.then(
        (socket) => {
          (socket as net.Socket).destroy();
          return { name, code: 'connected', at: performance.now() - started };
        },
        (e: Mqtt5Error) => ({ name, code: e.code, at: performance.now() - started }),
      );
    const timeout = (ms: number): Connector => connectorOf(stalled.port, { socketOptions: { connectTimeoutMs: ms } });
    const long = new AbortController();
    const aborted = new HookedAttempt();
    const refusedPort = await getFreePort();
    // added in this order: the long deadline arms the timer first, then earlier ones re-arm it
    const results = Promise.all([
      settle('long', timeout(5000)({ signal: long.signal })),
      settle('t300', timeout(300)({ signal: neverAborted() })),
      settle('t100', timeout(100)(new HookedAttempt())),
      settle('ok', connectorOf(echoServer.port, { socketOptions: { connectTimeoutMs: 50 } })({ signal: neverAborted() })),
      settle('t200', timeout(200)({ signal: neverAborted() })),
      settle('refused', connectorOf(refusedPort, { socketOptions: { connectTimeoutMs: 80 } })({ signal: neverAborted() })),
      settle('aborted', timeout(150)(aborted)),
      settle('t100b', timeout(100)({ signal: neverAborted() })),
    ]);
    setTimeout(() => aborted.abort(new Error('abort')), 30);
    setTimeout(() => long.abort(new Error('abort')), 450);
    const outcomes = await results;
    const by = Object.fromEntries(outcomes.map((o) => [o.name, o]));
    expect(Object.fromEntries(outcomes.map((o) => [o.name, o.code]))).toEqual({
      long: 'ABORTED',
      t300: 'AWS_IO_SOCKET_TIMEOUT',
      t100: 'AWS_IO_SOCKET_TIMEOUT',
      ok: 'connected',
      t200: 'AWS_IO_SOCKET_TIMEOUT',
      refused: 'AWS_IO_SOCKET_CONNECTION_REFUSED',
      aborted: 'ABORTED',
      t100b: 'AWS_IO_SOCKET_TIMEOUT',
    });
    for (const [name, ms] of [
      ['t100', 100],
      ['t100b', 100],
      ['t200', 200],
      ['t300', 300],
    ] as const) {
      expect(by[name]?.at).toBeGreaterThanOrEqual(ms - 5);
      expect(by[name]?.at).toBeLessThan(ms + 250);
    }
    expect(by.aborted?.at).toBeLessThan(100);
    expect(by.long?.at).toBeGreaterThanOrEqual(440);
    expect(by.ok?.at).toBeLessThan(50);
    expect(by.refused?.at).toBeLessThan(80);
    await noLeak(base);
    expect(live('Timeout')).toBeLessThanOrEqual(timers); // (an unrelated timer may have fired meanwhile)
  });

  it('a timer armed for an attempt that connected neither fires a later deadline early nor loses it', async () => {
    const base = await baseline();
    const quick = (await connectorOf(echoServer.port, { socketOptions: { connectTimeoutMs: 40 } })({
      signal: neverAborted(),
    })) as net.Socket;
    const started = performance.now();
    const error = await rejection<Mqtt5Error>(
      connectorOf(stalled.port, { socketOptions: { connectTimeoutMs: 120 } })({ signal: neverAborted() }),
    );
    expect(error.code).toBe('AWS_IO_SOCKET_TIMEOUT');
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(115);
    expect(elapsed).toBeLessThan(600);
    expect(quick.destroyed).toBe(false); // its own, earlier deadline passed: it was handed over before
    quick.destroy();
    await noLeak(base);
  });
});

describe('connectors shared per host:port', () => {
  it('two connectors for the same host:port both work, for many concurrent and sequential attempts', async () => {
    const base = await baseline();
    const timers = live('Timeout');
    const first = connectorOf(echoServer.port);
    const second = connectorOf(echoServer.port);
    const accepted = echoServer.accepted;
    const sockets = (await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? first : second)({ signal: neverAborted() })),
    )) as net.Socket[];
    expect(new Set(sockets).size).toBe(20);
    const replies = await Promise.all(sockets.map((s, i) => echo(s, `m${i}`)));
    expect(replies).toEqual(sockets.map((_s, i) => `m${i}`));
    for (const s of sockets) s.destroy();
    for (let i = 0; i < 100; i++) {
      const socket = await (i % 2 === 0 ? first : second)(i % 3 === 0 ? new HookedAttempt() : { signal: neverAborted() });
      socket.destroy();
    }
    expect(echoServer.accepted - accepted).toBe(120);
    await noLeak(base);
    expect(live('Timeout')).toBeLessThanOrEqual(timers); // (an unrelated timer may have fired meanwhile)
    // the shared timer still works after all those attempts
    const error = await rejection<Mqtt5Error>(
      connectorOf(stalled.port, { socketOptions: { connectTimeoutMs: 60 } })({ signal: neverAborted() }),
    );
    expect(error.code).toBe('AWS_IO_SOCKET_TIMEOUT');
  });

  it('sharing does not mix socket options: a default connector keeps the 10 s timeout next to a 60 ms one', async () => {
    const base = await baseline();
    const shortOne = connectorOf(stalled.port, { socketOptions: { connectTimeoutMs: 60 } });
    const defaultOne = connectorOf(stalled.port);
    const controller = new AbortController();
    const pendingDefault = defaultOne({ signal: controller.signal });
    const short = await rejection<Mqtt5Error>(shortOne({ signal: neverAborted() }));
    expect(short.code).toBe('AWS_IO_SOCKET_TIMEOUT');
    const later = connectorOf(stalled.port); // created after the custom one: still the default timeout
    const pendingLater = later({ signal: controller.signal });
    await new Promise((r) => setTimeout(r, 100));
    controller.abort(new Error('done'));
    expect((await rejection<Mqtt5Error>(pendingDefault)).code).toBe('ABORTED');
    expect((await rejection<Mqtt5Error>(pendingLater)).code).toBe('ABORTED');
    await noLeak(base);
  });

  // last: fills the module's bounded cache of shared connectors
  it('past the bound of shared connectors, new connectors still work', async () => {
    const made: Connector[] = [];
    for (let port = 40_000; port < 40_400; port++) made.push(connectorOf(port));
    expect(made.every((c) => typeof c === 'function')).toBe(true);
    const base = await baseline();
    const socket = (await connectorOf(echoServer.port)({ signal: neverAborted() })) as net.Socket;
    await expect(echo(socket, 'after')).resolves.toBe('after');
    socket.destroy();
    const refused = await rejection<Mqtt5Error>(connectorOf(await getFreePort())(new HookedAttempt()));
    expect(refused.code).toBe('AWS_IO_SOCKET_CONNECTION_REFUSED');
    const timedOut = await rejection<Mqtt5Error>(
      connectorOf(stalled.port, { socketOptions: { connectTimeoutMs: 50 } })({ signal: neverAborted() }),
    );
    expect(timedOut.code).toBe('AWS_IO_SOCKET_TIMEOUT');
    await noLeak(base);
  });
});
