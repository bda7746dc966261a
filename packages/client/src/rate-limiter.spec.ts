import { TokenBucket } from './rate-limiter.js';
import { FakeClock } from './testing/index.js';

describe('TokenBucket', () => {
  it('rejects an invalid configuration', () => {
    const clock = new FakeClock();
    expect(() => new TokenBucket({ ratePerSecond: 0, capacity: 10, clock })).toThrow(RangeError);
    expect(() => new TokenBucket({ ratePerSecond: Infinity, capacity: 10, clock })).toThrow(RangeError);
    expect(() => new TokenBucket({ ratePerSecond: 10, capacity: 0, clock })).toThrow(RangeError);
    expect(() => new TokenBucket({ ratePerSecond: 10, capacity: Number.NaN, clock })).toThrow(RangeError);
    expect(() => new TokenBucket({ ratePerSecond: 10, capacity: 10, initialTokens: 11, clock })).toThrow(RangeError);
    expect(() => new TokenBucket({ ratePerSecond: 10, capacity: 10, initialTokens: -1, clock })).toThrow(RangeError);
  });

  it('starts empty by default and regenerates continuously up to the capacity', () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ ratePerSecond: 100, capacity: 100, clock });
    expect(bucket.available()).toBe(0);
    expect(bucket.tryTake(1)).toBe(false);
    clock.advance(10);
    expect(bucket.available()).toBeCloseTo(1, 9);
    expect(bucket.tryTake(1)).toBe(true);
    expect(bucket.tryTake(1)).toBe(false);
    clock.advance(5);
    expect(bucket.available()).toBeCloseTo(0.5, 9); // fractional tokens carry over
    clock.advance(60_000);
    expect(bucket.available()).toBe(100);
    expect(bucket.tryTake(100)).toBe(true);
    expect(bucket.tryTake(1)).toBe(false);
  });

  it('honours initialTokens', () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ ratePerSecond: 1, capacity: 10, initialTokens: 3, clock });
    expect(bucket.tryTake(3)).toBe(true);
    expect(bucket.tryTake(1)).toBe(false);
  });

  it('says how long until n tokens exist, and they do exist then', () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ ratePerSecond: 524_288, capacity: 524_288, clock });
    expect(bucket.msUntilAvailable(0)).toBe(0);
    const wait = bucket.msUntilAvailable(4352); // 8.3 ms → 9
    expect(wait).toBe(9);
    clock.advance(wait - 1);
    expect(bucket.tryTake(4352)).toBe(false);
    clock.advance(1);
    expect(bucket.tryTake(4352)).toBe(true);
    // the extra 0.7 ms of tokens stayed in the bucket: no loss from rounding up
    expect(bucket.available()).toBeCloseTo(9 * 524.288 - 4352, 6);
  });

  it('for n above the capacity waits until full, then grants it into debt', () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ ratePerSecond: 10, capacity: 10, clock });
    expect(bucket.msUntilAvailable(25)).toBe(1000);
    clock.advance(999);
    expect(bucket.tryTake(25)).toBe(false);
    clock.advance(1);
    expect(bucket.tryTake(25)).toBe(true);
    expect(bucket.available()).toBe(0);
    expect(bucket.msUntilAvailable(1)).toBe(1600); // 15 tokens of debt + 1
  });

  it('reset empties the bucket (or sets it, clamped)', () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ ratePerSecond: 100, capacity: 100, clock });
    clock.advance(10_000);
    bucket.reset();
    expect(bucket.available()).toBe(0);
    bucket.reset(40);
    expect(bucket.available()).toBe(40);
    bucket.reset(1e9);
    expect(bucket.available()).toBe(100);
  });

  it('treats n <= 0 as free and NaN as an error', () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ ratePerSecond: 1, capacity: 1, clock });
    expect(bucket.tryTake(0)).toBe(true);
    expect(() => bucket.tryTake(Number.NaN)).toThrow(RangeError);
  });

  it('does not drift over a long run with fractional rates (integral and fractional regeneration)', () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ ratePerSecond: 3, capacity: 3, clock });
    let taken = 0;
    for (let ms = 0; ms < 1_000_000; ms += 7) {
      // 1000 s in 7 ms steps
      clock.advance(7);
      while (bucket.tryTake(1)) taken++;
    }
    const elapsedSeconds = clock.now() / 1000;
    expect(Math.abs(taken - 3 * elapsedSeconds)).toBeLessThanOrEqual(1);
  });

  it('reaches the configured rate when a consumer sleeps exactly msUntilAvailable', () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket({ ratePerSecond: 100, capacity: 100, clock });
    let sent = 0;
    for (let i = 0; i < 100_000 && clock.now() < 10_000; i++) {
      if (bucket.tryTake(1)) sent++;
      else clock.advance(bucket.msUntilAvailable(1));
    }
    expect(sent).toBeGreaterThanOrEqual(999);
    expect(sent).toBeLessThanOrEqual(1001);
  });
});
