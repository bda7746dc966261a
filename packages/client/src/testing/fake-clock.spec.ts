import { FakeClock } from './index.js';

describe('FakeClock', () => {
  it('starts at the given time and only moves when advanced', () => {
    expect(new FakeClock().now()).toBe(0);
    const clock = new FakeClock(1_000);
    expect(clock.now()).toBe(1_000);
    clock.advance(250);
    expect(clock.now()).toBe(1_250);
    expect(() => new FakeClock(Number.NaN)).toThrow(RangeError);
  });

  it('runs due timers in deadline order, FIFO for equal deadlines, with now() at each deadline', () => {
    const clock = new FakeClock();
    const log: string[] = [];
    clock.setTimeout(() => log.push(`c@${clock.now()}`), 30);
    clock.setTimeout(() => log.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => log.push(`b1@${clock.now()}`), 20);
    clock.setTimeout(() => log.push(`b2@${clock.now()}`), 20);
    clock.advance(19);
    expect(log).toEqual(['a@10']);
    clock.advance(1);
    expect(log).toEqual(['a@10', 'b1@20', 'b2@20']);
    clock.advance(100);
    expect(log).toEqual(['a@10', 'b1@20', 'b2@20', 'c@30']);
    expect(clock.now()).toBe(120);
  });

  it('runs timers scheduled while advancing when they fall inside the window', () => {
    const clock = new FakeClock();
    const log: number[] = [];
    const tick = (): void => {
      log.push(clock.now());
      clock.setTimeout(tick, 100);
    };
    clock.setTimeout(tick, 100);
    clock.advance(350);
    expect(log).toEqual([100, 200, 300]);
    expect(clock.nextTimerAt()).toBe(400);
    expect(clock.pendingTimerCount()).toBe(1);
  });

  it('treats a delay below 1 ms as 1 ms, so a self re-arming timer cannot spin forever', () => {
    const clock = new FakeClock();
    let runs = 0;
    const again = (): void => {
      runs++;
      clock.setTimeout(again, 0);
    };
    clock.setTimeout(again, 0);
    clock.advance(0);
    expect(runs).toBe(0);
    clock.advance(10);
    expect(runs).toBe(10);
  });

  it('clears timers, including from inside another timer, and ignores foreign or stale handles', () => {
    const clock = new FakeClock();
    const other = new FakeClock();
    const fired: string[] = [];
    const a = clock.setTimeout(() => fired.push('a'), 10);
    const later: unknown[] = [];
    clock.setTimeout(() => {
      fired.push('b');
      clock.clearTimeout(later[0]);
    }, 5);
    later.push(clock.setTimeout(() => fired.push('c'), 7));
    const d = clock.setTimeout(() => fired.push('d'), 1);
    clock.clearTimeout(a);
    clock.clearTimeout(a);
    other.clearTimeout(d);
    clock.clearTimeout({});
    clock.clearTimeout(undefined);
    expect(clock.pendingTimerCount()).toBe(3);
    clock.advance(100);
    expect(fired).toEqual(['d', 'b']);
    expect(clock.pendingTimerCount()).toBe(0);
    expect(clock.nextTimerAt()).toBeUndefined();
    clock.clearTimeout(d); // already fired
  });

  it('keeps deadline order over many random timers and cancellations', () => {
    const clock = new FakeClock();
    let seed = 42;
    const rand = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const fired: Array<[number, number]> = [];
    const handles: unknown[] = [];
    const expected: Array<[number, number]> = [];
    for (let i = 0; i < 2_000; i++) {
      const delay = 1 + Math.floor(rand() * 500);
      handles.push(clock.setTimeout(() => fired.push([clock.now(), i]), delay));
      expected.push([delay, i]);
    }
    const cancelled = new Set<number>();
    for (let i = 0; i < 2_000; i += 3) {
      clock.clearTimeout(handles[i]);
      cancelled.add(i);
    }
    clock.advance(1_000);
    const want = expected.filter(([, i]) => !cancelled.has(i)).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    expect(fired).toEqual(want);
  });

  it('propagates a callback error and leaves time at that timer', () => {
    const clock = new FakeClock();
    const later = jest.fn();
    clock.setTimeout(() => {
      throw new Error('boom');
    }, 10);
    clock.setTimeout(later, 20);
    expect(() => clock.advance(50)).toThrow('boom');
    expect(clock.now()).toBe(10);
    clock.advance(40);
    expect(later).toHaveBeenCalledTimes(1);
  });

  it('rejects advancing by a negative or non-finite amount', () => {
    const clock = new FakeClock();
    expect(() => clock.advance(-1)).toThrow(RangeError);
    expect(() => clock.advance(Number.NaN)).toThrow(RangeError);
    expect(() => clock.advance(Infinity)).toThrow(RangeError);
  });

  it('never fires an infinite delay', () => {
    const clock = new FakeClock();
    const never = jest.fn();
    clock.setTimeout(never, Infinity);
    clock.advance(Number.MAX_SAFE_INTEGER);
    expect(never).not.toHaveBeenCalled();
    expect(clock.nextTimerAt()).toBe(Infinity);
  });

  describe('advanceAsync', () => {
    it('lets promise continuations, nextTicks and setImmediates run between timers', async () => {
      const clock = new FakeClock();
      const log: string[] = [];
      const sleep = (ms: number): Promise<void> => new Promise((resolve) => clock.setTimeout(resolve, ms));
      const task = (async () => {
        await sleep(100);
        log.push(`first@${clock.now()}`);
        await new Promise<void>((resolve) => process.nextTick(resolve));
        await new Promise<void>((resolve) => setImmediate(resolve));
        await sleep(100); // scheduled at 100 (after async hops), due at 200: inside the window
        log.push(`second@${clock.now()}`);
      })();
      await clock.advanceAsync(250);
      expect(log).toEqual(['first@100', 'second@200']);
      expect(clock.now()).toBe(250);
      await task;
    });

    it('the synchronous advance does not wait for continuations', () => {
      const clock = new FakeClock();
      const log: string[] = [];
      void (async () => {
        await new Promise<void>((resolve) => clock.setTimeout(resolve, 100));
        clock.setTimeout(() => log.push('second'), 100);
      })();
      clock.advance(250);
      expect(log).toEqual([]);
    });
  });

  describe('runAllAsync', () => {
    it('runs every timer, including chained async ones, jumping time', async () => {
      const clock = new FakeClock();
      const log: number[] = [];
      void (async () => {
        for (let i = 0; i < 5; i++) {
          await new Promise<void>((resolve) => clock.setTimeout(resolve, 1_000));
          log.push(clock.now());
        }
      })();
      await clock.runAllAsync();
      expect(log).toEqual([1_000, 2_000, 3_000, 4_000, 5_000]);
      expect(clock.pendingTimerCount()).toBe(0);
    });

    it('throws past maxTimers for a timer that never runs dry', async () => {
      const clock = new FakeClock();
      const tick = (): void => void clock.setTimeout(tick, 10);
      clock.setTimeout(tick, 10);
      await expect(clock.runAllAsync(50)).rejects.toThrow(/after 50 ran/);
      expect(clock.now()).toBe(500);
    });

    it('throws rather than jump to an infinite deadline', async () => {
      const clock = new FakeClock();
      clock.setTimeout(() => undefined, Infinity);
      await expect(clock.runAllAsync()).rejects.toThrow(/never fires/);
    });
  });
});
