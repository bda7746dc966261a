/* global describe, it, expect, jest, beforeEach, afterEach */
// The driving loops of a cell: the bounded window, the stall watchdog, the timeout wrapper.
const { VerificationError, runWindow, stallWatch, withTimeout } = require('./drive.mjs');

describe('runWindow', () => {
  it('never has more than `window` operations incomplete and completes exactly n', async () => {
    const pending = [];
    let maxOutstanding = 0;
    const run = runWindow(1000, 7, (done) => () => {
      pending.push(done);
      maxOutstanding = Math.max(maxOutstanding, pending.length);
    });
    for (let guard = 0; pending.length > 0 && guard < 10_000; guard++) {
      // complete in a scrambled order, a few at a time
      const batch = pending.splice(0, 1 + (guard % 3));
      for (const d of batch.reverse()) d(null);
    }
    await run.promise;
    expect(maxOutstanding).toBe(7);
    expect(run.state).toEqual({ issued: 1000, completed: 1000 });
  });

  it('survives clients that complete synchronously, without growing the stack', async () => {
    const run = runWindow(300_000, 1000, (done) => () => done(null));
    await run.promise;
    expect(run.state.completed).toBe(300_000);
  });

  it('rejects on the first failed operation and issues nothing after it', async () => {
    let issued = 0;
    const run = runWindow(100, 1, (done) => () => {
      issued++;
      queueMicrotask(() => done(issued === 5 ? new Error('PUBACK reason 135') : null));
    });
    await expect(run.promise).rejects.toThrow('PUBACK reason 135');
    expect(issued).toBe(5);
  });

  it('turns a synchronous throw of the client into a rejection', async () => {
    const run = runWindow(10, 10, () => () => {
      throw new Error('boom');
    });
    await expect(run.promise).rejects.toThrow('boom');
  });

  it('keeps counting completions after it resolved, so a double completion is visible', async () => {
    const dones = [];
    const run = runWindow(3, 3, (done) => () => dones.push(done));
    dones.forEach((d) => d(null));
    await run.promise;
    dones[0](null);
    expect(run.state.completed).toBe(4);
  });

  it('resolves at once for n = 0', async () => {
    await expect(runWindow(0, 10, () => () => {}).promise).resolves.toBeUndefined();
  });
});

describe('stallWatch', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('rejects with a VerificationError once progress stops for stallMs', async () => {
    let progress = 0;
    const w = stallWatch(() => progress, { stallMs: 1000, everyMs: 100, what: () => `at ${progress}` });
    const outcome = w.promise.then(
      () => 'resolved',
      (err) => err,
    );
    for (let i = 0; i < 20; i++) {
      progress++;
      await jest.advanceTimersByTimeAsync(100);
    }
    await jest.advanceTimersByTimeAsync(900);
    expect(jest.getTimerCount()).toBe(1); // 900 ms without progress: still watching
    await jest.advanceTimersByTimeAsync(200);
    const err = await outcome;
    expect(err).toBeInstanceOf(VerificationError);
    expect(err.message).toBe('no progress for 1 s: at 20');
    w.stop();
  });

  it('never rejects after stop()', async () => {
    const w = stallWatch(() => 0, { stallMs: 100, everyMs: 10, what: () => '' });
    let rejected = false;
    w.promise.catch(() => (rejected = true));
    w.stop();
    await jest.advanceTimersByTimeAsync(1000);
    expect(rejected).toBe(false);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('rejects when the poll fails', async () => {
    const w = stallWatch(() => 0, {
      stallMs: 1000,
      everyMs: 10,
      poll: () => Promise.reject(new Error('peer gone')),
      what: () => '',
    });
    const outcome = w.promise.catch((e) => e.message);
    await jest.advanceTimersByTimeAsync(20);
    expect(await outcome).toBe('peer gone');
  });
});

describe('withTimeout', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('passes the result through and clears its timer', async () => {
    await expect(withTimeout(Promise.resolve(5), 1000, 'x')).resolves.toBe(5);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('rejects with what it was waiting for', async () => {
    const p = withTimeout(new Promise(() => {}), 1000, 'CONNACK');
    const outcome = p.catch((e) => e.message);
    await jest.advanceTimersByTimeAsync(1000);
    expect(await outcome).toBe('timed out after 1000 ms: CONNACK');
  });
});
