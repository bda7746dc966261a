// The README's error table is generated from ERROR_DESCRIPTIONS. This test fails when they differ;
// `pnpm readme:errors` (UPDATE_README=1) rewrites the table.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ERROR_CODES, describeError } from './errors.js';

const README = path.join(__dirname, '..', 'README.md');
const START = '<!-- error-table:start (generated from ERROR_DESCRIPTIONS: pnpm readme:errors) -->';
const END = '<!-- error-table:end -->';

function table(): string {
  const rows = ERROR_CODES.map((code) => `| \`${code}\` | ${describeError(code).replace(/\|/g, '\\|')} |`);
  return ['| Code | Meaning |', '|---|---|', ...rows].join('\n');
}

/** The [code, meaning] rows of a Markdown table (whatever its padding). */
function rows(markdown: string): [string, string][] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|\s*-/.test(line))
    .slice(1)
    .map((line) => {
      const cells = line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim().replace(/\\\|/g, '|'));
      return [(cells[0] ?? '').replace(/`/g, ''), cells[1] ?? ''];
    });
}

describe('README', () => {
  it('lists every error code with its description, in ERROR_DESCRIPTIONS order', () => {
    const text = readFileSync(README, 'utf8');
    const start = text.indexOf(START);
    const end = text.indexOf(END);
    expect(start).toBeGreaterThan(-1);
    expect(end).toBeGreaterThan(start);
    if (process.env.UPDATE_README === '1') {
      writeFileSync(README, `${text.slice(0, start)}${START}\n${table()}\n${text.slice(end)}`);
      return;
    }
    const expected = ERROR_CODES.map((code) => [code, describeError(code)]);
    expect(rows(text.slice(start + START.length, end))).toEqual(expected);
  });
});
