import { Mqtt5Error } from '@mqtt5/codec';
import { DEFAULT_CONNECT_TIMEOUT_MS, withDeadline } from './attempt.js';

describe('withDeadline', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('aborts the inner signal with AWS_IO_SOCKET_TIMEOUT after the timeout (default 10000 ms)', async () => {
    expect(DEFAULT_CONNECT_TIMEOUT_MS).toBe(10_000);
    let inner: AbortSignal | undefined;
    const pending = withDeadline(new AbortController().signal, DEFAULT_CONNECT_TIMEOUT_MS, 'h:1', (signal) => {
      inner = signal;
      return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    });
    const outcome = pending.catch((e: unknown) => e as Mqtt5Error);
    jest.advanceTimersByTime(9_999);
    expect(inner?.aborted).toBe(false);
    jest.advanceTimersByTime(1);
    const error = await outcome;
    expect(error).toBeInstanceOf(Mqtt5Error);
    expect((error as Mqtt5Error).code).toBe('AWS_IO_SOCKET_TIMEOUT');
    expect((error as Mqtt5Error).message).toContain('10000 ms');
  });

  it('forwards the caller abort as ABORTED with the reason as cause, and clears its timer', async () => {
    const controller = new AbortController();
    const pending = withDeadline(controller.signal, 1000, 'h:1', (signal) =>
      new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    );
    const reason = new Error('stop');
    controller.abort(reason);
    const error = (await pending.catch((e: unknown) => e)) as Mqtt5Error;
    expect(error.code).toBe('ABORTED');
    expect(error.cause).toBe(reason);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('rejects at once for an already aborted signal, without running the body', async () => {
    const controller = new AbortController();
    controller.abort();
    const body = jest.fn();
    await expect(withDeadline(controller.signal, 1000, 'h:1', body)).rejects.toMatchObject({ code: 'ABORTED' });
    expect(body).not.toHaveBeenCalled();
  });

  it('clears the timer after success', async () => {
    await expect(withDeadline(new AbortController().signal, 1000, 'h:1', async () => 7)).resolves.toBe(7);
    expect(jest.getTimerCount()).toBe(0);
  });
});
