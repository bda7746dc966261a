/**
 * Operations (PUBLISH, SUBSCRIBE, UNSUBSCRIBE submitted by the user) and the structure that finds
 * the ones whose ack timed out with a single timer.
 *
 * @internal
 * @packageDocumentation
 */
import {
  PacketType,
  type PayloadFormatIndicator,
  type PublishPacket,
  type QoS,
  type SubscribePacket,
  type UnsubscribePacket,
  type UserProperty,
} from '@mqtt5/codec';

/** Operation kinds. @internal */
export const OP_PUBLISH = 1;
/** @internal */
export const OP_SUBSCRIBE = 2;
/** @internal */
export const OP_UNSUBSCRIBE = 3;

/** In the queue, not written yet. @internal */
export const OP_QUEUED = 0;
/** Encoded into the pending write (QoS 0 PUBLISH: completes when the write does). @internal */
export const OP_WRITING = 1;
/** Written, waiting for its PUBACK / SUBACK / UNSUBACK. @internal */
export const OP_UNACKED = 2;
/** Completed (resolved or rejected); only bookkeeping may still reference it. @internal */
export const OP_DONE = 3;

/**
 * The PUBLISH as it goes on the wire: a private copy of the user's packet (so that changing or
 * reusing the caller's object after `publish()` changes nothing) with the payload normalised once to
 * a `Buffer`, and the wire fields (packet id, DUP) the client manages. One fixed shape for the encoder.
 * @internal
 */
export class WirePublish {
  readonly type = PacketType.Publish;
  topicName: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean | undefined;
  payloadFormat: PayloadFormatIndicator | undefined;
  messageExpiryIntervalSeconds: number | undefined;
  topicAlias: number | undefined;
  responseTopic: string | undefined;
  correlationData: PublishPacket['correlationData'];
  contentType: string | undefined;
  userProperties: UserProperty[] | undefined;
  dup: boolean | undefined = undefined;
  packetId: number | undefined = undefined;

  constructor(packet: PublishPacket, payload: Buffer) {
    this.topicName = packet.topicName;
    this.payload = payload;
    this.qos = packet.qos;
    this.retain = packet.retain;
    this.payloadFormat = packet.payloadFormat;
    this.messageExpiryIntervalSeconds = packet.messageExpiryIntervalSeconds;
    this.topicAlias = packet.topicAlias;
    this.responseTopic = packet.responseTopic;
    this.correlationData = packet.correlationData;
    this.contentType = packet.contentType;
    this.userProperties = packet.userProperties;
  }
}

/** The wire form of an operation's packet. @internal */
export type WirePacket =
  | WirePublish
  | (SubscribePacket & { type: PacketType.Subscribe })
  | (UnsubscribePacket & { type: PacketType.Unsubscribe });

/**
 * One user operation: its wire packet, its promise's settle functions and the bookkeeping of the
 * queue, the packet id table and the ack timeouts. One object per operation; no closures.
 * @internal
 */
export class Operation {
  /** OP_PUBLISH, OP_SUBSCRIBE or OP_UNSUBSCRIBE. */
  readonly kind: number;
  readonly packet: WirePacket;
  /** QoS of a PUBLISH (0 for the other kinds). */
  readonly qos: number;
  /** Size counted by the statistics: encoded as submitted (packet id 0, no alias). */
  readonly statSize: number;
  /** Encoded size on the wire without topic aliasing (packet id included). */
  readonly wireSize: number;
  /** Per-operation ack timeout in ms; 0 = the client's default. */
  readonly ackTimeoutMs: number;
  state = OP_QUEUED;
  packetId = 0;
  /** Whether the operation counts as unacked in the statistics. */
  countedUnacked = false;
  /** The promise was settled (an aborted, already-written op stays tracked until its ack). */
  settled = false;
  /** Ack deadline (clock ms) while unacked. */
  deadline = 0;
  /** Intrusive list of default-timeout unacked operations (deadline order). */
  prev: Operation | undefined = undefined;
  next: Operation | undefined = undefined;
  /** Index in the custom-timeout heap, -1 when not in it. */
  heapIndex = -1;
  /** While a PUBLISH is encoded with a topic alias: its real topic (restored after encoding). */
  aliasedTopic: string | undefined = undefined;
  /** The user's topic alias (Manual aliasing), restored after an aliased encoding. */
  userAlias: number | undefined = undefined;
  resolve: (value: never) => void;
  reject: (error: Error) => void;
  /** The caller's AbortSignal while the operation is not settled (watched in `Mqtt5Client#aborts`). */
  signal: AbortSignal | undefined = undefined;

  constructor(
    kind: number,
    packet: WirePacket,
    qos: number,
    statSize: number,
    wireSize: number,
    ackTimeoutMs: number,
    resolve: (value: never) => void,
    reject: (error: Error) => void,
  ) {
    this.kind = kind;
    this.packet = packet;
    this.qos = qos;
    this.statSize = statSize;
    this.wireSize = wireSize;
    this.ackTimeoutMs = ackTimeoutMs;
    this.resolve = resolve;
    this.reject = reject;
  }
}

/**
 * The unacked operations ordered by ack deadline, so that one timer finds the expired ones:
 * operations with the client's default timeout are written in time order, so their deadlines are
 * non-decreasing and an intrusive FIFO list suffices (O(1) add and remove); the rare ones with a
 * per-operation timeout go to a binary min-heap.
 * @internal
 */
export class AckDeadlines {
  #head: Operation | undefined = undefined;
  #tail: Operation | undefined = undefined;
  #heap: Operation[] | undefined = undefined;

  /** Adds an operation whose `deadline` is set. */
  add(op: Operation): void {
    if (op.ackTimeoutMs === 0) {
      op.prev = this.#tail;
      op.next = undefined;
      if (this.#tail === undefined) this.#head = op;
      else this.#tail.next = op;
      this.#tail = op;
    } else {
      const heap = (this.#heap ??= []);
      op.heapIndex = heap.length;
      heap.push(op);
      this.#siftUp(op.heapIndex);
    }
  }

  /** Removes an operation (no-op if it is not tracked). */
  remove(op: Operation): void {
    if (op.heapIndex >= 0) {
      this.#removeAt(op.heapIndex);
      return;
    }
    if (op.prev === undefined && op.next === undefined && this.#head !== op) return;
    if (op.prev === undefined) this.#head = op.next;
    else op.prev.next = op.next;
    if (op.next === undefined) this.#tail = op.prev;
    else op.next.prev = op.prev;
    op.prev = undefined;
    op.next = undefined;
  }

  /** The earliest deadline, or Infinity. */
  earliest(): number {
    const a = this.#head === undefined ? Infinity : this.#head.deadline;
    const top = this.#heap?.[0];
    const b = top === undefined ? Infinity : top.deadline;
    return a < b ? a : b;
  }

  /** Removes and returns an operation whose deadline is at or before `now`, or undefined. */
  popExpired(now: number): Operation | undefined {
    const head = this.#head;
    if (head !== undefined && head.deadline <= now) {
      this.remove(head);
      return head;
    }
    const top = this.#heap?.[0];
    if (top !== undefined && top.deadline <= now) {
      this.#removeAt(0);
      return top;
    }
    return undefined;
  }

  /** Forgets every operation. */
  clear(): void {
    for (let op = this.#head; op !== undefined; ) {
      const next = op.next;
      op.prev = undefined;
      op.next = undefined;
      op = next;
    }
    this.#head = undefined;
    this.#tail = undefined;
    if (this.#heap !== undefined) for (const op of this.#heap) op.heapIndex = -1;
    this.#heap = undefined;
  }

  #removeAt(index: number): void {
    const heap = this.#heap as Operation[];
    const removed = heap[index] as Operation;
    const last = heap.pop() as Operation;
    removed.heapIndex = -1;
    if (last === removed) return;
    heap[index] = last;
    last.heapIndex = index;
    this.#siftUp(index);
    this.#siftDown(last.heapIndex);
  }

  #siftUp(index: number): void {
    const heap = this.#heap as Operation[];
    const op = heap[index] as Operation;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex] as Operation;
      if (parent.deadline <= op.deadline) break;
      heap[index] = parent;
      parent.heapIndex = index;
      index = parentIndex;
    }
    heap[index] = op;
    op.heapIndex = index;
  }

  #siftDown(index: number): void {
    const heap = this.#heap as Operation[];
    const length = heap.length;
    const op = heap[index] as Operation;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      let child = left;
      if (right < length && (heap[right] as Operation).deadline < (heap[left] as Operation).deadline) child = right;
      const childOp = heap[child] as Operation;
      if (childOp.deadline >= op.deadline) break;
      heap[index] = childOp;
      childOp.heapIndex = index;
      index = child;
    }
    heap[index] = op;
    op.heapIndex = index;
  }
}

/**
 * The QoS 0 fast lane: QoS 0 PUBLISHes submitted while connected with nothing queued are encoded at
 * once into a shared chunk (so nothing per operation survives but its bytes), and every publish of
 * a chunk gets the chunk's promise, settled when the chunk's write completes.
 * @internal
 */
export class LaneChunk {
  readonly buffer: Buffer;
  /** Bytes used. */
  length = 0;
  /** Operations encoded in it. */
  count = 0;
  readonly done: Promise<undefined>;
  resolve!: (value: undefined) => void;
  reject!: (error: Error) => void;

  constructor(size: number) {
    this.buffer = Buffer.allocUnsafe(size);
    this.done = new Promise<undefined>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}
