// Text summaries of V8 profiles written by `--profile`: the functions with the most self time
// (.cpuprofile) or the most sampled allocation (.heapprofile), and the same grouped by package.
import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');

/** Where a script URL comes from: a workspace package, an npm package, node itself, or native. */
export function origin(url) {
  if (!url) return '(native / V8)';
  if (url.startsWith('node:')) return 'node core';
  const file = url.replace(/^file:\/\//, '');
  const nm = file.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = file.slice(nm + 14).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const rel = path.relative(ROOT, file);
  const m = /^(packages|tools|apps)\/([^/]+)\//.exec(rel);
  return m ? `${m[1]}/${m[2]}` : rel;
}

function frameName(cf) {
  const fn = cf.functionName || '(anonymous)';
  if (!cf.url) return fn;
  const file = cf.url.replace(/^file:\/\//, '');
  const rel = file.startsWith(ROOT) ? path.relative(ROOT, file) : file.replace(/^.*\/node_modules\//, '');
  return `${fn}  ${rel}:${cf.lineNumber + 1}`;
}

function table(title, entries, total, unit, top) {
  const lines = [title];
  for (const [name, value] of entries.slice(0, top)) {
    const pct = total > 0 ? (value / total) * 100 : 0;
    lines.push(`  ${pct.toFixed(1).padStart(5)}%  ${unit(value).padStart(9)}  ${name}`);
  }
  return lines;
}

function sortDesc(map) {
  return [...map.entries()].sort((a, b) => b[1] - a[1]);
}

/** Top functions by self time, and self time per package, from a .cpuprofile file. */
export function summarizeCpuProfile(file, top = 15) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const durationUs = prof.endTime - prof.startTime;
  const samples = prof.samples?.length || prof.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0);
  const perSampleUs = samples > 0 ? durationUs / samples : 0;
  const byFn = new Map();
  const byOrigin = new Map();
  let total = 0;
  for (const node of prof.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    const fn = node.callFrame.functionName;
    if (fn === '(idle)' || fn === '(program)' || fn === '(garbage collector)') {
      byFn.set(fn, (byFn.get(fn) ?? 0) + hits);
      byOrigin.set(fn, (byOrigin.get(fn) ?? 0) + hits);
      if (fn !== '(idle)') total += hits;
      continue;
    }
    total += hits;
    const name = frameName(node.callFrame);
    byFn.set(name, (byFn.get(name) ?? 0) + hits);
    const o = origin(node.callFrame.url);
    byOrigin.set(o, (byOrigin.get(o) ?? 0) + hits);
  }
  byFn.delete('(idle)');
  byOrigin.delete('(idle)');
  const ms = (hits) => `${((hits * perSampleUs) / 1000).toFixed(1)} ms`;
  return [
    ...table(`self time (of ${ms(total)} busy), by function:`, sortDesc(byFn), total, ms, top),
    ...table('self time by package:', sortDesc(byOrigin), total, ms, 10),
  ].join('\n');
}

/** Top allocation sites by sampled bytes, and per package, from a .heapprofile file. */
export function summarizeHeapProfile(file, top = 15) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const byFn = new Map();
  const byOrigin = new Map();
  let total = 0;
  const stack = [prof.head];
  for (let guard = 0; stack.length > 0 && guard < 10_000_000; guard++) {
    const node = stack.pop();
    if (node.selfSize > 0) {
      total += node.selfSize;
      const name = frameName(node.callFrame);
      byFn.set(name, (byFn.get(name) ?? 0) + node.selfSize);
      const o = origin(node.callFrame.url);
      byOrigin.set(o, (byOrigin.get(o) ?? 0) + node.selfSize);
    }
    for (const child of node.children ?? []) stack.push(child);
  }
  const kb = (bytes) => `${(bytes / 1024).toFixed(0)} KB`;
  return [
    ...table(`live sampled allocations at exit (${kb(total)}), by function:`, sortDesc(byFn), total, kb, top),
    ...table('by package:', sortDesc(byOrigin), total, kb, 10),
  ].join('\n');
}
