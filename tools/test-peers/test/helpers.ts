import fs from 'node:fs';
import { isProcessRunning } from '../src/index.js';

/** Asserts `pid` is gone (not running, not a zombie). */
export function expectGone(pid: number): void {
  expect(isProcessRunning(pid)).toBe(false);
}

/** Error code (or message) of a rejected promise. */
export async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return e.code ?? e.message;
  }
  throw new Error('expected a rejection');
}

export function readText(file: string): string {
  return fs.readFileSync(file, 'utf8');
}
