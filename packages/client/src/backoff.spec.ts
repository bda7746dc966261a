import { computeReconnectDelay } from './backoff.js';
import { RetryJitterType } from './config.js';

/** Deterministic random in [0,1) (mulberry32). */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const base = { minDelayMs: 500, maxDelayMs: 5000, previousDelayMs: 0, random: Math.random };

describe('computeReconnectDelay', () => {
  it('None: min·2^attempt capped at max (500, 1000, 2000, 4000, 5000, 5000)', () => {
    const delays = [0, 1, 2, 3, 4, 5].map((attempt) =>
      computeReconnectDelay({ ...base, jitterMode: RetryJitterType.None, attempt }),
    );
    expect(delays).toEqual([500, 1000, 2000, 4000, 5000, 5000]);
  });

  it('saturates for huge attempts without overflow or NaN', () => {
    for (const jitterMode of [RetryJitterType.None, RetryJitterType.Full, RetryJitterType.Default]) {
      for (const attempt of [63, 64, 1023, 1024, 10_000, Number.MAX_SAFE_INTEGER, Infinity]) {
        const delay = computeReconnectDelay({ ...base, maxDelayMs: 120_000, jitterMode, attempt, random: () => 0.5 });
        expect(delay).toBe(jitterMode === RetryJitterType.None ? 120_000 : 60_000); // Full: floor(0.5 · 120001)
      }
    }
    expect(computeReconnectDelay({ ...base, jitterMode: RetryJitterType.None, attempt: 10_000, minDelayMs: 0 })).toBe(
      0,
    );
  });

  it('treats a negative or NaN attempt as 0', () => {
    expect(computeReconnectDelay({ ...base, jitterMode: RetryJitterType.None, attempt: -3 })).toBe(500);
    expect(computeReconnectDelay({ ...base, jitterMode: RetryJitterType.None, attempt: Number.NaN })).toBe(500);
  });

  it('Full (and Default): an integer in [0, min(max, min·2^attempt)], reaching both ends', () => {
    for (const jitterMode of [RetryJitterType.Full, RetryJitterType.Default]) {
      expect(computeReconnectDelay({ ...base, jitterMode, attempt: 2, random: () => 0 })).toBe(0);
      expect(computeReconnectDelay({ ...base, jitterMode, attempt: 2, random: () => 0.9999999 })).toBe(2000);
    }
    const random = seeded(1);
    for (let attempt = 0; attempt < 12; attempt++) {
      const cap = Math.min(5000, 500 * 2 ** attempt);
      let max = 0;
      for (let i = 0; i < 500; i++) {
        const delay = computeReconnectDelay({ ...base, jitterMode: RetryJitterType.Full, attempt, random });
        expect(Number.isInteger(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(cap);
        max = Math.max(max, delay);
      }
      expect(max).toBeGreaterThan(cap * 0.9); // really spread over the range
    }
  });

  it('Decorrelated: min(max, random in [min, 3·previous]), previous = min when 0', () => {
    const d = (previousDelayMs: number, r: number): number =>
      computeReconnectDelay({
        ...base,
        jitterMode: RetryJitterType.Decorrelated,
        attempt: 7,
        previousDelayMs,
        random: () => r,
      });
    expect(d(0, 0)).toBe(500);
    expect(d(0, 0.9999999)).toBe(1500);
    expect(d(1000, 0)).toBe(500);
    expect(d(1000, 0.9999999)).toBe(3000);
    expect(d(1000, 0.5)).toBe(500 + Math.floor(0.5 * 2501));
    expect(d(4000, 0.9999999)).toBe(5000); // capped
    expect(d(100, 0.9999999)).toBe(500); // 3·previous below min → min
  });

  it('Decorrelated depends on the previous delay, not on the attempt', () => {
    const random = seeded(7);
    let previous = 0;
    const samples: number[] = [];
    for (let i = 0; i < 5_000; i++) {
      const delay = computeReconnectDelay({
        ...base,
        jitterMode: RetryJitterType.Decorrelated,
        attempt: i,
        previousDelayMs: previous,
        random,
      });
      expect(Number.isInteger(delay)).toBe(true);
      expect(delay).toBeGreaterThanOrEqual(500);
      expect(delay).toBeLessThanOrEqual(Math.min(5000, 3 * (previous || 500)));
      samples.push(delay);
      previous = delay;
    }
    const same = (previousDelayMs: number): number =>
      computeReconnectDelay({
        ...base,
        jitterMode: RetryJitterType.Decorrelated,
        attempt: 0,
        previousDelayMs,
        random: () => 0.9,
      });
    expect(same(600)).toBeLessThan(same(1600));
    expect(new Set(samples).size).toBeGreaterThan(1000);
  });

  it('stays in bounds whatever random returns', () => {
    for (const r of [-1, 1, 2, Number.NaN, Infinity]) {
      for (const jitterMode of [RetryJitterType.Full, RetryJitterType.Decorrelated]) {
        const delay = computeReconnectDelay({
          ...base,
          jitterMode,
          attempt: 3,
          previousDelayMs: 1000,
          random: () => r,
        });
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(5000);
        expect(Number.isInteger(delay)).toBe(true);
      }
    }
  });
});
