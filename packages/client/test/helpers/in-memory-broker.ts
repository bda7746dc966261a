/**
 * A scripted MQTT 5 broker over in-memory transports, for unit tests of the client engine: no
 * sockets, deterministic, drivable with a FakeClock. It records every packet the client sent and
 * answers like a well-behaved broker unless a handler says otherwise.
 */
import {
  type ConnackPacket,
  type ConnectPacket,
  Decoder,
  type DisconnectPacket,
  type Packet,
  PacketType,
  type PublishPacket,
  type SubscribePacket,
  type UnsubscribePacket,
  encode,
} from '@mqtt5/codec';
import type { Connector, Transport } from '../../src/transport.js';
import { type InMemoryTransport, createInMemoryTransportPair } from '../../src/testing/in-memory-transport.js';

export type AnyPacket = Packet & Record<string, any>;

export interface Received {
  conn: number;
  packet: AnyPacket;
}

/** What a handler returns: 'default' lets the broker answer as usual; anything else means "handled". */
export type HandlerResult = 'default' | void;

export interface BrokerHandlers {
  connect?: (packet: ConnectPacket & AnyPacket, conn: ServerConnection) => HandlerResult;
  publish?: (packet: PublishPacket & AnyPacket, conn: ServerConnection) => HandlerResult;
  subscribe?: (packet: SubscribePacket & AnyPacket, conn: ServerConnection) => HandlerResult;
  unsubscribe?: (packet: UnsubscribePacket & AnyPacket, conn: ServerConnection) => HandlerResult;
  pingreq?: (packet: AnyPacket, conn: ServerConnection) => HandlerResult;
  disconnect?: (packet: DisconnectPacket & AnyPacket, conn: ServerConnection) => HandlerResult;
}

export class ServerConnection {
  readonly received: AnyPacket[] = [];
  closed = false;
  readonly decoder: Decoder;

  constructor(
    readonly id: number,
    readonly transport: InMemoryTransport,
    readonly client: InMemoryTransport,
    onPacket: (packet: AnyPacket, conn: ServerConnection) => void,
  ) {
    this.decoder = new Decoder({ onPacket: (p) => onPacket(p as AnyPacket, this) });
    transport.on('data', (chunk: Buffer) => {
      if (this.closed) return;
      try {
        this.decoder.feed(chunk);
      } catch (error) {
        this.decodeError = error as Error;
        this.destroy();
      }
    });
    transport.on('close', () => {
      this.closed = true;
    });
    transport.on('error', () => {});
  }

  decodeError: Error | undefined;

  send(packet: object): void {
    if (this.closed) return;
    this.transport.write(encode(packet as Packet));
  }

  sendMany(packets: object[]): void {
    if (this.closed) return;
    this.transport.write(Buffer.concat(packets.map((p) => encode(p as Packet))));
  }

  sendRaw(bytes: Uint8Array): void {
    if (this.closed) return;
    this.transport.write(bytes);
  }

  /** Graceful close (delivers pending bytes first). */
  close(): void {
    this.closed = true;
    this.transport.end();
  }

  /** Abrupt close; with an error, the client's end reports it. */
  destroy(clientError?: Error): void {
    this.closed = true;
    if (clientError) this.client.destroy(clientError);
    else this.transport.destroy();
  }
}

export interface BrokerOptions {
  /** CONNACK properties (or a function of the CONNECT), merged over a success CONNACK. */
  connack?: Partial<ConnackPacket> | ((connect: ConnectPacket, conn: ServerConnection) => Partial<ConnackPacket>);
  handlers?: BrokerHandlers;
  /** Answer PUBLISH QoS 1 with PUBACK (default true). */
  autoPuback?: boolean;
  highWaterMark?: number;
}

export class InMemoryBroker {
  readonly received: Received[] = [];
  readonly connections: ServerConnection[] = [];
  handlers: BrokerHandlers;
  connack: BrokerOptions['connack'];
  autoPuback: boolean;
  /** When set, the connector rejects with it (or throws it synchronously with `throwSync`). */
  connectError: Error | undefined;
  throwSync = false;
  /** When true, the connector never settles until aborted. */
  hangConnect = false;
  connectCalls = 0;
  readonly connectSignals: AbortSignal[] = [];
  readonly #highWaterMark: number | undefined;
  readonly #waiters: { predicate: (r: Received) => boolean; resolve: (r: Received) => void }[] = [];

  constructor(options: BrokerOptions = {}) {
    this.handlers = options.handlers ?? {};
    this.connack = options.connack;
    this.autoPuback = options.autoPuback ?? true;
    this.#highWaterMark = options.highWaterMark;
  }

  readonly connector: Connector = ({ signal }) => {
    this.connectCalls++;
    this.connectSignals.push(signal);
    if (this.connectError !== undefined) {
      if (this.throwSync) throw this.connectError;
      return Promise.reject(this.connectError);
    }
    if (this.hangConnect) {
      return new Promise<Transport>((_resolve, reject) => {
        signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
      });
    }
    const options = this.#highWaterMark === undefined ? {} : { highWaterMark: this.#highWaterMark };
    const pair = createInMemoryTransportPair(options);
    const conn = new ServerConnection(this.connections.length + 1, pair.server, pair.client, (p, c) => this.#onPacket(p, c));
    this.connections.push(conn);
    return Promise.resolve(pair.client);
  };

  get last(): ServerConnection {
    const conn = this.connections[this.connections.length - 1];
    if (conn === undefined) throw new Error('no connection yet');
    return conn;
  }

  packets(type: PacketType): AnyPacket[] {
    return this.received.filter((r) => r.packet.type === type).map((r) => r.packet);
  }

  waitFor(predicate: (r: Received) => boolean): Promise<Received> {
    const found = this.received.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => this.#waiters.push({ predicate, resolve }));
  }

  #onPacket(packet: AnyPacket, conn: ServerConnection): void {
    const record = { conn: conn.id, packet };
    this.received.push(record);
    conn.received.push(packet);
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      const waiter = this.#waiters[i]!;
      if (waiter.predicate(record)) {
        this.#waiters.splice(i, 1);
        waiter.resolve(record);
      }
    }
    const h = this.handlers;
    switch (packet.type) {
      case PacketType.Connect: {
        const result = h.connect ? h.connect(packet as never, conn) : 'default';
        if (result === 'default') {
          const extra = typeof this.connack === 'function' ? this.connack(packet as ConnectPacket, conn) : (this.connack ?? {});
          conn.send({ type: PacketType.Connack, sessionPresent: false, reasonCode: 0, ...extra });
        }
        return;
      }
      case PacketType.Publish: {
        const result = h.publish ? h.publish(packet as never, conn) : 'default';
        if (result === 'default' && packet.qos === 1 && this.autoPuback) {
          conn.send({ type: PacketType.Puback, packetId: packet.packetId, reasonCode: 0 });
        }
        return;
      }
      case PacketType.Subscribe: {
        const result = h.subscribe ? h.subscribe(packet as never, conn) : 'default';
        if (result === 'default') {
          conn.send({
            type: PacketType.Suback,
            packetId: packet.packetId,
            reasonCodes: (packet as SubscribePacket).subscriptions.map((s) => s.qos),
          });
        }
        return;
      }
      case PacketType.Unsubscribe: {
        const result = h.unsubscribe ? h.unsubscribe(packet as never, conn) : 'default';
        if (result === 'default') {
          conn.send({
            type: PacketType.Unsuback,
            packetId: packet.packetId,
            reasonCodes: (packet as UnsubscribePacket).topicFilters.map(() => 0),
          });
        }
        return;
      }
      case PacketType.Pingreq: {
        const result = h.pingreq ? h.pingreq(packet, conn) : 'default';
        if (result === 'default') conn.send({ type: PacketType.Pingresp });
        return;
      }
      case PacketType.Disconnect: {
        const result = h.disconnect ? h.disconnect(packet as never, conn) : 'default';
        if (result === 'default') conn.close();
        return;
      }
      default:
        return;
    }
  }
}

/** Lets in-memory deliveries, promise continuations and nextTicks run (real event-loop turns, no time passes). */
export async function flush(turns = 20): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
