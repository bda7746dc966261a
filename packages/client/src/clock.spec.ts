import { systemClock } from './clock.js';

describe('systemClock', () => {
  it('reads a monotonic millisecond clock', () => {
    const a = systemClock.now();
    const b = systemClock.now();
    expect(typeof a).toBe('number');
    expect(b).toBeGreaterThanOrEqual(a);
    expect(Math.abs(a - performance.now())).toBeLessThan(1000);
  });

  it('runs a timer once and can cancel another', async () => {
    const fired: string[] = [];
    systemClock.setTimeout(() => fired.push('a'), 1);
    const cancelled = systemClock.setTimeout(() => fired.push('b'), 1);
    systemClock.clearTimeout(cancelled);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fired).toEqual(['a']);
  });

  it('does not fire a delay beyond 2^31-1 ms at once (Node would), and can cancel it', async () => {
    const spy = jest.spyOn(globalThis, 'setTimeout');
    const fired = jest.fn();
    const handle = systemClock.setTimeout(fired, 3_000_000_000);
    const delays = spy.mock.calls.map((call) => call[1]);
    expect(delays).toContain(2_147_483_647);
    await new Promise((resolve) => setImmediate(resolve));
    expect(fired).not.toHaveBeenCalled();
    const clear = jest.spyOn(globalThis, 'clearTimeout');
    systemClock.clearTimeout(handle);
    expect(clear).toHaveBeenCalledTimes(1);
  });

  it('ignores clearing nothing', () => {
    expect(() => systemClock.clearTimeout(undefined)).not.toThrow();
    expect(() => systemClock.clearTimeout(null)).not.toThrow();
  });
});

describe('systemClock long delays (jest fake timers)', () => {
  afterEach(() => jest.useRealTimers());

  it('fires a 3e9 ms timer at its deadline, not before', () => {
    jest.useFakeTimers();
    const fired = jest.fn();
    systemClock.setTimeout(fired, 3_000_000_000);
    jest.advanceTimersByTime(2_999_999_000);
    expect(fired).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1_000);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it('cancels a long timer after it re-armed', () => {
    jest.useFakeTimers();
    const fired = jest.fn();
    const handle = systemClock.setTimeout(fired, 5_000_000_000);
    jest.advanceTimersByTime(3_000_000_000);
    systemClock.clearTimeout(handle);
    jest.advanceTimersByTime(5_000_000_000);
    expect(fired).not.toHaveBeenCalled();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('never fires an infinite delay', () => {
    jest.useFakeTimers();
    const fired = jest.fn();
    const handle = systemClock.setTimeout(fired, Infinity);
    jest.advanceTimersByTime(10 * 2_147_483_647);
    expect(fired).not.toHaveBeenCalled();
    systemClock.clearTimeout(handle);
    expect(jest.getTimerCount()).toBe(0);
  });
});
