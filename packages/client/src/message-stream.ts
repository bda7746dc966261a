/**
 * `client.messages()`: received messages as an async iterator.
 *
 * @packageDocumentation
 */
import type { IncomingPublishPacket } from '@mqtt5/codec';
import type { MessageReceivedEvent, PublishAcknowledgementHandle } from './events.js';

/** Options of `Mqtt5Client.messages()`. */
export interface MessagesOptions {
  /** Ends the iteration (the loop exits normally) when aborted. */
  signal?: AbortSignal;
  /**
   * How many QoS 0 messages may wait for the consumer (default 10 000). Beyond it, further QoS 0
   * messages are dropped (QoS 0 is at-most-once) and counted in {@link MessageStream.droppedMessages}.
   * QoS 1 messages are never dropped: each is acknowledged only once the consumer takes it, so the
   * broker's flow control (the client's Receive Maximum) bounds how many can wait.
   */
  maxBufferedMessages?: number;
}

/** The iterator returned by `Mqtt5Client.messages()`. */
export interface MessageStream extends AsyncIterableIterator<IncomingPublishPacket> {
  /** QoS 0 messages dropped because `maxBufferedMessages` were already waiting. */
  readonly droppedMessages: number;
}

const DEFAULT_MAX_BUFFERED = 10_000;

interface Waiter {
  resolve: (result: IteratorResult<IncomingPublishPacket>) => void;
}

/**
 * Buffers the `messageReceived` events of one client for one consumer. QoS 1 messages are
 * acknowledged when the consumer takes them.
 * @internal
 */
export class MessageStreamImpl implements MessageStream {
  droppedMessages = 0;
  readonly #messages: IncomingPublishPacket[] = [];
  readonly #handles: (PublishAcknowledgementHandle | null)[] = [];
  #head = 0;
  #qos0Buffered = 0;
  readonly #maxBuffered: number;
  #waiter: Waiter | undefined;
  #done = false;
  readonly #detach: (stream: MessageStreamImpl) => void;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort: (() => void) | undefined;
  /** The `messageReceived` listener feeding this stream. */
  readonly listener: (event: MessageReceivedEvent) => void;

  constructor(options: MessagesOptions, detach: (stream: MessageStreamImpl) => void) {
    const max = options.maxBufferedMessages;
    this.#maxBuffered = typeof max === 'number' && max >= 0 ? max : DEFAULT_MAX_BUFFERED;
    this.#detach = detach;
    this.listener = (event) => this.#push(event);
    const signal = options.signal;
    if (signal !== undefined) {
      this.#signal = signal;
      this.#onAbort = () => this.end();
      if (signal.aborted) this.#done = true;
      else signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  #push(event: MessageReceivedEvent): void {
    if (this.#done) return;
    const message = event.message;
    if (message.qos === 0) {
      if (this.#qos0Buffered >= this.#maxBuffered && this.#waiter === undefined) {
        this.droppedMessages++;
        return;
      }
    }
    const handle = event.acknowledgementControl?.acquireHandle() ?? null;
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#waiter = undefined;
      handle?.invokeAcknowledgement();
      waiter.resolve({ value: message, done: false });
      return;
    }
    if (message.qos === 0) this.#qos0Buffered++;
    this.#messages.push(message);
    this.#handles.push(handle);
  }

  next(): Promise<IteratorResult<IncomingPublishPacket>> {
    if (this.#head < this.#messages.length) {
      const message = this.#messages[this.#head] as IncomingPublishPacket;
      const handle = this.#handles[this.#head] ?? null;
      this.#messages[this.#head] = undefined as unknown as IncomingPublishPacket;
      this.#handles[this.#head] = null;
      this.#head++;
      if (this.#head > 1024 && this.#head * 2 > this.#messages.length) {
        this.#messages.splice(0, this.#head);
        this.#handles.splice(0, this.#head);
        this.#head = 0;
      }
      if (message.qos === 0) this.#qos0Buffered--;
      handle?.invokeAcknowledgement();
      return Promise.resolve({ value: message, done: false });
    }
    if (this.#done) return Promise.resolve({ value: undefined, done: true });
    if (this.#waiter !== undefined) {
      return Promise.reject(new Error('messages(): next() called again before the previous call settled'));
    }
    return new Promise((resolve) => {
      this.#waiter = { resolve };
    });
  }

  return(): Promise<IteratorResult<IncomingPublishPacket>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Stops the stream: buffered messages are dropped (QoS 1 ones unacknowledged: the broker redelivers them on a resumed session). */
  end(): void {
    if (this.#done) return;
    this.#done = true;
    this.#messages.length = 0;
    this.#handles.length = 0;
    this.#head = 0;
    this.#qos0Buffered = 0;
    if (this.#signal !== undefined && this.#onAbort !== undefined) this.#signal.removeEventListener('abort', this.#onAbort);
    this.#detach(this);
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.resolve({ value: undefined, done: true });
  }
}
