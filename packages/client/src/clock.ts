/**
 * The one time source of a client: every timer (CONNACK timeout, keep-alive, ping timeout, ack
 * timeouts, reconnect backoff, flow-control waits) goes through a {@link Clock}, so tests can run
 * protocol timeouts in fake time (see `FakeClock` in `@mqtt5/client/testing`).
 *
 * @packageDocumentation
 */

/** Opaque timer handle: only meaningful to the {@link Clock} that returned it. */
export type TimerHandle = unknown;

/** One clock for every timer of a client; injectable so tests run protocol timeouts in fake time. */
export interface Clock {
  /** Milliseconds, monotonic (`performance.now()`-like); only differences between readings mean anything. */
  now(): number;
  /**
   * Runs `callback` once, `delayMs` milliseconds from now. Like Node's `setTimeout`, a delay below 1
   * (or NaN) counts as 1 ms; `Infinity` never fires.
   */
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  /** Cancels a timer. Unknown, already fired or already cleared handles are ignored. */
  clearTimeout(handle: TimerHandle): void;
}

/** The longest delay Node's `setTimeout` honours; longer ones would fire after 1 ms. */
const MAX_NATIVE_DELAY_MS = 2_147_483_647;

/** A timer longer than Node supports, re-armed in steps of at most ~24.8 days. */
class LongTimer {
  handle: ReturnType<typeof setTimeout> | undefined;
  constructor(
    readonly deadline: number,
    readonly callback: () => void,
  ) {}
}

function armLongTimer(timer: LongTimer): void {
  const remaining = timer.deadline - performance.now();
  if (remaining > MAX_NATIVE_DELAY_MS) {
    timer.handle = setTimeout(() => armLongTimer(timer), MAX_NATIVE_DELAY_MS);
  } else {
    timer.handle = setTimeout(timer.callback, Math.max(1, remaining));
  }
}

/**
 * The real clock: `performance.now()` and the global `setTimeout`/`clearTimeout`.
 *
 * Timers are ref'd: a started client keeps the process alive, also while it waits to reconnect.
 * Delays beyond Node's 2^31−1 ms limit are honoured (re-armed in steps) instead of firing at once.
 */
export const systemClock: Clock = Object.freeze({
  now(): number {
    return performance.now();
  },
  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    const delay = delayMs >= 1 ? delayMs : 1; // Node's rule: below 1 ms (or NaN) → 1 ms
    if (delay <= MAX_NATIVE_DELAY_MS) return setTimeout(callback, delay);
    const timer = new LongTimer(performance.now() + delay, callback);
    armLongTimer(timer);
    return timer;
  },
  clearTimeout(handle: TimerHandle): void {
    if (handle instanceof LongTimer) {
      if (handle.handle !== undefined) clearTimeout(handle.handle);
      handle.handle = undefined;
      return;
    }
    if (handle != null) clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
});
