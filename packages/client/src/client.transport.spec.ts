import { Duplex } from 'node:stream';
import { type Packet, PacketType, Decoder, encode } from '@mqtt5/codec';
import { disposeAll, flush, setup } from '../test/helpers/harness.js';
import { Mqtt5Client } from './client.js';
import { systemClock } from './clock.js';
import type { ConnectOptions, Connector, Transport } from './transport.js';
import { ATTEMPT_ON_ABORT } from './transport.js';

afterEach(disposeAll);

const CONNACK = encode({ type: PacketType.Connack, reasonCode: 0, sessionPresent: false });

/**
 * A Node stream transport that answers the CONNECT with a CONNACK synchronously from inside the
 * client's write (a stream keeps what it receives until a 'data' listener is attached).
 */
class AnsweringStream extends Duplex {
  readonly written: Packet[] = [];
  readonly #decoder = new Decoder({ onPacket: (packet) => this.written.push(packet) });
  failWrite: Error | undefined;

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.failWrite !== undefined) {
      callback(this.failWrite);
      return;
    }
    this.#decoder.feed(chunk);
    if (this.written.some((p) => p.type === PacketType.Connect) && this.written.length === 1) this.push(CONNACK);
    callback();
  }

  override _read(): void {}
}

function clientOn(connector: Connector, extra: Partial<ConstructorParameters<typeof Mqtt5Client>[0]> = {}) {
  const client = new Mqtt5Client({ connector, ...extra });
  const events: string[] = [];
  for (const name of [
    'attemptingConnect',
    'connectionSuccess',
    'connectionFailure',
    'disconnection',
    'stopped',
  ] as const) {
    client.on(name, (event: { error?: { code: string } }) =>
      events.push(event.error ? `${name}:${event.error.code}` : name),
    );
  }
  return { client, events };
}

describe('Mqtt5Client transports', () => {
  it('a Node stream transport: the CONNECT goes out first, an answer given at once is not lost', async () => {
    const stream = new AnsweringStream();
    const { client, events } = clientOn(() => Promise.resolve(stream));
    client.start();
    await flush();
    expect(events).toEqual(['attemptingConnect', 'connectionSuccess']);
    expect(stream.written.map((p) => p.type)).toEqual([PacketType.Connect]);
    client.close();
    await flush();
    expect(stream.destroyed).toBe(true);
  });

  it('a Node stream transport whose first write fails: connectionFailure with the error, nothing uncaught', async () => {
    const stream = new AnsweringStream();
    stream.failWrite = Object.assign(new Error('broken pipe'), { code: 'EPIPE' });
    const { client, events } = clientOn(() => Promise.resolve(stream), { minReconnectDelayMs: 60_000 });
    client.start();
    await flush();
    expect(events).toEqual(['attemptingConnect', 'connectionFailure:AWS_IO_SOCKET_CLOSED']);
    client.close();
  });

  it('a transport that is not an EventEmitter (listeners called without `this`) works the same', async () => {
    const h = setup();
    const inner = h.broker.connector;
    let wrapped: Transport | undefined;
    const connector: Connector = async (options) => {
      const transport = await inner(options);
      wrapped = {
        write: (chunk, callback) => transport.write(chunk, callback),
        end: () => transport.end(),
        destroy: (error) => transport.destroy(error),
        on: ((event: string, listener: (...args: never[]) => void) => {
          transport.on(event as 'data', (...args: unknown[]) => {
            const plain = listener as (...a: unknown[]) => void;
            plain(...args); // a plain call: `this` is undefined
          });
        }) as Transport['on'],
        removeListener: () => undefined,
      };
      return wrapped;
    };
    const { client, events } = clientOn(connector);
    client.start();
    await flush();
    expect(events).toEqual(['attemptingConnect', 'connectionSuccess']);
    const suback = client.subscribe({ subscriptions: [{ topicFilter: 't/#', qos: 1 }] });
    await expect(suback).resolves.toMatchObject({ type: PacketType.Suback });
    h.broker.last.destroy();
    await flush();
    expect(events).toEqual([
      'attemptingConnect',
      'connectionSuccess',
      'disconnection:AWS_ERROR_MQTT_UNEXPECTED_HANGUP',
    ]);
    expect(wrapped).toBeDefined();
    client.close();
  });
});

describe('Mqtt5Client connect attempts', () => {
  it("a connector's `signal` is aborted with the stop error when the attempt is given up", async () => {
    let signal: AbortSignal | undefined;
    const { client, events } = clientOn(
      (options) =>
        new Promise<Transport>((_resolve, reject) => {
          signal = options.signal;
          signal.addEventListener('abort', () => reject(signal?.reason));
        }),
    );
    client.start();
    await flush(2);
    expect(signal?.aborted).toBe(false);
    client.stop();
    expect(signal?.aborted).toBe(true);
    expect((signal?.reason as { code: string }).code).toBe('AWS_ERROR_MQTT5_USER_REQUESTED_STOP');
    await flush();
    expect(events).toEqual(['attemptingConnect', 'connectionFailure:AWS_ERROR_MQTT5_USER_REQUESTED_STOP', 'stopped']);
    client.close();
  });

  it('a connector that copies the options (`{ ...options }`) still gets the signal', async () => {
    let signal: AbortSignal | undefined;
    const inner = (options: ConnectOptions): Promise<Transport> =>
      new Promise<Transport>((_resolve, reject) => {
        signal = options.signal;
        signal.addEventListener('abort', () => reject(signal?.reason));
      });
    const { client, events } = clientOn((options) => inner({ ...options }));
    client.start();
    await flush(2);
    expect(signal).toBeInstanceOf(AbortSignal);
    client.stop();
    expect(signal?.aborted).toBe(true);
    await flush();
    expect(events).toEqual(['attemptingConnect', 'connectionFailure:AWS_ERROR_MQTT5_USER_REQUESTED_STOP', 'stopped']);
    client.close();
  });

  it('the abort callback of ATTEMPT_ON_ABORT replaces a signal listener, and can be cleared', async () => {
    type Hook = (listener: ((reason: unknown) => void) | undefined) => boolean;
    const reasons: unknown[] = [];
    let attempt: ConnectOptions | undefined;
    const { client } = clientOn(
      (options) =>
        new Promise<Transport>((_resolve, reject) => {
          attempt = options;
          const hook = (options as unknown as Record<symbol, Hook>)[ATTEMPT_ON_ABORT]!;
          expect(hook.call(options, () => reasons.push('cleared'))).toBe(true);
          expect(hook.call(options, undefined)).toBe(true);
          expect(
            hook.call(options, (reason) => {
              reasons.push(reason);
              reject(reason);
            }),
          ).toBe(true);
        }),
    );
    client.start();
    await flush(2);
    client.stop();
    expect(reasons).toHaveLength(1);
    expect((reasons[0] as { code: string }).code).toBe('AWS_ERROR_MQTT5_USER_REQUESTED_STOP');
    // read after the abort, the signal is aborted with the same reason; the hook refuses a listener
    expect(attempt?.signal.aborted).toBe(true);
    expect(attempt?.signal.reason).toBe(reasons[0]);
    const hook = (attempt as unknown as Record<symbol, Hook>)[ATTEMPT_ON_ABORT]!;
    expect(hook.call(attempt as ConnectOptions, () => reasons.push('late'))).toBe(false);
    await flush();
    expect(reasons).toHaveLength(1);
    client.close();
  });
});

describe('Mqtt5Client on the system clock (one shared Node timer)', () => {
  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('runs the CONNACK timeout, keep-alive and ping timeout of several clients', async () => {
    const silent = setup(
      { clock: systemClock, connackTimeoutMs: 5_000, minReconnectDelayMs: 100_000 },
      {
        handlers: { connect: () => undefined },
      },
    );
    const pinging = setup(
      { clock: systemClock, connectProperties: { keepAliveIntervalSeconds: 10 }, pingTimeoutMs: 3_000 },
      {
        handlers: { pingreq: () => undefined },
      },
    );
    silent.client.start();
    await pinging.connect();
    await flush();
    expect(silent.names()).toEqual(['attemptingConnect']);

    jest.advanceTimersByTime(5_001);
    await flush();
    expect(silent.names()).toEqual(['attemptingConnect', 'connectionFailure']);
    expect(silent.events[1]![1].error.code).toBe('AWS_ERROR_MQTT5_CONNACK_TIMEOUT');
    expect(pinging.broker.packets(PacketType.Pingreq)).toHaveLength(0);

    jest.advanceTimersByTime(5_001); // 10 s after the CONNACK: PINGREQ
    await flush();
    expect(pinging.broker.packets(PacketType.Pingreq)).toHaveLength(1);
    expect(pinging.names()).toEqual(['attemptingConnect', 'connectionSuccess']);

    jest.advanceTimersByTime(3_001); // no PINGRESP within pingTimeoutMs
    await flush();
    expect(pinging.names()).toEqual(['attemptingConnect', 'connectionSuccess', 'disconnection']);
    expect(pinging.events[2]![1].error.code).toBe('AWS_ERROR_MQTT5_PING_RESPONSE_TIMEOUT');
  });

  it('stop() disarms: no timer fires for a stopped client', async () => {
    const h = setup({ clock: systemClock, connectProperties: { keepAliveIntervalSeconds: 5 } });
    await h.connect();
    h.client.stop();
    await flush();
    jest.advanceTimersByTime(60_000);
    await flush();
    expect(h.broker.packets(PacketType.Pingreq)).toHaveLength(0);
    expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess', 'disconnection', 'stopped']);
  });
});
