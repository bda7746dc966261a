/* global it, expect, beforeEach, afterEach */
// The harness end to end, against its real peers (the minimal peer and a private mosquitto on
// free loopback ports): small counts, the two fastest-starting clients, then the failure paths:
// a run that does not verify is reported FAILED (exit 0), a cell that stops answering is killed,
// and SIGINT leaves no process behind.
const { spawn } = require('node:child_process');
const { mkdtempSync, readFileSync, readdirSync, rmSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const PKG = path.resolve(__dirname, '..');
const RUN = path.join(PKG, 'src', 'run.mjs');
let out;

beforeEach(() => {
  out = mkdtempSync(path.join(os.tmpdir(), 'mqtt5-bench-test-'));
});
afterEach(() => rmSync(out, { recursive: true, force: true }));

/** Runs the runner to completion (bounded); resolves { code, stdout, stderr }. */
function runBench(args, { env = {}, timeoutMs = 50_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [RUN, ...args, '--out', out], {
      cwd: PKG,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`runner did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function cells() {
  return readFileSync(path.join(out, 'latest.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((r) => r.type === 'cell');
}

/** True while `pid` exists and is not a zombie. */
function running(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

async function expectAllGone(pids) {
  for (let i = 0; i < 40 && pids.some(running); i++) await new Promise((r) => setTimeout(r, 50));
  expect(pids.filter(running)).toEqual([]);
}

/** The pids of every descendant of `root` (from /proc). */
function descendants(root) {
  const parent = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited meanwhile
    }
  }
  const found = [];
  const queue = [root];
  for (let guard = 0; queue.length > 0 && guard < 10_000; guard++) {
    const p = queue.shift();
    for (const [pid, ppid] of parent) {
      if (ppid === p) {
        found.push(pid);
        queue.push(pid);
      }
    }
  }
  return found;
}

it('runs verified cells of every scenario on both peers and writes the table and JSON lines', async () => {
  const res = await runBench(['--clients', 'mqttjs,raw', '--n', '2000', '--connects', '5', '--idle-clients', '20', '--repeat', '1']);
  expect(res.code).toBe(0);
  const recs = cells();
  // (pub-qos0, pub-qos1, recv-qos0, connect) × 2 peers + idle-memory × minimal = 9, × 2 clients
  expect(recs).toHaveLength(18);
  expect(recs.filter((r) => !r.ok)).toEqual([]);
  expect(recs.slice(0, 4).map((r) => `${r.scenario}/${r.peer}/${r.client}`)).toEqual([
    'pub-qos0/minimal/mqttjs',
    'pub-qos0/minimal/raw',
    'pub-qos0/mosquitto/mqttjs',
    'pub-qos0/mosquitto/raw',
  ]);
  for (const r of recs.filter((x) => /^(pub|recv)/.test(x.scenario))) {
    expect(r).toMatchObject({ n: 2000, payloadBytes: 64 });
    expect(r.msgsPerSec).toBeGreaterThan(0);
    expect(r.cpuUsPerMsg).toBeGreaterThan(0);
  }
  for (const r of recs.filter((x) => x.scenario === 'connect')) expect(r.connectP99Ms).toBeGreaterThanOrEqual(r.connectMedianMs);
  for (const r of recs.filter((x) => x.scenario === 'idle-memory')) expect(r.clients).toBe(20);
  const md = readFileSync(path.join(out, 'latest.md'), 'utf8');
  expect(md).toContain('| scenario | peer | metric | MQTT.js | raw socket |');
  expect(md).toMatch(/\| recv-qos0 \| mosquitto \| msgs\/s ↑ \| [\d,]+ \| [\d,]+ \|/);
  expect(md).toMatch(/\| idle-memory \| minimal \| RSS KB\/client ↓ \| [\d.-]+ \| [\d.-]+ \|/);
  expect(md).not.toContain('**FAILED**');
  expect(md).not.toContain('## Failed runs');
  expect(res.stdout).toContain(`latest:  ${path.join(out, 'latest.md')}`);
  const medians = readFileSync(path.join(out, 'latest.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((r) => r.type === 'median');
  expect(medians).toHaveLength(18); // 9 scenario/peer pairs × 2 metrics
  await expectAllGone(recs.flatMap((r) => [r.cellPid, ...r.helperPids]));
});

it.each([
  // the fault hits the 10th publish of the warm-up and of the measured phase (1000 each)
  ['extra-one', 'the peer received 2002 messages, expected exactly 2000'],
  ['wrong-topic', '2 messages with wrong topic/QoS/payload length, first: {"topic":"bench/tx","qos":1,"payloadLength":64}'],
  ['double-complete', 'the client completed 1001 publishes, expected exactly 1000'],
])('reports a run that does not verify (%s) as FAILED and still exits 0', async (fault, message) => {
  const res = await runBench(['--clients', 'raw', '--scenarios', 'pub-qos1', '--peers', 'minimal', '--n', '1000', '--repeat', '1'], {
    env: { MQTT5_BENCH_SELFTEST: fault },
  });
  expect(res.code).toBe(0);
  const [r] = cells();
  expect(r).toMatchObject({ ok: false, verification: true });
  expect(r.error).toContain(message);
  expect(res.stderr).toContain('FAILED');
  const md = readFileSync(path.join(out, 'latest.md'), 'utf8');
  expect(md).toContain('| pub-qos1 | minimal | msgs/s ↑ | **FAILED** (1/1) |');
  expect(md).toContain(message);
});

it('kills a cell that stops answering, and its helpers, at the cell timeout', async () => {
  const res = await runBench(['--clients', 'raw', '--scenarios', 'pub-qos0', '--peers', 'minimal', '--n', '1000', '--timeout', '2', '--repeat', '1'], {
    env: { MQTT5_BENCH_SELFTEST: 'block' },
  });
  expect(res.code).toBe(0);
  const [r] = cells();
  expect(r).toMatchObject({ ok: false, error: 'timed out after 2 s (killed)' });
  expect(r.helperPids).toHaveLength(1);
  await expectAllGone([r.cellPid, ...r.helperPids]);
});

it('on SIGINT stops the running cell, its helpers and mosquitto, and removes its temp dir', async () => {
  const mosquittoDirs = () => readdirSync(os.tmpdir()).filter((d) => d.startsWith('mqtt5-bench-mosquitto-'));
  const dirsBefore = mosquittoDirs();
  const child = spawn(
    process.execPath,
    [RUN, '--clients', 'raw', '--scenarios', 'pub-qos0', '--peers', 'mosquitto', '--n', '1000', '--timeout', '30', '--out', out],
    { cwd: PKG, env: { ...process.env, MQTT5_BENCH_SELFTEST: 'block' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  // wait until the runner has mosquitto, the cell and the cell's helper running
  let tree = [];
  for (let i = 0; i < 100 && tree.length < 3; i++) {
    await new Promise((r) => setTimeout(r, 100));
    tree = descendants(child.pid);
  }
  expect(tree.length).toBeGreaterThanOrEqual(3);
  child.kill('SIGINT');
  expect(await exited).toBe(130);
  await expectAllGone(tree);
  expect(mosquittoDirs()).toEqual(dirsBefore);
});
