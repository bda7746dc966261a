import { type HostTimer, type TimerHost, TimerQueue } from './timer-queue.js';

/** A host with a settable clock whose timers the test fires by hand. */
class FakeHost implements TimerHost {
  time = 1000;
  readonly timers: { callback: () => void; at: number; refed: boolean; cleared: boolean }[] = [];

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, delayMs: number): HostTimer {
    const timer = { callback, at: this.time + delayMs, refed: true, cleared: false };
    this.timers.push(timer);
    return {
      ref: () => (timer.refed = true),
      unref: () => (timer.refed = false),
      timer,
    } as HostTimer;
  }

  clearTimeout(handle: HostTimer): void {
    (handle as unknown as { timer: { cleared: boolean } }).timer.cleared = true;
  }

  /** Live (not cleared) timers. */
  get live(): FakeHost['timers'] {
    return this.timers.filter((t) => !t.cleared);
  }

  /** Moves time to `time` and fires every live timer due by then, in order. */
  advanceTo(time: number): void {
    this.time = time;
    for (;;) {
      const due = this.live.filter((t) => t.at <= time).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) return;
      due.cleared = true;
      due.callback();
    }
  }
}

interface Entry {
  name: string;
  at: number;
  index: number;
  onFire?: () => void;
}

function setup(): {
  host: FakeHost;
  queue: TimerQueue<Entry>;
  fired: string[];
  entry: (name: string, at: number) => Entry;
} {
  const host = new FakeHost();
  const fired: string[] = [];
  const queue = new TimerQueue<Entry>(
    {
      deadlineOf: (e) => e.at,
      indexOf: (e) => e.index,
      setIndex: (e, i) => {
        e.index = i;
      },
      fire: (e) => {
        fired.push(e.name);
        e.onFire?.();
      },
    },
    host,
  );
  return { host, queue, fired, entry: (name, at) => ({ name, at, index: -1 }) };
}

describe('TimerQueue', () => {
  it('fires entries in deadline order, each once, from one host timer armed for the earliest', () => {
    const { host, queue, fired, entry } = setup();
    const entries = [entry('c', 1300), entry('a', 1100), entry('d', 1400), entry('b', 1200)];
    for (const e of entries) queue.arm(e);
    expect(queue.size).toBe(4);
    expect(host.live).toHaveLength(1);
    expect(host.live[0]!.at).toBe(1100);
    host.advanceTo(1250);
    expect(fired).toEqual(['a', 'b']);
    host.advanceTo(2000);
    expect(fired).toEqual(['a', 'b', 'c', 'd']);
    expect(queue.size).toBe(0);
    expect(entries.every((e) => e.index === -1)).toBe(true);
  });

  it('moves an armed entry to its new deadline, earlier or later', () => {
    const { host, queue, fired, entry } = setup();
    const a = entry('a', 1100);
    const b = entry('b', 1200);
    queue.arm(a);
    queue.arm(b);
    a.at = 1500;
    queue.arm(a);
    b.at = 1050;
    queue.arm(b);
    expect(queue.size).toBe(2);
    host.advanceTo(1100);
    expect(fired).toEqual(['b']);
    host.advanceTo(1500);
    expect(fired).toEqual(['b', 'a']);
  });

  it('removes entries (also the earliest) and ignores removing one that is not armed', () => {
    const { host, queue, fired, entry } = setup();
    const a = entry('a', 1100);
    const b = entry('b', 1200);
    const c = entry('c', 1300);
    for (const e of [a, b, c]) queue.arm(e);
    queue.remove(a);
    queue.remove(a);
    queue.remove(entry('x', 1000));
    expect(a.index).toBe(-1);
    // the host timer still targets 1100: it fires early, finds nothing due and is armed for b
    host.advanceTo(1100);
    expect(fired).toEqual([]);
    expect(host.live.map((t) => t.at)).toEqual([1200]);
    host.advanceTo(1300);
    expect(fired).toEqual(['b', 'c']);
  });

  it('arms no new host timer for a later deadline, a new one for an earlier deadline', () => {
    const { host, queue, entry } = setup();
    queue.arm(entry('a', 1100));
    queue.arm(entry('b', 5000));
    expect(host.timers).toHaveLength(1);
    queue.arm(entry('c', 1050));
    expect(host.timers).toHaveLength(2);
    expect(host.timers[0]!.cleared).toBe(true);
    expect(host.live.map((t) => t.at)).toEqual([1050]);
  });

  it('unrefs the host timer when the queue empties and refs it again when an entry is armed', () => {
    const { host, queue, entry } = setup();
    const a = entry('a', 1100);
    queue.arm(a);
    const timer = host.live[0]!;
    expect(timer.refed).toBe(true);
    queue.remove(a);
    expect(timer.refed).toBe(false);
    expect(host.live).toHaveLength(1); // kept: unref'd, not cleared
    queue.arm(entry('b', 1500));
    expect(timer.refed).toBe(true);
    expect(host.timers).toHaveLength(1);
  });

  it('rounds delays up to whole milliseconds, at least 1, at most 2^31-1', () => {
    const { host, queue, entry } = setup();
    queue.arm(entry('a', 1000.2));
    expect(host.live[0]!.at).toBe(1001);
    const early = entry('early', 500);
    queue.arm(early);
    expect(host.live[0]!.at).toBe(1001); // a deadline in the past: 1 ms
    queue.remove(early);
    const { host: host2, queue: queue2, fired: fired2, entry: entry2 } = setup();
    queue2.arm(entry2('far', 1000 + 3_000_000_000));
    expect(host2.live[0]!.at).toBe(1000 + 2_147_483_647);
    host2.advanceTo(1000 + 2_147_483_647);
    expect(fired2).toEqual([]);
    expect(host2.live[0]!.at).toBe(1000 + 3_000_000_000);
  });

  it('an entry re-armed in the past while firing waits for the next host timer', () => {
    const { host, queue, fired, entry } = setup();
    const a = entry('a', 1100);
    let rearms = 0;
    a.onFire = () => {
      if (rearms++ < 2) {
        a.at = host.time;
        queue.arm(a);
      }
    };
    queue.arm(a);
    host.advanceTo(1100);
    expect(fired).toEqual(['a']);
    expect(host.live.map((t) => t.at)).toEqual([1101]);
    host.advanceTo(1101);
    host.advanceTo(1102);
    expect(fired).toEqual(['a', 'a', 'a']);
    expect(queue.size).toBe(0);
  });

  it('runs the other due entries when one throws, then rethrows', () => {
    const { host, queue, fired, entry } = setup();
    const a = entry('a', 1100);
    a.onFire = () => {
      throw new Error('boom');
    };
    queue.arm(a);
    queue.arm(entry('b', 1100));
    queue.arm(entry('c', 1200));
    host.time = 1150;
    const timer = host.live[0]!;
    timer.cleared = true;
    expect(() => timer.callback()).toThrow('boom');
    expect(fired.sort()).toEqual(['a', 'b']);
    expect(host.live.map((t) => t.at)).toEqual([1200]);
  });
});
