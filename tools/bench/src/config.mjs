// Names, defaults and command-line parsing shared by run.mjs and cell.mjs.

/** Client adapters, in table order. `module` is the file under src/clients/. */
export const CLIENTS = [
  { name: 'ours', label: 'ours', aliases: ['sdk', '@mqtt5/sdk'] },
  { name: 'mqttjs', label: 'MQTT.js', aliases: ['mqtt.js', 'mqtt'] },
  { name: 'awscrt', label: 'aws-crt', aliases: ['aws-crt', 'crt'] },
  { name: 'raw', label: 'raw socket', aliases: ['raw-socket'] },
];

export const PEERS = [
  { name: 'minimal', label: 'minimal peer (client-bound)' },
  { name: 'mosquitto', label: 'mosquitto (real world)' },
];

/**
 * Scenarios. `peers` lists where each runs; `metrics` are the figures it reports, with the
 * direction that is better (for the ratio columns).
 */
export const SCENARIOS = [
  {
    name: 'pub-qos0',
    peers: ['minimal', 'mosquitto'],
    metrics: [
      { key: 'msgsPerSec', label: 'msgs/s', better: 'higher' },
      { key: 'cpuUsPerMsg', label: 'CPU µs/msg', better: 'lower' },
    ],
  },
  {
    name: 'pub-qos1',
    peers: ['minimal', 'mosquitto'],
    metrics: [
      { key: 'msgsPerSec', label: 'msgs/s', better: 'higher' },
      { key: 'cpuUsPerMsg', label: 'CPU µs/msg', better: 'lower' },
    ],
  },
  {
    name: 'recv-qos0',
    peers: ['minimal', 'mosquitto'],
    metrics: [
      { key: 'msgsPerSec', label: 'msgs/s', better: 'higher' },
      { key: 'cpuUsPerMsg', label: 'CPU µs/msg', better: 'lower' },
    ],
  },
  {
    name: 'connect',
    peers: ['minimal', 'mosquitto'],
    metrics: [
      { key: 'connectMedianMs', label: 'median ms', better: 'lower' },
      { key: 'connectP99Ms', label: 'p99 ms', better: 'lower' },
    ],
  },
  {
    name: 'idle-memory',
    peers: ['minimal'],
    metrics: [
      { key: 'rssKbPerClient', label: 'RSS KB/client', better: 'lower' },
      { key: 'heapKbPerClient', label: 'heap KB/client', better: 'lower' },
    ],
  },
];

export const FULL = {
  repeat: 3,
  n: { 'pub-qos0': 200_000, 'pub-qos1': 100_000, 'recv-qos0': 200_000 },
  connects: 200,
  idleClients: 1000,
  cellTimeoutSec: 120,
};

export const QUICK = {
  repeat: 1,
  n: { 'pub-qos0': 50_000, 'pub-qos1': 25_000, 'recv-qos0': 50_000 },
  connects: 100,
  idleClients: 1000, // fewer clients would not amortize the heap's page-sized growth steps
  cellTimeoutSec: 30,
};

export const TOPIC = 'bench/t';
export const PAYLOAD_BYTES = 64;
export const QOS1_WINDOW = 1000;
export const KEEP_ALIVE_SEC = 60;

/** Resolves a client name or alias. */
export function clientByName(name) {
  const n = name.trim().toLowerCase();
  return CLIENTS.find((c) => c.name === n || c.aliases.includes(n)) ?? null;
}

/**
 * Minimal `--flag value` / `--flag=value` / `--switch` parser. Unknown flags are an error, so a
 * typo never silently runs the default.
 */
export function parseFlags(argv, spec) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    if (arg === '--') continue; // `pnpm bench -- --quick` passes the separator through
    if (!arg.startsWith('--')) throw new Error(`unexpected argument: ${arg}`);
    arg = arg.slice(2);
    let value;
    const eq = arg.indexOf('=');
    if (eq >= 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const type = spec[arg];
    if (type === undefined) throw new Error(`unknown option --${arg} (see --help)`);
    if (type === 'boolean') {
      out[arg] = value === undefined ? true : value !== 'false';
      continue;
    }
    if (type === 'optional') {
      // a switch that may take a value: `--profile` or `--profile cpu`
      if (value === undefined && argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) value = argv[++i];
      out[arg] = value ?? true;
      continue;
    }
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined) throw new Error(`--${arg} needs a value`);
    }
    if (type === 'number') {
      const num = Number(value.replace(/_/g, '').replace(/k$/i, '000'));
      if (!Number.isFinite(num) || num < 0) throw new Error(`--${arg}: not a number: ${value}`);
      out[arg] = num;
    } else if (type === 'list') {
      out[arg] = value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    } else {
      out[arg] = value;
    }
  }
  return out;
}

/**
 * The order of the cells: repetition-major, so the clients' cells of one scenario and peer run
 * next to each other (A, B, C, A, B, C …), and the client order rotates with each repetition so
 * that no client always runs first (or right after the same neighbour).
 */
export function buildPlan({ clients, scenarios, peers, repeat }) {
  const plan = [];
  for (let rep = 0; rep < repeat; rep++) {
    for (const scenario of scenarios) {
      const def = SCENARIOS.find((s) => s.name === scenario);
      for (const peer of peers) {
        if (!def.peers.includes(peer)) continue;
        for (let i = 0; i < clients.length; i++) {
          plan.push({ client: clients[(i + rep) % clients.length], scenario, peer, repeat: rep });
        }
      }
    }
  }
  return plan;
}

/** Median of numbers (mean of the middle two for an even count). */
export function median(values) {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length, Math.max(1, rank)) - 1];
}
