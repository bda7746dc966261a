import { EventEmitter } from 'node:events';
import type WebSocket from 'ws';
import { WEBSOCKET_WRITE_HIGH_WATER_MARK, WebSocketTransport } from './websocket-transport.js';

/** Just enough of a `ws` WebSocket to drive the adapter without sockets. */
class FakeWs extends EventEmitter {
  readyState = 1;
  binaryType = 'arraybuffer';
  protocol = 'mqtt';
  readonly sends: { data: Uint8Array; options: unknown; callback: (error?: Error) => void }[] = [];
  closeCode: number | undefined;
  terminated = 0;

  send(data: Uint8Array, options: unknown, callback: (error?: Error) => void): void {
    this.sends.push({ data, options, callback });
  }

  close(code: number): void {
    this.closeCode = code;
    this.readyState = 2;
  }

  terminate(): void {
    this.terminated += 1;
    if (this.readyState === 3) return;
    this.readyState = 3;
    setImmediate(() => this.emit('close', 1006, Buffer.alloc(0)));
  }
}

function make(): { fake: FakeWs; transport: WebSocketTransport; events: string[] } {
  const fake = new FakeWs();
  const transport = new WebSocketTransport(fake as unknown as WebSocket);
  const events: string[] = [];
  transport.on('data', (chunk: Buffer) => events.push(`data:${chunk.toString('hex')}`));
  transport.on('drain', () => events.push('drain'));
  transport.on('error', (error: Error) => events.push(`error:${error.message}`));
  transport.on('close', () => events.push('close'));
  return { fake, transport, events };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('WebSocketTransport', () => {
  it('asks for nodebuffer messages and sends each write as one binary, uncompressed frame', () => {
    const { fake, transport } = make();
    expect(fake.binaryType).toBe('nodebuffer');
    expect(transport.write(new Uint8Array([1, 2]))).toBe(true);
    expect(fake.sends).toHaveLength(1);
    expect(fake.sends[0]!.options).toEqual({ binary: true, compress: false, fin: true });
  });

  it('returns false at the high-water mark and emits drain once the bytes went out', () => {
    const { fake, transport, events } = make();
    const results: (Error | null | undefined)[] = [];
    expect(transport.write(new Uint8Array(WEBSOCKET_WRITE_HIGH_WATER_MARK - 1), (e) => results.push(e))).toBe(true);
    expect(transport.write(new Uint8Array(1), (e) => results.push(e))).toBe(false);
    expect(transport.writableLength).toBe(WEBSOCKET_WRITE_HIGH_WATER_MARK);
    fake.sends[0]!.callback();
    expect(events).toEqual(['drain']);
    fake.sends[1]!.callback();
    expect(events).toEqual(['drain']);
    expect(results).toEqual([null, null]);
    expect(transport.writableLength).toBe(0);
  });

  it('passes a send error to the write callback', () => {
    const { fake, transport } = make();
    const results: (Error | null | undefined)[] = [];
    transport.write(new Uint8Array(1), (e) => results.push(e));
    const failure = new Error('socket gone');
    fake.sends[0]!.callback(failure);
    expect(results).toEqual([failure]);
  });

  it('emits binary messages as data; a text frame destroys the transport with an error', async () => {
    const { fake, events } = make();
    fake.emit('message', Buffer.from([0x20, 0x03]), true);
    fake.emit('message', Buffer.from('hi'), false);
    fake.emit('message', Buffer.from([0x01]), true);
    await tick();
    expect(events).toEqual(['data:2003', expect.stringMatching(/^error:.*text frame/), 'close']);
    expect(fake.terminated).toBe(1);
  });

  it('a ws error terminates at once and surfaces as error then close, exactly once', async () => {
    const { fake, events } = make();
    fake.emit('error', new Error('invalid opcode'));
    fake.emit('error', new Error('second'));
    await tick();
    fake.emit('close', 1006, Buffer.alloc(0));
    expect(events).toEqual(['error:invalid opcode', 'close']);
  });

  it('end() sends close 1000; destroy() without error gives close only; writes after close fail', async () => {
    const a = make();
    a.transport.end();
    expect(a.fake.closeCode).toBe(1000);
    const b = make();
    b.transport.destroy();
    b.transport.destroy();
    await tick();
    expect(b.events).toEqual(['close']);
    const late = await new Promise<Error | null | undefined>((resolve) => b.transport.write(new Uint8Array(1), resolve));
    expect(late).toBeInstanceOf(Error);
    expect(b.transport.write(new Uint8Array(1))).toBe(false);
  });

  it('an error without listeners does not throw', async () => {
    const fake = new FakeWs();
    const transport = new WebSocketTransport(fake as unknown as WebSocket);
    const closed = new Promise((resolve) => transport.on('close', resolve));
    transport.destroy(new Error('nobody listens'));
    await expect(closed).resolves.toBeUndefined();
  });
});
