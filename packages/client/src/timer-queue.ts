/**
 * One Node.js timer for the deadlines of every client on the system clock.
 *
 * A client has one deadline at a time (its single timer, see `client.ts`). With a `setTimeout` per
 * client, every idle client keeps a Node `Timeout` object alive (about 180 bytes), and every arming
 * with a fractional delay creates a Node timer list of its own. Here the clients themselves are the
 * entries of a binary min-heap ordered by deadline (no object per entry), and one host timer is
 * armed for the earliest deadline.
 *
 * The host timer is lazy: when the earliest deadline moves later (a client disarmed or re-armed
 * later), the timer is left as it is and fires early, finds nothing due and is armed again; when the
 * heap empties it is only unref'd (a process with no armed client may exit), and ref'd again when a
 * deadline is added. So arming a deadline no earlier than the armed one costs no Node timer call,
 * which is what a connection attempt does (CONNACK timeout, then keep-alive).
 *
 * @internal
 * @packageDocumentation
 */

/** How the queue reads and writes an entry's deadline and heap position, and fires it. @internal */
export interface TimerQueueEntries<T> {
  /** The entry's deadline (clock milliseconds). */
  deadlineOf(entry: T): number;
  /** The entry's position in the heap, -1 when not in it. */
  indexOf(entry: T): number;
  setIndex(entry: T, index: number): void;
  /** Runs the entry's timer (it is out of the heap by then, and may re-arm itself). */
  fire(entry: T): void;
}

/** A host timer: a Node `Timeout` in production. @internal */
export interface HostTimer {
  ref(): unknown;
  unref(): unknown;
}

/** The host clock and timers (injectable for the tests). @internal */
export interface TimerHost {
  now(): number;
  setTimeout(callback: () => void, delayMs: number): HostTimer;
  clearTimeout(timer: HostTimer): void;
  /**
   * True when `timer` can no longer be relied on: the global timer functions were replaced since it
   * was armed (fake timers installed or removed in a test), so it must be armed again.
   */
  stale?(timer: HostTimer): boolean;
}

/** The longest delay Node's `setTimeout` honours; a later deadline is reached in steps. */
const MAX_HOST_DELAY_MS = 2_147_483_647;

/** A Node timer, with the global timer functions that made it (they are looked up at each call). */
class NodeTimer implements HostTimer {
  constructor(
    readonly handle: ReturnType<typeof setTimeout>,
    readonly madeBy: typeof setTimeout,
    readonly clear: typeof clearTimeout,
  ) {}
  ref(): void {
    (this.handle as { ref?: () => unknown }).ref?.();
  }
  unref(): void {
    (this.handle as { unref?: () => unknown }).unref?.();
  }
}

const nodeHost: TimerHost = {
  now: () => performance.now(),
  setTimeout: (callback, delayMs) => new NodeTimer(setTimeout(callback, delayMs), setTimeout, clearTimeout),
  clearTimeout: (timer) => (timer as NodeTimer).clear((timer as NodeTimer).handle),
  stale: (timer) => (timer as NodeTimer).madeBy !== setTimeout,
};

/** A min-heap of entries by deadline behind one lazily re-armed host timer. @internal */
export class TimerQueue<T> {
  readonly #entries: TimerQueueEntries<T>;
  readonly #host: TimerHost;
  readonly #heap: T[] = [];
  #timer: HostTimer | undefined = undefined;
  /** When the host timer fires (host clock), Infinity when there is none. */
  #timerAt = Infinity;
  #refed = false;
  readonly #onTimer = (): void => this.#fire();

  constructor(entries: TimerQueueEntries<T>, host: TimerHost = nodeHost) {
    this.#entries = entries;
    this.#host = host;
  }

  /** Number of armed entries. */
  get size(): number {
    return this.#heap.length;
  }

  /** Arms `entry` at its (new) deadline, or moves it there if it is armed already. */
  arm(entry: T): void {
    const heap = this.#heap;
    const index = this.#entries.indexOf(entry);
    if (index < 0) {
      heap.push(entry);
      this.#siftUp(heap.length - 1);
    } else {
      this.#siftDown(this.#siftUp(index));
    }
    this.#sync();
  }

  /** Disarms `entry` (no-op if it is not armed). */
  remove(entry: T): void {
    const index = this.#entries.indexOf(entry);
    if (index < 0) return;
    this.#removeAt(index);
    this.#sync();
  }

  /** Keeps the host timer armed no later than the earliest deadline, and ref'd only while one exists. */
  #sync(): void {
    const heap = this.#heap;
    if (heap.length === 0) {
      if (this.#refed && this.#timer !== undefined) this.#timer.unref();
      this.#refed = false;
      return;
    }
    const at = this.#entries.deadlineOf(heap[0] as T);
    if (this.#timer !== undefined && this.#host.stale?.(this.#timer) === true) {
      this.#host.clearTimeout(this.#timer); // with the functions that armed it
      this.#timer = undefined;
      this.#timerAt = Infinity;
    }
    if (this.#timer !== undefined && at >= this.#timerAt) {
      if (!this.#refed) {
        this.#timer.ref();
        this.#refed = true;
      }
      return;
    }
    if (this.#timer !== undefined) this.#host.clearTimeout(this.#timer);
    const now = this.#host.now();
    // Whole milliseconds: Node keeps one timer list per distinct delay, and a fractional delay
    // would create a list of its own every time.
    let delay = Math.ceil(at - now);
    if (!(delay >= 1)) delay = 1;
    if (delay > MAX_HOST_DELAY_MS) delay = MAX_HOST_DELAY_MS;
    this.#timerAt = now + delay;
    this.#timer = this.#host.setTimeout(this.#onTimer, delay);
    this.#refed = true;
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    this.#refed = false;
    const heap = this.#heap;
    const entries = this.#entries;
    const now = this.#host.now();
    // Due entries are taken out first: one re-armed in the past while firing waits for the next
    // host timer (at least 1 ms, as with setTimeout) instead of looping here.
    let due: T[] | undefined;
    while (heap.length > 0 && entries.deadlineOf(heap[0] as T) <= now) {
      (due ??= []).push(heap[0] as T);
      this.#removeAt(0);
    }
    let failure: { error: unknown } | undefined;
    if (due !== undefined) {
      for (const entry of due) {
        try {
          entries.fire(entry);
        } catch (error) {
          failure ??= { error };
        }
      }
    }
    this.#sync();
    // As a throwing setTimeout callback would: an uncaught exception, after the other entries ran.
    if (failure !== undefined) throw failure.error;
  }

  #removeAt(index: number): void {
    const heap = this.#heap;
    const entries = this.#entries;
    const removed = heap[index] as T;
    const last = heap.pop() as T;
    entries.setIndex(removed, -1);
    if (last === removed) return;
    heap[index] = last;
    entries.setIndex(last, index);
    this.#siftDown(this.#siftUp(index));
  }

  /** Moves the entry at `index` up to its place; returns where it ended. */
  #siftUp(index: number): number {
    const heap = this.#heap;
    const entries = this.#entries;
    const entry = heap[index] as T;
    const at = entries.deadlineOf(entry);
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex] as T;
      if (entries.deadlineOf(parent) <= at) break;
      heap[index] = parent;
      entries.setIndex(parent, index);
      index = parentIndex;
    }
    heap[index] = entry;
    entries.setIndex(entry, index);
    return index;
  }

  #siftDown(index: number): void {
    const heap = this.#heap;
    const entries = this.#entries;
    const length = heap.length;
    const entry = heap[index] as T;
    const at = entries.deadlineOf(entry);
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      let child = left;
      if (right < length && entries.deadlineOf(heap[right] as T) < entries.deadlineOf(heap[left] as T)) child = right;
      const childEntry = heap[child] as T;
      if (entries.deadlineOf(childEntry) >= at) break;
      heap[index] = childEntry;
      entries.setIndex(childEntry, index);
      index = child;
    }
    heap[index] = entry;
    entries.setIndex(entry, index);
  }
}
