// The benchmark runner (`pnpm bench` at the root, or `node src/run.mjs` here). Runs every cell
// (client × scenario × peer) in a fresh process, interleaved (A, B, C, A, B, C …) and repeated,
// then writes a markdown table of medians with ratios, and the raw JSON lines, to results/.
// See --help, and docs/benchmarks.md at the repository root for the method.
import { fork, spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLIENTS, FULL, PAYLOAD_BYTES, PEERS, QOS1_WINDOW, QUICK, SCENARIOS, buildPlan, clientByName, parseFlags } from './config.mjs';
import { startMosquitto } from './mosquitto.mjs';
import { summarizeCpuProfile, summarizeHeapProfile } from './profile-summary.mjs';
import { renderMarkdown, summarize } from './report.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PKG_DIR = path.resolve(HERE, '..');
const CELL = path.join(HERE, 'cell.mjs');

const HELP = `Usage: pnpm bench [-- options]          (or: node tools/bench/src/run.mjs [options])

  --quick                  small counts, 1 repetition (finishes in under a minute)
  --clients LIST           ${CLIENTS.map((c) => c.name).join(',')} (default: all)
  --scenarios LIST         ${SCENARIOS.map((s) => s.name).join(',')} (default: all)
  --peers LIST             ${PEERS.map((p) => p.name).join(',')} (default: both)
  --repeat N               repetitions of every cell (default ${FULL.repeat}, quick ${QUICK.repeat}); medians reported
  --n N                    messages per publish/receive cell (default ${FULL.n['pub-qos0']} QoS 0, ${FULL.n['pub-qos1']} QoS 1)
  --window N               QoS 1 publishes in flight (default ${QOS1_WINDOW})
  --window0 N              QoS 0 publishes incomplete at once (default ${QOS1_WINDOW})
  --payload BYTES          payload size (default ${PAYLOAD_BYTES})
  --connects N             sequential connects in the connect scenario (default ${FULL.connects}, quick ${QUICK.connects})
  --idle-clients N         clients in the idle-memory scenario (default ${FULL.idleClients}, quick ${QUICK.idleClients})
  --timeout SEC            per-cell timeout (default ${FULL.cellTimeoutSec}, quick ${QUICK.cellTimeoutSec})
  --out DIR                results folder (default tools/bench/results)
  --profile [cpu|heap|both]  run ONE cell (first of --clients, default ours; first of --scenarios,
                           default pub-qos0; first of --peers, default minimal) under node --cpu-prof
                           and/or --heap-prof, print the top functions and where the profiles were
                           written (heap: what is live at exit, so use it with --scenarios idle-memory)
  --help
`;

function fail(message) {
  console.error(`bench: ${message}`);
  process.exit(2);
}

function parseOptions(argv) {
  let o;
  try {
    o = parseFlags(argv, {
      quick: 'boolean',
      clients: 'list',
      scenarios: 'list',
      peers: 'list',
      repeat: 'number',
      n: 'number',
      window: 'number',
      window0: 'number',
      payload: 'number',
      connects: 'number',
      'idle-clients': 'number',
      timeout: 'number',
      out: 'string',
      profile: 'optional',
      help: 'boolean',
    });
  } catch (err) {
    fail(err.message);
  }
  if (o.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const preset = o.quick ? QUICK : FULL;
  const clients = (o.clients ?? CLIENTS.map((c) => c.name)).map((name) => {
    const c = clientByName(name);
    if (!c) fail(`unknown client "${name}" (one of ${CLIENTS.map((x) => x.name).join(', ')})`);
    return c.name;
  });
  const scenarios = (o.scenarios ?? SCENARIOS.map((s) => s.name)).map((name) => {
    if (!SCENARIOS.some((s) => s.name === name)) fail(`unknown scenario "${name}" (one of ${SCENARIOS.map((s) => s.name).join(', ')})`);
    return name;
  });
  const peers = (o.peers ?? PEERS.map((p) => p.name)).map((name) => {
    if (!PEERS.some((p) => p.name === name)) fail(`unknown peer "${name}" (one of ${PEERS.map((p) => p.name).join(', ')})`);
    return name;
  });
  if (o.profile !== undefined && o.profile !== true && !['cpu', 'heap', 'both'].includes(o.profile)) {
    fail(`--profile takes cpu, heap or both (got ${o.profile})`);
  }
  return {
    quick: Boolean(o.quick),
    explicitClients: o.clients !== undefined,
    clients: [...new Set(clients)],
    scenarios: [...new Set(scenarios)],
    peers: [...new Set(peers)],
    repeat: Math.max(1, Math.floor(o.repeat ?? preset.repeat)),
    n: o.n,
    nDefaults: preset.n,
    window: o.window ?? QOS1_WINDOW,
    window0: o.window0 ?? QOS1_WINDOW,
    payload: o.payload ?? PAYLOAD_BYTES,
    connects: o.connects ?? preset.connects,
    idleClients: o['idle-clients'] ?? preset.idleClients,
    timeoutSec: o.timeout ?? preset.cellTimeoutSec,
    out: path.resolve(o.out ?? path.join(PKG_DIR, 'results')),
    profile: o.profile === undefined ? null : o.profile === true ? 'both' : o.profile,
  };
}

/** Versions and machine facts for the report header. */
function environment() {
  const require = createRequire(path.join(PKG_DIR, 'package.json'));
  const version = (spec) => {
    try {
      return require(`${spec}/package.json`).version;
    } catch {
      return null;
    }
  };
  const mosq = spawnSync(process.env.MOSQUITTO_BIN || 'mosquitto', ['-h'], { encoding: 'utf8', timeout: 5000 });
  const mosquittoVersion = /mosquitto version (\S+)/.exec(`${mosq.stdout}${mosq.stderr}`)?.[1] ?? null;
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadBefore: os.loadavg(),
    versions: { ours: version('@mqtt5/sdk'), mqtt: version('mqtt'), 'aws-crt': version('aws-crt'), mosquitto: mosquittoVersion },
  };
}

/** Checks that a client adapter loads (for ours: that @mqtt5/sdk is built and resolvable). */
async function probeClient(name) {
  try {
    const adapter = await import(`./clients/${name}.mjs`);
    await adapter.load();
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

function nFor(opts, scenario) {
  return opts.n ?? opts.nDefaults[scenario];
}

function cellArgs(opts, cell, mosquittoPort) {
  const args = ['--client', cell.client, '--scenario', cell.scenario, '--peer', cell.peer, '--payload', String(opts.payload)];
  if (cell.scenario.startsWith('pub') || cell.scenario.startsWith('recv')) args.push('--n', String(nFor(opts, cell.scenario)));
  if (cell.scenario === 'pub-qos0') args.push('--window0', String(opts.window0));
  if (cell.scenario === 'pub-qos1') args.push('--window', String(opts.window));
  if (cell.scenario === 'connect') args.push('--connects', String(opts.connects));
  if (cell.scenario === 'idle-memory') args.push('--idle-clients', String(opts.idleClients));
  if (cell.peer === 'mosquitto') args.push('--mosquitto-port', String(mosquittoPort));
  args.push('--timeout-ms', String(opts.timeoutSec * 1000));
  return args;
}

// Processes this runner is responsible for: the running cell and the helpers it reported.
const live = { cell: null, helpers: [], mosquitto: null, mosquittoDir: null };

/** Starts the run's private mosquitto in a fresh temp dir (removed again by removeMosquittoDir). */
async function startRunMosquitto() {
  live.mosquittoDir = mkdtempSync(path.join(os.tmpdir(), 'mqtt5-bench-mosquitto-'));
  live.mosquitto = await startMosquitto(live.mosquittoDir);
  return live.mosquitto;
}

function removeMosquittoDir() {
  if (live.mosquittoDir) rmSync(live.mosquittoDir, { recursive: true, force: true });
  live.mosquittoDir = null;
}

function killPid(pid) {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Kills a helper that a cell reported, only if that pid still runs one of our scripts. */
function killHelper(pid) {
  let cmdline = null;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    if (process.platform === 'linux') return; // gone
  }
  if (cmdline === null || cmdline.includes(HERE)) killPid(pid);
}

function killLiveCell() {
  if (live.cell && live.cell.exitCode === null && live.cell.signalCode === null) live.cell.kill('SIGKILL');
  for (const pid of live.helpers) killHelper(pid);
  live.helpers = [];
}

/** Runs one cell in a fresh process; resolves its result record (never rejects). */
function runCell(opts, cell, mosquittoPort, execArgv = []) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = fork(CELL, cellArgs(opts, cell, mosquittoPort), {
      execArgv: [...(cell.scenario === 'idle-memory' ? ['--expose-gc'] : []), ...execArgv],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      cwd: PKG_DIR,
    });
    live.cell = child;
    live.helpers = [];
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => {
      stderr += d;
      if (stderr.length > 64_000) stderr = stderr.slice(-32_000);
    });
    child.on('message', (msg) => {
      if (msg && msg.type === 'pids') live.helpers = msg.pids;
    });
    let helperPids = [];
    const timer = setTimeout(() => {
      timedOut = true;
      helperPids = live.helpers;
      killLiveCell();
    }, opts.timeoutSec * 1000 + 2000); // the cell reports its own timeout before this
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (!timedOut) helperPids = live.helpers;
      for (const pid of helperPids) killHelper(pid); // normally gone already (they exit with the cell)
      live.cell = null;
      live.helpers = [];
      const seconds = (Date.now() - started) / 1000;
      const line = stdout.trim().split('\n').filter(Boolean).pop();
      let record = null;
      try {
        record = line ? JSON.parse(line) : null;
      } catch {
        record = null;
      }
      if (timedOut) record = { ok: false, error: `timed out after ${opts.timeoutSec} s (killed)`, helperPids };
      else if (record === null) record = { ok: false, error: `cell exited (code ${code}, signal ${signal}) without a result` };
      record = { ...cell, ...record, cellPid: child.pid, wallSeconds: Math.round(seconds * 100) / 100 };
      if (!record.ok && stderr.trim()) record.stderrTail = stderr.trim().split('\n').slice(-8).join('\n');
      resolve(record);
    });
  });
}

function describeRecord(r) {
  if (!r.ok) return `FAILED: ${r.error}`;
  const f = (x, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d });
  switch (r.scenario) {
    case 'connect':
      return `median ${f(r.connectMedianMs, 3)} ms, p99 ${f(r.connectP99Ms, 3)} ms`;
    case 'idle-memory':
      return `${f(r.rssKbPerClient, 2)} KB RSS, ${f(r.heapKbPerClient, 2)} KB heap per client`;
    default:
      return `${f(r.msgsPerSec)} msgs/s, ${f(r.cpuUsPerMsg, 2)} µs CPU/msg`;
  }
}

function stamp() {
  return new Date().toISOString().replace(/[:]/g, '-').replace(/\..*$/, '');
}

async function profile(opts) {
  const client = opts.explicitClients ? opts.clients[0] : 'ours';
  const scenario = opts.scenarios[0] ?? 'pub-qos0';
  const peer = SCENARIOS.find((s) => s.name === scenario).peers.find((p) => opts.peers.includes(p));
  if (!peer) fail(`scenario ${scenario} does not run on ${opts.peers.join(',')}`);
  const dir = path.join(opts.out, 'profiles', `${stamp()}-${client}-${scenario}-${peer}`);
  mkdirSync(dir, { recursive: true });
  const mosquitto = peer === 'mosquitto' ? await startRunMosquitto() : null;
  const kinds = opts.profile === 'both' ? ['cpu', 'heap'] : [opts.profile];
  let ok = true;
  try {
    for (const kind of kinds) {
      // finer sampling than the defaults (1 ms, 512 KiB): runs are short and clients are small
      const execArgv =
        kind === 'cpu'
          ? ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '200']
          : ['--heap-prof', '--heap-prof-dir', dir, '--heap-prof-interval', '4096'];
      console.log(`profiling (${kind}): ${client} ${scenario} on ${peer} …`);
      const r = await runCell(opts, { client, scenario, peer, repeat: 0 }, mosquitto?.port, execArgv);
      console.log(`  ${describeRecord(r)}`);
      if (!r.ok) ok = false;
    }
  } finally {
    await mosquitto?.stop();
    live.mosquitto = null;
    removeMosquittoDir();
  }
  const files = readdirSync(dir).filter((f) => /\.(cpuprofile|heapprofile)$/.test(f));
  if (files.length === 0) {
    console.error(`no profile was written to ${dir}`);
    process.exit(1);
  }
  for (const f of files) {
    const file = path.join(dir, f);
    try {
      console.log(`\n${f.endsWith('.cpuprofile') ? summarizeCpuProfile(file) : summarizeHeapProfile(file)}`);
    } catch (err) {
      console.error(`cannot summarize ${file}: ${err.message}`);
    }
  }
  console.log('\nprofiles written (open in Chrome DevTools → Performance/Memory, or speedscope):');
  for (const f of files) console.log(`  ${path.join(dir, f)}`);
  process.exit(ok ? 0 : 1);
}

async function main() {
  const opts = parseOptions(process.argv.slice(2));
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => {
      console.error(`\nbench: ${sig}: stopping`);
      killLiveCell();
      live.mosquitto?.killSync();
      removeMosquittoDir();
      process.exit(130);
    });
  }
  if (opts.profile) return profile(opts);

  const env = environment();
  if (env.loadBefore[0] > 0.5) {
    console.warn(`bench: load average ${env.loadBefore[0].toFixed(2)} on ${env.cores} cores: other processes use the CPU, figures will be noisy`);
  }
  const unavailable = {};
  for (const c of opts.clients) {
    const why = await probeClient(c);
    if (why) unavailable[c] = why;
  }
  for (const [c, why] of Object.entries(unavailable)) {
    console.warn(`bench: ${c} is unavailable, its cells are skipped: ${why}`);
  }
  const runnable = opts.clients.filter((c) => !unavailable[c]);

  const plan = buildPlan({ ...opts, clients: runnable });

  mkdirSync(opts.out, { recursive: true });
  const base = path.join(opts.out, `bench-${stamp()}${opts.quick ? '-quick' : ''}`);
  const jsonlPath = `${base}.jsonl`;
  const mdPath = `${base}.md`;
  writeFileSync(jsonlPath, `${JSON.stringify({ type: 'run', env, options: { ...opts, out: undefined } })}\n`);

  let harnessError = null;
  if (plan.some((c) => c.peer === 'mosquitto')) {
    try {
      await startRunMosquitto();
      console.log(`mosquitto ${env.versions.mosquitto ?? ''} on 127.0.0.1:${live.mosquitto.port} (pid ${live.mosquitto.pid})`);
    } catch (err) {
      harnessError = `mosquitto could not be started: ${err.message}`;
      removeMosquittoDir();
      console.error(`bench: ${harnessError}; its cells are marked FAILED`);
    }
  }

  const records = [];
  const t0 = Date.now();
  console.log(`${plan.length} cell${plan.length === 1 ? '' : 's'} (${runnable.join(', ')}; repeat ${opts.repeat}${opts.quick ? ', quick' : ''})`);
  try {
    for (let i = 0; i < plan.length; i++) {
      const cell = plan[i];
      let r;
      if (cell.peer === 'mosquitto' && !live.mosquitto) r = { ...cell, ok: false, error: harnessError };
      else r = await runCell(opts, cell, live.mosquitto?.port);
      records.push(r);
      appendFileSync(jsonlPath, `${JSON.stringify({ type: 'cell', ...r })}\n`);
      const tag = `[${String(i + 1).padStart(String(plan.length).length)}/${plan.length}]`;
      const line = `${tag} ${cell.scenario.padEnd(11)} ${cell.peer.padEnd(9)} ${cell.client.padEnd(6)} ${describeRecord(r)} (${r.wallSeconds ?? 0} s)`;
      if (r.ok) console.log(line);
      else console.error(`${line}${r.stderrTail ? `\n    ${r.stderrTail.replace(/\n/g, '\n    ')}` : ''}`);
    }
  } finally {
    killLiveCell();
    await live.mosquitto?.stop();
    live.mosquitto = null;
    removeMosquittoDir();
  }

  const summary = summarize(records, opts);
  const markdown = renderMarkdown({ summary, env, opts, unavailable, records, seconds: (Date.now() - t0) / 1000 });
  writeFileSync(mdPath, markdown);
  for (const row of summary.rows) appendFileSync(jsonlPath, `${JSON.stringify({ type: 'median', ...row })}\n`);
  copyFileSync(mdPath, path.join(opts.out, 'latest.md'));
  copyFileSync(jsonlPath, path.join(opts.out, 'latest.jsonl'));

  console.log(`\n${markdown}`);
  const failed = records.filter((r) => !r.ok);
  if (failed.length > 0) console.error(`bench: ${failed.length} of ${records.length} cells FAILED (see the table and ${jsonlPath})`);
  console.log(`results: ${mdPath}\n         ${jsonlPath}\nlatest:  ${path.join(opts.out, 'latest.md')}`);
  if (Object.keys(unavailable).length > 0) {
    console.error(`bench: incomplete comparison, not run: ${Object.keys(unavailable).join(', ')} (see above)`);
  }
  if (harnessError || Object.keys(unavailable).length > 0) process.exit(1);
}

main().catch((err) => {
  console.error(`bench: harness error: ${err?.stack ?? err}`);
  killLiveCell();
  live.mosquitto?.killSync();
  removeMosquittoDir();
  process.exit(1);
});
