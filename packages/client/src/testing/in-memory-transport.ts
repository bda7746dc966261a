import { EventEmitter } from 'node:events';
import type { Transport } from '../transport.js';

/** Options of {@link createInMemoryTransportPair}. */
export interface InMemoryTransportPairOptions {
  /**
   * Bytes written but not yet delivered above which `write()` returns `false` and the writer must
   * wait for `'drain'` (default 16 KiB, like a socket's `writableHighWaterMark`).
   */
  highWaterMark?: number;
}

/**
 * One end of an in-memory byte pipe implementing the client's `Transport` contract: bytes written
 * on one end arrive as `'data'` on the other, in order, on a later event-loop turn (`setImmediate`),
 * with the write callback called once they were delivered and `'drain'` after backpressure.
 */
export class InMemoryTransport extends EventEmitter implements Transport {
  /** The other end of the pipe. */
  peer!: InMemoryTransport;
  /** How many times `write()` was called on this end. */
  writeCount = 0;
  /** How many bytes were written on this end. */
  bytesWritten = 0;
  /** True once this end is closed (`end()` finished, `destroy()`, or the peer closed). */
  destroyed = false;

  readonly #highWaterMark: number;
  /** Chunks written on this end, waiting to be delivered to the peer. */
  readonly #outbox: { chunk: Buffer; callback: ((error?: Error | null) => void) | undefined }[] = [];
  #outboxBytes = 0;
  #needDrain = false;
  #flushScheduled = false;
  #readingPaused = false;
  #ending = false;
  #closeEmitted = false;

  /** @internal use {@link createInMemoryTransportPair}. */
  constructor(highWaterMark: number) {
    super();
    this.#highWaterMark = highWaterMark;
  }

  /** Bytes written on this end and not yet delivered to the peer. */
  get pendingBytes(): number {
    return this.#outboxBytes;
  }

  /** Queues bytes for the peer; see the `Transport` contract. */
  write(chunk: Uint8Array, callback?: (error?: Error | null) => void): boolean {
    if (this.destroyed || this.#ending) {
      const error = Object.assign(new Error('write after end'), { code: 'ERR_STREAM_DESTROYED' });
      if (callback) setImmediate(callback, error);
      return false;
    }
    this.writeCount++;
    this.bytesWritten += chunk.byteLength;
    const copy = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.#outbox.push({ chunk: Buffer.from(copy), callback });
    this.#outboxBytes += chunk.byteLength;
    this.#scheduleFlush();
    if (this.#outboxBytes >= this.#highWaterMark) {
      this.#needDrain = true;
      return false;
    }
    return true;
  }

  /** Removes a listener (typed for the `Transport` contract). */
  override removeListener(event: string | symbol, listener: (...args: never[]) => void): this {
    return super.removeListener(event, listener as (...args: unknown[]) => void);
  }

  /** Delivers what was written, then closes both ends. */
  end(): this {
    if (this.destroyed || this.#ending) return this;
    this.#ending = true;
    this.#scheduleFlush();
    return this;
  }

  /** Closes both ends at once; pending bytes are dropped. With an error, this end emits `'error'` first. */
  destroy(error?: Error): this {
    if (this.destroyed) return this;
    this.#teardown(error);
    this.peer.#teardown(undefined);
    return this;
  }

  /** Stops delivering the peer's bytes to this end (they pile up on the peer: backpressure). */
  pauseReading(): void {
    this.#readingPaused = true;
  }

  /** Resumes delivery after {@link InMemoryTransport.pauseReading}. */
  resumeReading(): void {
    this.#readingPaused = false;
    this.peer.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    if (this.destroyed) return;
    const peer = this.peer;
    while (this.#outbox.length > 0 && !peer.#readingPaused && !this.destroyed) {
      const { chunk, callback } = this.#outbox.shift()!;
      this.#outboxBytes -= chunk.byteLength;
      if (!peer.destroyed) peer.emit('data', chunk);
      callback?.(null);
    }
    if (this.destroyed) return;
    if (this.#outbox.length === 0) {
      if (this.#needDrain) {
        this.#needDrain = false;
        this.emit('drain');
      }
      if (this.#ending) {
        this.#teardown(undefined);
        peer.#teardown(undefined);
      }
    }
  }

  #teardown(error: Error | undefined): void {
    if (this.destroyed) return;
    this.destroyed = true;
    const dropped = this.#outbox.splice(0);
    this.#outboxBytes = 0;
    process.nextTick(() => {
      for (const { callback } of dropped) {
        callback?.(Object.assign(new Error('the in-memory transport was closed'), { code: 'ERR_STREAM_DESTROYED' }));
      }
      if (error) this.emit('error', error);
      if (!this.#closeEmitted) {
        this.#closeEmitted = true;
        this.emit('close');
      }
    });
  }
}

/**
 * Creates two connected in-memory transports: hand `client` to the client through a connector and
 * drive `server` from the test (decode what the client wrote, write what a broker would answer).
 *
 * @example
 * ```ts
 * const { client: clientEnd, server } = createInMemoryTransportPair();
 * const mqtt = new Mqtt5Client({ connector: async () => clientEnd });
 * server.on('data', (bytes) => { … });
 * ```
 */
export function createInMemoryTransportPair(options: InMemoryTransportPairOptions = {}): {
  client: InMemoryTransport;
  server: InMemoryTransport;
} {
  const highWaterMark = options.highWaterMark ?? 16 * 1024;
  const client = new InMemoryTransport(highWaterMark);
  const server = new InMemoryTransport(highWaterMark);
  client.peer = server;
  server.peer = client;
  return { client, server };
}
