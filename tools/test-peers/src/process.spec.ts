import { isProcessRunning } from './process.js';

describe('isProcessRunning', () => {
  it('is true for this process and false for invalid pids', () => {
    expect(isProcessRunning(process.pid)).toBe(true);
    expect(isProcessRunning(0)).toBe(false);
    expect(isProcessRunning(-1)).toBe(false);
    expect(isProcessRunning(1.5)).toBe(false);
    expect(isProcessRunning(2 ** 22 + 1)).toBe(false); // above Linux's pid_max
  });
});
