/**
 * Reconnect backoff: the delay before each reconnect attempt.
 *
 * @packageDocumentation
 */
import { RetryJitterType } from './config.js';

/** Exponents above this saturate: `min·2^62` exceeds any sane cap and stays finite. */
const MAX_EXPONENT = 62;

/** Parameters of {@link computeReconnectDelay}. */
export interface ReconnectDelayParams {
  /** The jitter formula (`Default` behaves as `Full`). */
  jitterMode: RetryJitterType;
  /** 0-based: how many times the client entered PENDING_RECONNECT before this one since the last reset. */
  attempt: number;
  /** Backoff base in ms. */
  minDelayMs: number;
  /** Backoff cap in ms. */
  maxDelayMs: number;
  /** The delay returned for the previous attempt (0 after a reset); used by `Decorrelated` only. */
  previousDelayMs: number;
  /** Random source in [0,1). */
  random: () => number;
}

/**
 * Delay in whole milliseconds before reconnect attempt number `attempt` (0-based: the count of
 * PENDING_RECONNECT entries before this one).
 *
 * With `cap = min(maxDelayMs, minDelayMs·2^attempt)` (saturating: no overflow or NaN for any attempt):
 * - `None`: `cap` — e.g. min 500, max 5000 → 500, 1000, 2000, 4000, 5000, 5000, …
 * - `Full` (and `Default`): a uniformly random integer in `[0, cap]`.
 * - `Decorrelated`: `min(maxDelayMs, uniformly random integer in [minDelayMs, 3·previous])` where
 *   `previous = previousDelayMs`, or `minDelayMs` when it is 0 (AWS "decorrelated jitter"; unlike the
 *   reference client, where it accidentally behaves as Full, this really depends on the previous delay).
 *
 * The result is always an integer in `[0, maxDelayMs]`, also if `random` misbehaves.
 */
export function computeReconnectDelay(params: ReconnectDelayParams): number {
  const maxDelay = clampMs(params.maxDelayMs);
  const minDelay = Math.min(maxDelay, clampMs(params.minDelayMs));

  if (params.jitterMode === RetryJitterType.Decorrelated) {
    const previous =
      params.previousDelayMs > 0 && Number.isFinite(params.previousDelayMs) ? params.previousDelayMs : minDelay;
    const upper = Math.max(minDelay, Math.floor(3 * previous));
    return Math.min(maxDelay, randomIntegerIn(minDelay, upper, params.random));
  }

  const attempt = params.attempt > MAX_EXPONENT ? MAX_EXPONENT : params.attempt > 0 ? Math.floor(params.attempt) : 0;
  const cap = Math.floor(Math.min(maxDelay, minDelay * 2 ** attempt));
  if (params.jitterMode === RetryJitterType.None) return cap;
  return randomIntegerIn(0, cap, params.random);
}

/** A uniformly random integer in `[low, high]`, clamped into the range whatever `random` returns. */
function randomIntegerIn(low: number, high: number, random: () => number): number {
  const r = random();
  const value = low + Math.floor((Number.isFinite(r) ? r : 0) * (high - low + 1));
  return value < low ? low : value > high ? high : value;
}

/** Into `[0, MAX_SAFE_INTEGER]`; NaN → 0. */
function clampMs(value: number): number {
  if (!(value > 0)) return 0;
  return value > Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : value;
}
