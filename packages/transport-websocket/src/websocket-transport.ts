import { EventEmitter } from 'node:events';
import type { Transport } from '@mqtt5/client';
import WebSocket from 'ws';

/**
 * Bytes accepted by {@link WebSocketTransport.write} before it asks the caller to wait for `'drain'`
 * (the same default as a Node stream's `highWaterMark` for sockets).
 */
export const WEBSOCKET_WRITE_HIGH_WATER_MARK = 64 * 1024;

type WriteCallback = (error?: Error | null) => void;

/**
 * Adapts an open `ws` WebSocket to the client's {@link Transport} contract without a stream in
 * between: every `write` is one binary frame; inbound binary messages are `'data'` chunks.
 *
 * - `write(chunk, cb)`: `cb` runs once the frame was handed to the socket (or with the error that
 *   prevented it); returns `false` while more than {@link WEBSOCKET_WRITE_HIGH_WATER_MARK} bytes are
 *   unsent, and `'drain'` follows when they went out.
 * - A text frame from the server breaks MQTT over websockets (MQTT-6.0.0-1): the transport is
 *   destroyed with an error.
 * - `end()` sends a websocket close frame (1000) after what was written; `destroy(err?)` drops the
 *   connection at once. `'close'` is emitted exactly once, after any `'error'`.
 */
export class WebSocketTransport extends EventEmitter implements Transport {
  readonly #ws: WebSocket;
  #pendingBytes = 0;
  #needDrain = false;
  #closed = false;
  #destroyError: Error | undefined;

  /** @param ws - an OPEN `ws` client WebSocket */
  constructor(ws: WebSocket) {
    super();
    this.#ws = ws;
    ws.binaryType = 'nodebuffer';
    ws.on('message', this.#onMessage);
    ws.on('error', this.#onError);
    ws.on('close', this.#onClose);
  }

  /** The subprotocol the server selected (`'mqtt'`). */
  get protocol(): string {
    return this.#ws.protocol;
  }

  /** Bytes written but not yet handed to the operating system. */
  get writableLength(): number {
    return this.#pendingBytes;
  }

  /** Removes a listener (typed for the {@link Transport} contract). */
  override removeListener(event: string | symbol, listener: (...args: never[]) => void): this {
    return super.removeListener(event, listener as (...args: unknown[]) => void);
  }

  /** Sends `chunk` as one binary frame. */
  write(chunk: Uint8Array, callback?: WriteCallback): boolean {
    if (this.#closed || this.#destroyError !== undefined || this.#ws.readyState !== WebSocket.OPEN) {
      const error = new Error('websocket is not open');
      if (callback) process.nextTick(callback, error);
      return false;
    }
    const size = chunk.byteLength;
    this.#pendingBytes += size;
    this.#ws.send(chunk, { binary: true, compress: false, fin: true }, (error?: Error) => {
      this.#pendingBytes -= size;
      if (callback) callback(error ?? null);
      if (this.#needDrain && this.#pendingBytes < WEBSOCKET_WRITE_HIGH_WATER_MARK && !this.#closed) {
        this.#needDrain = false;
        this.emit('drain');
      }
    });
    if (this.#pendingBytes >= WEBSOCKET_WRITE_HIGH_WATER_MARK) {
      this.#needDrain = true;
      return false;
    }
    return true;
  }

  /** Closes gracefully (close frame 1000 after the queued frames). */
  end(): this {
    if (!this.#closed && this.#ws.readyState === WebSocket.OPEN) this.#ws.close(1000);
    return this;
  }

  /** Drops the connection now; with `error`, `'error'` is emitted before `'close'`. */
  destroy(error?: Error): this {
    if (this.#closed || this.#destroyError !== undefined) return this;
    if (error !== undefined) this.#destroyError = error;
    this.#ws.terminate();
    return this;
  }

  readonly #onMessage = (data: WebSocket.RawData, isBinary: boolean): void => {
    if (this.#closed || this.#destroyError !== undefined) return;
    if (!isBinary) {
      this.destroy(new Error('the server sent a websocket text frame; MQTT over websockets uses binary frames only'));
      return;
    }
    // binaryType 'nodebuffer': always a Buffer
    this.emit('data', data as Buffer);
  };

  readonly #onError = (error: Error): void => {
    if (this.#closed || this.#destroyError !== undefined) return;
    // ws would start a closing handshake and wait for the server; a broken connection ends now
    this.#destroyError = error;
    this.#ws.terminate();
  };

  readonly #onClose = (): void => {
    if (this.#closed) return;
    this.#closed = true;
    this.#ws.removeListener('message', this.#onMessage);
    const error = this.#destroyError;
    if (error !== undefined && this.listenerCount('error') > 0) this.emit('error', error);
    this.emit('close');
  };
}
