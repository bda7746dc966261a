#!/usr/bin/env node
// Runs every package's test suite (unit + integration) through turbo and prints one closing line
// "N passed, N failed" with the totals over all packages (read from the jest summary reporter).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const summaryDir = mkdtempSync(path.join(tmpdir(), 'mqtt5-test-summary-'));
const extra = process.argv.slice(2);
const result = spawnSync(
  'pnpm',
  ['exec', 'turbo', 'run', 'test', '--concurrency=1', '--continue', ...extra],
  { stdio: 'inherit', env: { ...process.env, MQTT5_TEST_SUMMARY_DIR: summaryDir } },
);

let passed = 0;
let failed = 0;
let skipped = 0;
const lines = [];
for (const file of readdirSync(summaryDir)) {
  const s = JSON.parse(readFileSync(path.join(summaryDir, file), 'utf8'));
  passed += s.passed;
  failed += s.failed;
  skipped += s.skipped;
  lines.push(`  ${s.name}: ${s.passed} passed, ${s.failed} failed${s.skipped ? `, ${s.skipped} skipped` : ''}`);
}
rmSync(summaryDir, { recursive: true, force: true });
console.log('\nTest totals by package:');
console.log(lines.sort().join('\n'));
const status = result.status ?? 1;
if (status !== 0 && failed === 0) failed = 1; // a suite that crashed before reporting still fails the run
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(status === 0 && failed === 0 ? 0 : 1);
