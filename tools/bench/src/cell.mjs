// One benchmark cell: one client × one scenario × one peer, in a fresh process. Prints exactly
// one JSON line on stdout: `{ ok: true, ...metrics }`, or `{ ok: false, error }` when the run could
// not be verified (wrong count, wrong topic/payload/QoS, a rejected operation, a timeout).
//
//   node src/cell.mjs --client raw --scenario pub-qos0 --peer minimal --n 200000
//                     [--window 1000] [--window0 N] [--payload 64] [--warmup 10000]
//                     [--connects 200] [--idle-clients 1000] [--mosquitto-port P] [--timeout-ms 120000]
//                     [--stall-ms 3000]
//
// The minimal peer and the mosquitto helpers are forked by this process and exit with it.
import { performance } from 'node:perf_hooks';
import { CLIENTS, KEEP_ALIVE_SEC, PAYLOAD_BYTES, QOS1_WINDOW, TOPIC, median, parseFlags, percentile } from './config.mjs';
import { Helper } from './ipc.mjs';
import { VerificationError, runWindow, stallWatch, withTimeout } from './drive.mjs';

const HOST = '127.0.0.1';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function cpuMicros(usage) {
  return usage.user + usage.system;
}

async function main() {
  const opts = parseFlags(process.argv.slice(2), {
    client: 'string',
    scenario: 'string',
    peer: 'string',
    n: 'number',
    window: 'number',
    window0: 'number',
    payload: 'number',
    warmup: 'number',
    connects: 'number',
    'idle-clients': 'number',
    'mosquitto-port': 'number',
    'timeout-ms': 'number',
    'stall-ms': 'number',
  });
  const timeoutMs = opts['timeout-ms'] ?? 120_000;
  const deadline = Date.now() + timeoutMs - 500; // report before the runner kills (at timeout + 2 s)
  const left = () => Math.max(1, deadline - Date.now());
  const base = { client: opts.client, scenario: opts.scenario, peer: opts.peer, pid: process.pid };
  const helpers = [];
  const clients = [];
  let result;
  try {
    if (!CLIENTS.some((c) => c.name === opts.client)) throw new Error(`unknown client ${opts.client}`);
    const adapter = await import(`./clients/${opts.client}.mjs`);
    await adapter.load();
    const ctx = {
      opts,
      adapter,
      helpers,
      clients,
      left,
      stallMs: opts['stall-ms'] ?? 3000,
      payload: Buffer.alloc(opts.payload ?? PAYLOAD_BYTES, 0x61),
    };
    result = { ok: true, ...base, ...(await runScenario(ctx)) };
  } catch (err) {
    result = {
      ok: false,
      ...base,
      verification: err instanceof VerificationError,
      error: err instanceof Error ? err.message : String(err),
    };
  }
  result.helperPids = helpers.map((h) => h.pid);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  for (const h of helpers) h.kill();
  // Clients are not closed here: some (aws-crt) take seconds to stop 1000 connections, and the
  // process is about to exit, which closes every socket.
  process.exit(0);
}

/** Starts the helper processes for a scenario; returns `{ port, sink, source }`. */
async function startPeers(ctx, qos) {
  const { opts, helpers, left } = ctx;
  const payloadLength = ctx.payload.length;
  const announce = () => {
    if (process.send) process.send({ type: 'pids', pids: helpers.map((h) => h.pid) });
  };
  if (opts.peer === 'minimal') {
    const peer = new Helper('minimal peer', './peer-minimal.mjs', { topic: TOPIC, payloadLength, qos });
    helpers.push(peer);
    announce();
    const { port } = await peer.ready(Math.min(left(), 10_000));
    return { port, sink: peer, source: peer };
  }
  if (opts.peer === 'mosquitto') {
    const port = opts['mosquitto-port'];
    if (!port) throw new Error('--mosquitto-port is required for --peer mosquitto');
    const role = opts.scenario.startsWith('pub') ? 'sub' : opts.scenario.startsWith('recv') ? 'pub' : null;
    if (role === null) return { port, sink: null, source: null };
    const h = new Helper(role === 'sub' ? 'counting subscriber' : 'feeding publisher', './mosq-helper.mjs', {
      role,
      port,
      topic: TOPIC,
      payloadLength,
    });
    helpers.push(h);
    announce();
    await h.ready(Math.min(left(), 10_000));
    return { port, sink: role === 'sub' ? h : null, source: role === 'pub' ? h : null };
  }
  throw new Error(`unknown peer ${opts.peer}`);
}

function runScenario(ctx) {
  switch (ctx.opts.scenario) {
    case 'pub-qos0':
      return pub(ctx, 0);
    case 'pub-qos1':
      return pub(ctx, 1);
    case 'recv-qos0':
      return recv(ctx);
    case 'connect':
      return connect(ctx);
    case 'idle-memory':
      return idleMemory(ctx);
    default:
      throw new Error(`unknown scenario ${ctx.opts.scenario}`);
  }
}

/**
 * Self-test of the verification (used by the harness's own tests, never in a real run):
 * MQTT5_BENCH_SELFTEST=lose-one | extra-one | wrong-topic | double-complete makes the 10th
 * publish (or received message) misbehave, and the cell must then report a failure; `block`
 * makes a publish cell stop answering, and the runner must then kill it.
 */
const SELFTEST = process.env.MQTT5_BENCH_SELFTEST ?? '';

function injectFault(c, qos, payload, done) {
  const issue = c.makePublisher(TOPIC, payload, qos, done);
  if (SELFTEST === '') return issue;
  const wrong = c.makePublisher(`${TOPIC}x`, payload, qos, done);
  const extra = c.makePublisher(TOPIC, payload, qos, () => {});
  let i = 0;
  return () => {
    if (++i !== 10) return issue();
    switch (SELFTEST) {
      case 'lose-one':
        return done(null); // reports completion, sends nothing
      case 'extra-one':
        extra();
        return issue();
      case 'wrong-topic':
        return wrong();
      case 'double-complete':
        issue();
        return done(null);
      default:
        throw new Error(`unknown MQTT5_BENCH_SELFTEST ${SELFTEST}`);
    }
  };
}

function clientId(ctx, i = 0) {
  return `bench-${ctx.opts.client}-${process.pid}-${i}`;
}

async function connectOne(ctx, port, onMessage, i = 0) {
  const c = ctx.adapter.createClient({ host: HOST, port, clientId: clientId(ctx, i), keepAlive: KEEP_ALIVE_SEC, onMessage });
  ctx.clients.push(c);
  await withTimeout(c.connect(), Math.min(ctx.left(), 15_000), 'connect');
  return c;
}

/** Unmeasured messages before the measured ones (JIT warm-up), the same for every client. */
function defaultWarmup(n) {
  return Math.min(n, 10_000);
}

/**
 * pub-qos0 / pub-qos1: N publishes of the payload to `bench/t`, at most `window` incomplete.
 * Done when every publish completed in the client AND the peer (or mosquitto's subscriber)
 * counted them all; then the counts must be exact.
 */
async function pub(ctx, qos) {
  const { opts, left, payload } = ctx;
  const n = opts.n ?? 100_000;
  const window = qos === 0 ? (opts.window0 ?? QOS1_WINDOW) : (opts.window ?? QOS1_WINDOW);
  const warmup = opts.warmup ?? defaultWarmup(n);
  const { port, sink } = await startPeers(ctx, qos);
  const c = await connectOne(ctx, port, null);
  if (SELFTEST === 'block') {
    // a cell that stops answering (busy event loop): the runner must kill it and its helpers
    for (const end = Date.now() + 60_000; Date.now() < end; );
  }
  let peerCount = 0;
  // Publishes `count` messages and waits until the client completed them all and the peer has
  // counted `expectTotal`; fails fast when neither makes progress.
  const phase = async (count, expectTotal, what) => {
    const reached = sink.request({ type: 'target', count: expectTotal }, 'reached', left());
    const run = runWindow(count, window, (done) => injectFault(c, qos, payload, done));
    let clientDoneAt = 0;
    const watch = stallWatch(() => run.state.completed + peerCount, {
      stallMs: ctx.stallMs,
      poll: async () => (peerCount = (await sink.request({ type: 'stats' }, 'stats', 5000)).count),
      what: () => `client completed ${run.state.completed} of ${count} publishes, peer counted ${peerCount} of ${expectTotal}`,
    });
    try {
      await withTimeout(
        Promise.race([Promise.all([run.promise.then(() => (clientDoneAt = performance.now())), reached]), watch.promise]),
        left(),
        `${what} (client completed ${run.state.completed}, peer counted ${peerCount})`,
      );
    } finally {
      watch.stop();
    }
    return { run, clientDoneAt };
  };

  const runs = [];
  if (warmup > 0) runs.push({ n: warmup, ...(await phase(warmup, warmup, `warm-up of ${warmup} publishes`)) });
  const peerCpu0 = await peerCpu(ctx, sink);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const measured = await phase(n, warmup + n, `${n} publishes (QoS ${qos})`);
  const t1 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  const peerCpu1 = await peerCpu(ctx, sink);
  runs.push({ n, ...measured });
  await sleep(100); // anything extra (duplicates, late completions) shows up in this window
  const stats = await sink.request({ type: 'stats' }, 'stats', Math.min(left(), 5000));
  verifyCount('the peer received', stats.count, warmup + n, stats);
  for (const r of runs) {
    if (r.run.state.completed !== r.n) {
      throw new VerificationError(`the client completed ${r.run.state.completed} publishes, expected exactly ${r.n}`);
    }
  }
  const seconds = (t1 - t0) / 1000;
  return {
    n,
    warmup,
    window,
    payloadBytes: payload.length,
    elapsedMs: round(t1 - t0, 2),
    clientDoneMs: round(measured.clientDoneAt - t0, 2),
    msgsPerSec: Math.round(n / seconds),
    cpuUsPerMsg: round(cpuMicros(cpu) / n, 3),
    peerCpuShare: round((peerCpu1 - peerCpu0) / 1000 / (t1 - t0), 2),
  };
}

/** CPU time the peer-side helper has used so far (µs). */
async function peerCpu(ctx, helper) {
  return (await helper.request({ type: 'stats' }, 'stats', Math.min(ctx.left(), 5000))).cpuUs;
}

function verifyCount(what, count, expected, stats) {
  if (count !== expected) {
    throw new VerificationError(`${what} ${count} messages, expected exactly ${expected}`);
  }
  if (stats.bad > 0) {
    throw new VerificationError(`${stats.bad} messages with wrong topic/QoS/payload length, first: ${JSON.stringify(stats.firstBad)}`);
  }
}

/**
 * recv-qos0: a separate process (the minimal peer itself, or a raw publisher through mosquitto)
 * sends N QoS 0 messages; done when the client's message callback has seen all N.
 */
async function recv(ctx) {
  const { opts, left, payload } = ctx;
  const n = opts.n ?? 200_000;
  const warmup = opts.warmup ?? defaultWarmup(n);
  const { port, source } = await startPeers(ctx, 0);
  const expectedLength = payload.length;
  const stats = { count: 0, bad: 0, firstBad: null };
  let target = Infinity;
  let onTarget = null;
  let seen = 0;
  const onMessage = (topic, body, qos) => {
    if (++seen === 10 && SELFTEST === 'lose-one') return;
    stats.count++;
    if (topic !== TOPIC || body.byteLength !== expectedLength || qos !== 0) {
      stats.bad++;
      stats.firstBad ??= { topic, payloadLength: body.byteLength, qos };
    }
    if (stats.count === target) onTarget();
  };
  const until = (count) =>
    new Promise((resolve) => {
      target = count;
      onTarget = resolve;
      if (stats.count >= count) resolve();
    });
  const c = await connectOne(ctx, port, onMessage);
  await withTimeout(c.subscribe(TOPIC, 0), Math.min(left(), 10_000), 'subscribe');

  const phase = async (count, expectTotal, what) => {
    const got = until(expectTotal);
    const sent = source.request({ type: 'blast', n: count }, 'sent', left());
    const watch = stallWatch(() => stats.count, {
      stallMs: ctx.stallMs,
      everyMs: 100,
      what: () => `the client received ${stats.count} of ${expectTotal} messages`,
    });
    try {
      await withTimeout(Promise.race([Promise.all([sent, got]), watch.promise]), left(), `${what} (received ${stats.count} of ${expectTotal})`);
    } finally {
      watch.stop();
    }
  };
  if (warmup > 0) await phase(warmup, warmup, `warm-up of ${warmup} messages`);
  const peerCpu0 = await peerCpu(ctx, source);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await phase(n, warmup + n, `receiving ${n} messages`);
  const t1 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  const peerCpu1 = await peerCpu(ctx, source);
  await sleep(100);
  verifyCount('the client received', stats.count, warmup + n, stats);
  return {
    n,
    warmup,
    payloadBytes: payload.length,
    elapsedMs: round(t1 - t0, 2),
    msgsPerSec: Math.round(n / ((t1 - t0) / 1000)),
    cpuUsPerMsg: round(cpuMicros(cpu) / n, 3),
    peerCpuShare: round((peerCpu1 - peerCpu0) / 1000 / (t1 - t0), 2),
  };
}

/** connect: M sequential connects, each timed from the client's connect call to CONNACK. */
async function connect(ctx) {
  const { opts, left } = ctx;
  const m = opts.connects ?? 200;
  const warm = 5;
  const { port, sink } = await startPeers(ctx, 0);
  const times = [];
  for (let i = 0; i < m + warm; i++) {
    const c = ctx.adapter.createClient({ host: HOST, port, clientId: clientId(ctx, i), keepAlive: KEEP_ALIVE_SEC, onMessage: null });
    const t0 = performance.now();
    await withTimeout(c.connect(), Math.min(left(), 10_000), `connect #${i}`);
    const t = performance.now() - t0;
    if (i >= warm) times.push(t);
    await withTimeout(c.close(), Math.min(left(), 10_000), `close #${i}`);
  }
  if (sink) {
    const conns = await sink.request({ type: 'connections' }, 'connections', Math.min(left(), 5000));
    if (conns.total !== m + warm) throw new VerificationError(`the peer accepted ${conns.total} connections, expected ${m + warm}`);
  }
  return {
    connects: m,
    connectMedianMs: round(median(times), 3),
    connectP99Ms: round(percentile(times, 99), 3),
    connectMaxMs: round(Math.max(...times), 3),
  };
}

/**
 * idle-memory: K clients connected to the minimal peer in this process; (RSS, heapUsed) after
 * minus before, divided by K. Needs --expose-gc. The baseline is taken after one client has
 * connected and closed (library loaded, lazy code paths run).
 */
async function idleMemory(ctx) {
  const { opts, left } = ctx;
  if (typeof globalThis.gc !== 'function') throw new Error('idle-memory needs node --expose-gc');
  const k = opts['idle-clients'] ?? 1000;
  const { port, sink } = await startPeers(ctx, 0);
  const warm = await connectOne(ctx, port, null, -1);
  await withTimeout(warm.close(), Math.min(left(), 10_000), 'close warm-up client');
  ctx.clients.length = 0;
  await settle();
  const before = process.memoryUsage();
  const held = [];
  const batch = 50;
  for (let i = 0; i < k; i += batch) {
    const group = [];
    for (let j = i; j < Math.min(k, i + batch); j++) group.push(connectOne(ctx, port, null, j));
    held.push(...(await Promise.all(group)));
  }
  await sleep(300);
  await settle();
  const after = process.memoryUsage();
  const conns = await sink.request({ type: 'connections' }, 'connections', Math.min(left(), 5000));
  if (conns.open !== k) throw new VerificationError(`peer sees ${conns.open} open connections, expected ${k}`);
  const per = (key) => round((after[key] - before[key]) / k / 1024, 2);
  return {
    clients: held.length,
    rssKbPerClient: per('rss'),
    heapKbPerClient: per('heapUsed'),
    externalKbPerClient: per('external'),
    arrayBuffersKbPerClient: per('arrayBuffers'),
  };
}

async function settle() {
  for (let i = 0; i < 3; i++) {
    globalThis.gc();
    await sleep(20);
  }
}

function round(x, digits) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err) => {
    process.stdout.write(`${JSON.stringify({ ok: false, error: `harness: ${err?.stack ?? err}` })}\n`);
    process.exit(1);
  });
}
