// Aggregation (medians over repetitions) and the markdown table.
import { CLIENTS, PEERS, SCENARIOS, TOPIC, median } from './config.mjs';

const labelOf = (client) => CLIENTS.find((c) => c.name === client)?.label ?? client;

/**
 * Groups cell records by scenario × peer × metric × client. A client's figure is the median of
 * its successful runs; any failed run marks the figure FAILED (it is never silently dropped).
 */
export function summarize(records, opts) {
  const rows = [];
  for (const def of SCENARIOS) {
    if (!opts.scenarios.includes(def.name)) continue;
    for (const peer of PEERS.map((p) => p.name)) {
      if (!def.peers.includes(peer) || !opts.peers.includes(peer)) continue;
      for (const metric of def.metrics) {
        const cells = {};
        for (const client of opts.clients) {
          const runs = records.filter((r) => r.scenario === def.name && r.peer === peer && r.client === client);
          const ok = runs.filter((r) => r.ok && typeof r[metric.key] === 'number');
          const values = ok.map((r) => r[metric.key]);
          cells[client] = {
            runs: runs.length,
            failed: runs.length - ok.length,
            values,
            median: values.length > 0 ? median(values) : null,
            spreadPercent: spreadPercent(values),
            errors: runs.filter((r) => !r.ok).map((r) => r.error),
          };
        }
        const ratios = {};
        const ours = cells.ours;
        for (const other of opts.clients) {
          if (other === 'ours' || !ours) continue;
          const o = cells[other];
          ratios[other] =
            ours.failed === 0 && o.failed === 0 && ours.median !== null && o.median ? ours.median / o.median : null;
        }
        rows.push({ scenario: def.name, peer, metric: metric.key, label: metric.label, better: metric.better, cells, ratios });
      }
    }
  }
  return { rows };
}

function formatValue(metric, v) {
  if (metric === 'msgsPerSec') return Math.round(v).toLocaleString('en-US');
  if (metric === 'cpuUsPerMsg') return v.toFixed(2);
  if (metric === 'connectMedianMs' || metric === 'connectP99Ms') return v.toFixed(3);
  return v.toFixed(1);
}

/** Half the min–max range relative to the median, in percent (the run-to-run noise). */
export function spreadPercent(values) {
  if (values.length < 2) return null;
  const m = median(values);
  if (!m) return null;
  return ((Math.max(...values) - Math.min(...values)) / 2 / Math.abs(m)) * 100;
}

function formatCell(row, cell) {
  if (!cell || cell.runs === 0) return 'n/a';
  if (cell.failed > 0) return `**FAILED** (${cell.failed}/${cell.runs})`;
  const spread = spreadPercent(cell.values);
  return `${formatValue(row.metric, cell.median)}${spread === null ? '' : ` ±${spread < 10 ? spread.toFixed(1) : Math.round(spread)}%`}`;
}

/** The report: header (machine, versions, parameters), the table, failures and notes. */
export function renderMarkdown({ summary, env, opts, unavailable, records, seconds }) {
  const clients = opts.clients;
  const others = clients.filter((c) => c !== 'ours');
  const withRatios = clients.includes('ours') && others.length > 0;
  const v = env.versions;
  const lines = [];
  lines.push(`# MQTT 5 client benchmark${opts.quick ? ' (quick)' : ''}`, '');
  lines.push(
    `${env.date} · Node ${env.node} · ${env.cpu}, ${env.cores} cores, ${env.memoryGiB} GiB · ${env.os} · ` +
      `load average ${env.loadBefore.map((x) => x.toFixed(2)).join(' ')} before the run`,
    '',
    `Clients: ours (@mqtt5/sdk ${v.ours ?? 'not available'}) · MQTT.js (mqtt ${v.mqtt}) · aws-crt ${v['aws-crt']} (mqtt5) · raw socket (hand-encoded, the ceiling). Broker: mosquitto ${v.mosquitto ?? '?'}.`,
    '',
    `Median of ${opts.repeat} run${opts.repeat > 1 ? 's' : ''} per cell, each run a fresh process, cells interleaved. ` +
      `Payload ${opts.payload} B to \`${TOPIC}\`; ` +
      `N = ${opts.n ?? `${opts.nDefaults['pub-qos0']} (pub-qos0), ${opts.nDefaults['pub-qos1']} (pub-qos1), ${opts.nDefaults['recv-qos0']} (recv-qos0)`}; ` +
      `at most ${opts.window0} QoS 0 / ${opts.window} QoS 1 publishes incomplete; ` +
      `${opts.connects} connects; ${opts.idleClients} idle clients. Every run verifies its counts exactly, or is reported FAILED.`,
    '',
  );
  const head = ['scenario', 'peer', 'metric', ...clients.map(labelOf)];
  if (withRatios) head.push(...others.map((o) => `ours/${labelOf(o)}`));
  lines.push(`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 3 ? '---' : '---:')).join('|')}|`);
  for (const row of summary.rows) {
    const arrow = row.better === 'higher' ? '↑' : '↓';
    const cells = [row.scenario, row.peer, `${row.label} ${arrow}`, ...clients.map((c) => formatCell(row, row.cells[c]))];
    if (withRatios) cells.push(...others.map((o) => (row.ratios[o] == null ? '–' : `${row.ratios[o].toFixed(2)}×`)));
    lines.push(`| ${cells.join(' | ')} |`);
  }
  lines.push(
    '',
    '↑ higher is better, ↓ lower is better. Ratios are ours ÷ other (so > 1 is better for msgs/s, < 1 for the rest).',
    '±: half the min–max range of the runs, relative to the median (run-to-run noise).',
    'CPU µs/msg is the client process\'s user + system CPU time (all its threads) over the timed interval, divided by N.',
    'idle-memory: (RSS, heapUsed) with the clients connected minus before, per client, after gc; aws-crt keeps its',
    'connection state in native memory, which shows in RSS only.',
  );
  const peerBound = records.filter((r) => r.ok && r.peerCpuShare >= 0.9);
  if (peerBound.length > 0) {
    lines.push(
      '',
      `**Peer-bound runs** (the peer-side process used ≥ 90% of a core, so the client may have been faster than measured): ` +
        peerBound.map((r) => `${r.scenario} / ${r.peer} / ${labelOf(r.client)} (${Math.round(r.peerCpuShare * 100)}%)`).join(', '),
    );
  }
  const failed = records.filter((r) => !r.ok);
  if (failed.length > 0) {
    lines.push('', '## Failed runs', '');
    for (const r of failed) lines.push(`- ${r.scenario} / ${r.peer} / ${labelOf(r.client)} (run ${r.repeat + 1}): ${r.error}`);
  }
  const skipped = Object.entries(unavailable);
  if (skipped.length > 0) {
    lines.push('', '## Not run', '');
    for (const [c, why] of skipped) lines.push(`- ${labelOf(c)}: ${why}`);
  }
  if (env.loadBefore[0] > 0.5) {
    lines.push(
      '',
      `**Note:** the machine was busy before the run (1-minute load average ${env.loadBefore[0].toFixed(2)} on ${env.cores} cores): ` +
        'other processes competed for the CPU, so throughput figures are noisier than usual.',
    );
  }
  lines.push('', `Total wall time ${Math.round(seconds)} s.`, '');
  return lines.join('\n');
}
