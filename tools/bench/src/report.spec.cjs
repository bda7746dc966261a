/* global describe, it, expect */
// Command-line parsing, medians/percentiles, aggregation and the markdown table.
const { buildPlan, clientByName, median, parseFlags, percentile } = require('./config.mjs');
const { renderMarkdown, spreadPercent, summarize } = require('./report.mjs');

describe('parseFlags', () => {
  const spec = { quick: 'boolean', clients: 'list', n: 'number', out: 'string', profile: 'optional' };

  it('reads switches, lists, numbers (with _ and k) and --a=b, and skips the pnpm "--"', () => {
    expect(parseFlags(['--', '--quick', '--clients', 'ours, mqttjs', '--n=200k', '--out', 'x'], spec)).toEqual({
      quick: true,
      clients: ['ours', 'mqttjs'],
      n: 200_000,
      out: 'x',
    });
    expect(parseFlags(['--n', '1_000'], spec).n).toBe(1000);
  });

  it('takes an optional value only when the next argument is not a flag', () => {
    expect(parseFlags(['--profile'], spec)).toEqual({ profile: true });
    expect(parseFlags(['--profile', 'cpu', '--quick'], spec)).toEqual({ profile: 'cpu', quick: true });
    expect(parseFlags(['--profile', '--quick'], spec)).toEqual({ profile: true, quick: true });
  });

  it('refuses unknown options, missing values and bad numbers', () => {
    expect(() => parseFlags(['--quik'], spec)).toThrow('unknown option --quik');
    expect(() => parseFlags(['--n'], spec)).toThrow('--n needs a value');
    expect(() => parseFlags(['--n', 'lots'], spec)).toThrow('not a number');
    expect(() => parseFlags(['quick'], spec)).toThrow('unexpected argument');
  });
});

describe('buildPlan', () => {
  it('interleaves the clients per scenario and peer, rotates them per repetition, and skips peers a scenario does not run on', () => {
    const plan = buildPlan({
      clients: ['a', 'b', 'c'],
      scenarios: ['pub-qos0', 'idle-memory'],
      peers: ['minimal', 'mosquitto'],
      repeat: 2,
    });
    const line = (p) => `${p.repeat}:${p.scenario}/${p.peer}/${p.client}`;
    expect(plan.map(line)).toEqual([
      '0:pub-qos0/minimal/a', '0:pub-qos0/minimal/b', '0:pub-qos0/minimal/c',
      '0:pub-qos0/mosquitto/a', '0:pub-qos0/mosquitto/b', '0:pub-qos0/mosquitto/c',
      '0:idle-memory/minimal/a', '0:idle-memory/minimal/b', '0:idle-memory/minimal/c',
      '1:pub-qos0/minimal/b', '1:pub-qos0/minimal/c', '1:pub-qos0/minimal/a',
      '1:pub-qos0/mosquitto/b', '1:pub-qos0/mosquitto/c', '1:pub-qos0/mosquitto/a',
      '1:idle-memory/minimal/b', '1:idle-memory/minimal/c', '1:idle-memory/minimal/a',
    ]);
  });
});

describe('statistics', () => {
  it('median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('nearest-rank percentile', () => {
    const v = Array.from({ length: 200 }, (_, i) => i + 1); // 1..200
    expect(percentile(v, 99)).toBe(198);
    expect(percentile(v, 50)).toBe(100);
    expect(percentile([5], 99)).toBe(5);
  });

  it('spread is half the range relative to the median', () => {
    expect(spreadPercent([90, 100, 110])).toBeCloseTo(10);
    expect(spreadPercent([100])).toBeNull();
  });

  it('resolves client aliases', () => {
    expect(clientByName('MQTT.js').name).toBe('mqttjs');
    expect(clientByName('aws-crt').name).toBe('awscrt');
    expect(clientByName('nope')).toBeNull();
  });
});

describe('summarize and renderMarkdown', () => {
  const opts = {
    quick: false,
    clients: ['ours', 'mqttjs', 'raw'],
    scenarios: ['pub-qos0'],
    peers: ['minimal'],
    repeat: 3,
    nDefaults: { 'pub-qos0': 1000, 'pub-qos1': 1000, 'recv-qos0': 1000 },
    window: 1000,
    window0: 1000,
    payload: 64,
    connects: 10,
    idleClients: 10,
  };
  const rec = (client, msgsPerSec, ok = true) => ({
    client,
    scenario: 'pub-qos0',
    peer: 'minimal',
    repeat: 0,
    ok,
    ...(ok ? { msgsPerSec, cpuUsPerMsg: 1_000_000 / msgsPerSec } : { error: 'the peer received 999 messages, expected exactly 1000' }),
  });
  const records = [
    rec('ours', 800_000),
    rec('ours', 1_000_000),
    rec('ours', 900_000),
    rec('mqttjs', 200_000),
    rec('mqttjs', 150_000),
    rec('mqttjs', 250_000),
    rec('raw', 2_000_000),
    rec('raw', 0, false),
    rec('raw', 2_100_000),
  ];
  const env = {
    date: '2026-01-01T00:00:00Z',
    node: 'v20',
    os: 'Linux',
    cpu: 'cpu',
    cores: 2,
    memoryGiB: 1,
    loadBefore: [0.1, 0.1, 0.1],
    versions: { ours: '0.1.0', mqtt: '5.16.0', 'aws-crt': '1.33.2', mosquitto: '2.0.11' },
  };

  it('takes medians, computes ratios, and marks a client with a failed run as FAILED', () => {
    const { rows } = summarize(records, opts);
    const msgs = rows.find((r) => r.metric === 'msgsPerSec');
    expect(msgs.cells.ours.median).toBe(900_000);
    expect(msgs.cells.mqttjs.median).toBe(200_000);
    expect(msgs.ratios.mqttjs).toBeCloseTo(4.5);
    expect(msgs.cells.raw.failed).toBe(1);
    expect(msgs.ratios.raw).toBeNull();
    const cpu = rows.find((r) => r.metric === 'cpuUsPerMsg');
    expect(cpu.ratios.mqttjs).toBeCloseTo(1.111111 / 5, 4); // ours ÷ other, lower is better here
  });

  it('renders the table with ratio columns, FAILED cells and the failure reasons', () => {
    const md = renderMarkdown({ summary: summarize(records, opts), env, opts, unavailable: {}, records, seconds: 12 });
    expect(md).toContain('| scenario | peer | metric | ours | MQTT.js | raw socket | ours/MQTT.js | ours/raw socket |');
    expect(md).toMatch(/\| pub-qos0 \| minimal \| msgs\/s ↑ \| 900,000 ±11% \| 200,000 ±25% \| \*\*FAILED\*\* \(1\/3\) \| 4\.50× \| – \|/);
    expect(md).toContain('## Failed runs');
    expect(md).toContain('pub-qos0 / minimal / raw socket (run 1): the peer received 999 messages, expected exactly 1000');
  });

  it('lists runs where the peer-side process was saturated', () => {
    const busy = records.map((r, i) => (i === 0 ? { ...r, peerCpuShare: 0.95 } : { ...r, peerCpuShare: 0.2 }));
    const md = renderMarkdown({ summary: summarize(busy, opts), env, opts, unavailable: {}, records: busy, seconds: 1 });
    expect(md).toContain('**Peer-bound runs**');
    expect(md).toContain('pub-qos0 / minimal / ours (95%)');
    const calm = renderMarkdown({ summary: summarize(records, opts), env, opts, unavailable: {}, records, seconds: 1 });
    expect(calm).not.toContain('Peer-bound');
  });

  it('shows an unavailable client as n/a with the reason, and no ratios without ours', () => {
    const noOurs = { ...opts, clients: ['mqttjs', 'raw'] };
    const md = renderMarkdown({
      summary: summarize(records.filter((r) => r.client !== 'ours'), noOurs),
      env,
      opts: noOurs,
      unavailable: {},
      records: [],
      seconds: 1,
    });
    expect(md).not.toContain('ours/');
    const md2 = renderMarkdown({
      summary: summarize([], opts),
      env,
      opts,
      unavailable: { ours: '@mqtt5/sdk is not built' },
      records: [],
      seconds: 1,
    });
    expect(md2).toContain('| pub-qos0 | minimal | msgs/s ↑ | n/a | n/a | n/a |');
    expect(md2).toContain('- ours: @mqtt5/sdk is not built');
  });
});
