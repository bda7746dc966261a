// The driving loops of a cell, kept free of I/O so they can be unit-tested: a bounded window of
// operations, a stall watchdog, and a timeout wrapper.

/** A run whose counts did not verify (as opposed to a harness or environment error). */
export class VerificationError extends Error {}

/** Rejects after `ms` unless `promise` settles first. */
export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${Math.round(ms)} ms: ${what}`)), ms);
    }),
  ]);
}

/**
 * Runs `n` operations keeping at most `window` of them incomplete. `makeIssue(done)` returns a
 * function that starts one operation and calls `done(err)` when it completes (possibly
 * synchronously: the loop below is a trampoline, not a recursion). Returns `{ promise, state }`;
 * `state.completed` keeps counting after the promise resolved, so a client that completes an
 * operation twice is caught by the caller.
 */
export function runWindow(n, window, makeIssue) {
  const state = { issued: 0, completed: 0 };
  const promise = new Promise((resolve, reject) => {
    if (n === 0) return resolve();
    let credits = Math.min(Math.max(1, window), n);
    let pumping = false;
    let failed = false;
    const done = (err) => {
      if (failed) return;
      if (err) {
        failed = true;
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      state.completed++;
      if (state.completed === n) resolve();
      else if (state.issued < n) {
        credits++;
        if (!pumping) pump();
      }
    };
    const issue = makeIssue(done);
    const pump = () => {
      pumping = true;
      try {
        while (credits > 0 && state.issued < n && !failed) {
          credits--;
          state.issued++;
          issue();
        }
      } catch (err) {
        done(err);
      } finally {
        pumping = false;
      }
    };
    pump();
  });
  return { promise, state };
}

/**
 * Rejects when `progress()` has not changed for `stallMs` (checked every `everyMs`), so that a
 * client that loses messages or never settles a promise fails in seconds, not at the cell
 * timeout. `stop()` ends the watch. `poll()` (optional, async) refreshes what progress() reads.
 */
export function stallWatch(progress, { stallMs = 3000, everyMs = 250, poll, what }) {
  let timer = null;
  let stopped = false;
  const promise = new Promise((_, reject) => {
    let last = progress();
    let lastChange = Date.now();
    const tick = async () => {
      if (stopped) return;
      try {
        if (poll) await poll();
      } catch (err) {
        if (!stopped) reject(err);
        return;
      }
      if (stopped) return;
      const now = progress();
      if (now !== last) {
        last = now;
        lastChange = Date.now();
      } else if (Date.now() - lastChange >= stallMs) {
        reject(new VerificationError(`no progress for ${stallMs / 1000} s: ${what()}`));
        return;
      }
      timer = setTimeout(tick, everyMs);
    };
    timer = setTimeout(tick, everyMs);
  });
  promise.catch(() => {});
  return {
    promise,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

