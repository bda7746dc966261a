import type { Clock, TimerHandle } from '../clock.js';

/** One scheduled timer of a {@link FakeClock}; doubles as its handle. */
class FakeTimer {
  /** Position in the heap, -1 once it left the heap (fired or cleared). */
  index = -1;
  constructor(
    readonly owner: FakeClock,
    readonly deadline: number,
    readonly seq: number,
    readonly callback: () => void,
  ) {}
}

/** Earlier deadline first; equal deadlines in scheduling order. */
function before(a: FakeTimer, b: FakeTimer): boolean {
  return a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);
}

// Captured at load so that a test installing jest fake timers later cannot stall `advanceAsync`.
const realSetImmediate = setImmediate;

/** How many event-loop turns `advanceAsync` yields after each timer so async work settles. */
const SETTLE_TURNS = 3;

/** Safety net: one `advance` running more timers than this is a runaway timer loop. */
const MAX_TIMERS_PER_ADVANCE = 1_000_000;

async function settle(): Promise<void> {
  for (let i = 0; i < SETTLE_TURNS; i++) await new Promise<void>((resolve) => realSetImmediate(resolve));
}

/**
 * A manually driven {@link Clock} for tests: time only moves when the test says so, and timers run
 * in deadline order (first scheduled first for equal deadlines). Pass it as the client's `clock`
 * option to run keep-alive, ack timeouts and reconnect backoff in fake time.
 *
 * As with Node's timers, a delay below 1 ms (or NaN) counts as 1 ms, so a timer that re-arms itself
 * always moves time forward, and `Infinity` never fires.
 *
 * @example
 * ```ts
 * const clock = new FakeClock();
 * const client = new Mqtt5Client({ connector, clock });
 * client.start();
 * await clock.advanceAsync(30_000); // keep-alive and ping timeout run, promises settle
 * ```
 */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #heap: FakeTimer[] = [];

  /** @param startMs the initial reading of {@link FakeClock.now} (default 0). */
  constructor(startMs = 0) {
    if (!Number.isFinite(startMs)) throw new RangeError(`FakeClock start time must be finite, got ${startMs}`);
    this.#now = startMs;
  }

  /** The current fake time in milliseconds. */
  now(): number {
    return this.#now;
  }

  /** Schedules `callback` at `now() + delayMs` (delays below 1 ms count as 1 ms). */
  setTimeout(callback: () => void, delayMs: number): TimerHandle {
    if (typeof callback !== 'function') throw new TypeError('FakeClock.setTimeout needs a callback function');
    const delay = delayMs >= 1 ? delayMs : 1; // as Node: below 1 ms (or NaN) → 1 ms
    const timer = new FakeTimer(this, this.#now + delay, this.#seq++, callback);
    this.#push(timer);
    return timer;
  }

  /** Cancels a pending timer; unknown, fired or cleared handles are ignored. */
  clearTimeout(handle: TimerHandle): void {
    if (!(handle instanceof FakeTimer) || handle.owner !== this || handle.index < 0) return;
    this.#removeAt(handle.index);
  }

  /**
   * Advances time by `ms`, running due timers in deadline order (FIFO for equal deadlines); timers
   * scheduled while advancing that fall inside the window run too. Synchronous: promise
   * continuations do not run in between (use {@link FakeClock.advanceAsync} for that). `now()`
   * reads each timer's deadline while its callback runs. An exception thrown by a callback
   * propagates, leaving the clock at that timer's deadline.
   */
  advance(ms: number): void {
    const target = this.#target(ms);
    let ran = 0;
    for (let timer = this.#due(target); timer !== undefined; timer = this.#due(target)) {
      if (++ran > MAX_TIMERS_PER_ADVANCE)
        throw new Error(`FakeClock.advance ran more than ${MAX_TIMERS_PER_ADVANCE} timers`);
      this.#fire(timer);
    }
    this.#now = target;
  }

  /**
   * Like {@link FakeClock.advance}, but before the first timer, between timers and at the end it
   * lets queued microtasks, `process.nextTick` and `setImmediate` callbacks run (a few real
   * event-loop turns), so promise continuations and I/O-free async code settle. Use this from
   * async tests.
   */
  async advanceAsync(ms: number): Promise<void> {
    const target = this.#target(ms);
    await settle();
    let ran = 0;
    for (let timer = this.#due(target); timer !== undefined; timer = this.#due(target)) {
      if (++ran > MAX_TIMERS_PER_ADVANCE) {
        throw new Error(`FakeClock.advanceAsync ran more than ${MAX_TIMERS_PER_ADVANCE} timers`);
      }
      this.#fire(timer);
      await settle();
    }
    this.#now = Math.max(this.#now, target);
    await settle();
  }

  /**
   * Runs timers (jumping time to each deadline, settling async work in between like
   * {@link FakeClock.advanceAsync}) until none is pending. Throws once `maxTimers` ran and timers
   * are still pending (a periodic timer such as keep-alive never runs dry), so it always ends.
   *
   * @param maxTimers the most timers to run (default 10 000).
   */
  async runAllAsync(maxTimers = 10_000): Promise<void> {
    await settle();
    for (let ran = 0; this.#heap.length > 0; ran++) {
      if (ran >= maxTimers) {
        throw new Error(`FakeClock.runAllAsync: ${this.#heap.length} timer(s) still pending after ${maxTimers} ran`);
      }
      const timer = this.#heap[0] as FakeTimer;
      if (timer.deadline === Infinity) {
        throw new Error('FakeClock.runAllAsync: a pending timer never fires (infinite delay)');
      }
      this.#removeAt(0);
      this.#fire(timer);
      await settle();
    }
  }

  /** How many timers are scheduled and not yet fired or cleared. */
  pendingTimerCount(): number {
    return this.#heap.length;
  }

  /** Deadline (absolute ms, comparable to `now()`) of the next timer, or undefined when none is pending. */
  nextTimerAt(): number | undefined {
    return this.#heap[0]?.deadline;
  }

  #target(ms: number): number {
    if (!(ms >= 0) || !Number.isFinite(ms))
      throw new RangeError(`FakeClock can only advance by a finite ms >= 0, got ${ms}`);
    return this.#now + ms;
  }

  /** Removes and returns the next timer due at or before `target`. */
  #due(target: number): FakeTimer | undefined {
    const head = this.#heap[0];
    if (head === undefined || head.deadline > target) return undefined;
    this.#removeAt(0);
    return head;
  }

  #fire(timer: FakeTimer): void {
    if (timer.deadline > this.#now) this.#now = timer.deadline;
    timer.callback();
  }

  // ---- binary min-heap on (deadline, seq) with index tracking for O(log n) clearTimeout ----

  #push(timer: FakeTimer): void {
    timer.index = this.#heap.length;
    this.#heap.push(timer);
    this.#siftUp(timer.index);
  }

  #removeAt(index: number): void {
    const heap = this.#heap;
    const removed = heap[index] as FakeTimer;
    const last = heap.pop() as FakeTimer;
    removed.index = -1;
    if (last === removed) return;
    heap[index] = last;
    last.index = index;
    this.#siftUp(index);
    this.#siftDown(last.index);
  }

  #siftUp(index: number): void {
    const heap = this.#heap;
    const timer = heap[index] as FakeTimer;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex] as FakeTimer;
      if (!before(timer, parent)) break;
      heap[index] = parent;
      parent.index = index;
      index = parentIndex;
    }
    heap[index] = timer;
    timer.index = index;
  }

  #siftDown(index: number): void {
    const heap = this.#heap;
    const length = heap.length;
    const timer = heap[index] as FakeTimer;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      let child = left;
      if (right < length && before(heap[right] as FakeTimer, heap[left] as FakeTimer)) child = right;
      const childTimer = heap[child] as FakeTimer;
      if (!before(childTimer, timer)) break;
      heap[index] = childTimer;
      childTimer.index = index;
      index = child;
    }
    heap[index] = timer;
    timer.index = index;
  }
}
