/**
 * Token bucket used for AWS IoT Core's publish-rate and throughput limits (reference §5).
 *
 * @packageDocumentation
 */
import type { Clock } from './clock.js';

/** Options of {@link TokenBucket}. */
export interface TokenBucketOptions {
  /** Tokens regenerated per second (> 0). */
  ratePerSecond: number;
  /** Most tokens the bucket holds (> 0). */
  capacity: number;
  /** Tokens at construction, 0..capacity (default 0). */
  initialTokens?: number;
  /** Time source. */
  clock: Clock;
}

/**
 * Float rounding slack, in tokens: a wait computed by {@link TokenBucket.msUntilAvailable} always
 * ends with the tokens available, even when `rate·elapsed` rounds a hair low.
 */
const EPSILON_TOKENS = 1e-6;

/**
 * Token bucket with high-resolution continuous regeneration:
 * `tokens = min(capacity, tokens + rate·elapsed)`, computed from the clock on every call, so there
 * is no drift over long runs (fractional tokens carry over; no per-tick rounding).
 *
 * A request larger than the capacity is granted once the bucket is full and leaves it in debt
 * (negative tokens), so the long-run rate still holds.
 */
export class TokenBucket {
  readonly #ratePerMs: number;
  readonly #capacity: number;
  readonly #clock: Clock;
  #tokens: number;
  #updatedAt: number;

  /** @throws RangeError for a non-positive or non-finite rate or capacity, or initial tokens outside 0..capacity. */
  constructor(options: TokenBucketOptions) {
    const { ratePerSecond, capacity, initialTokens = 0, clock } = options;
    if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) {
      throw new RangeError(`TokenBucket ratePerSecond must be a finite number > 0, got ${ratePerSecond}`);
    }
    if (!(capacity > 0) || !Number.isFinite(capacity)) {
      throw new RangeError(`TokenBucket capacity must be a finite number > 0, got ${capacity}`);
    }
    if (!(initialTokens >= 0 && initialTokens <= capacity)) {
      throw new RangeError(`TokenBucket initialTokens must be in 0..${capacity}, got ${initialTokens}`);
    }
    this.#ratePerMs = ratePerSecond / 1000;
    this.#capacity = capacity;
    this.#clock = clock;
    this.#tokens = initialTokens;
    this.#updatedAt = clock.now();
  }

  /** Sets the bucket to `tokens` (default 0: IoT Core buckets start empty at each connection), clamped to 0..capacity. */
  reset(tokens = 0): void {
    this.#tokens = tokens > 0 ? Math.min(tokens, this.#capacity) : 0;
    this.#updatedAt = this.#clock.now();
  }

  /** Takes `n` tokens if they are available now; returns whether it did. `n <= 0` always succeeds. */
  tryTake(n: number): boolean {
    if (!(n > 0)) {
      if (Number.isNaN(n)) throw new RangeError('TokenBucket.tryTake needs a number of tokens, got NaN');
      return true;
    }
    this.#regenerate();
    if (this.#tokens + EPSILON_TOKENS < Math.min(n, this.#capacity)) return false;
    this.#tokens -= n;
    return true;
  }

  /**
   * Milliseconds (whole, rounded up) until `n` tokens are available: 0 if now; for `n` above the
   * capacity, the time until the bucket is full.
   */
  msUntilAvailable(n: number): number {
    this.#regenerate();
    const missing = Math.min(n, this.#capacity) - this.#tokens;
    if (!(missing > EPSILON_TOKENS)) return 0;
    return Math.max(1, Math.ceil(missing / this.#ratePerMs - 1e-6));
  }

  /** Tokens available now (fractional; 0 while in debt). */
  available(): number {
    this.#regenerate();
    return this.#tokens > 0 ? this.#tokens : 0;
  }

  #regenerate(): void {
    const now = this.#clock.now();
    const elapsed = now - this.#updatedAt;
    if (elapsed <= 0) return; // a clock that goes backwards (it should not) never takes tokens away
    this.#updatedAt = now;
    const tokens = this.#tokens + elapsed * this.#ratePerMs;
    this.#tokens = tokens < this.#capacity ? tokens : this.#capacity;
  }
}
