import type {
  IConnackPacket,
  IConnectPacket,
  IDisconnectPacket,
  IPublishPacket,
  ISubscribePacket,
  Packet,
} from 'mqtt-packet';
import {
  defaultHandlers,
  sendConnack,
  type MockConnackOptions,
  type MockConnection,
  type MockHandler,
  type MockHandlerResult,
} from './mock-broker.js';

/** A handler, or `'default'` for the default behaviour of the packet type. */
export type MockStep<P extends Packet = Packet> = MockHandler<P> | 'default';

function runStep<P extends Packet>(
  step: MockStep<P>,
  packet: P,
  conn: MockConnection,
  broker: Parameters<MockHandler>[2],
): MockHandlerResult {
  return step === 'default' ? 'default' : step(packet, conn, broker);
}

function ackFor(
  packet: Packet,
  conn: MockConnection,
  reasonCode: number,
  properties?: { reasonString?: string },
): void {
  const props = properties ? { properties } : {};
  switch (packet.cmd) {
    case 'publish':
      if (packet.qos === 1) conn.send({ cmd: 'puback', messageId: packet.messageId as number, reasonCode, ...props });
      else if (packet.qos === 2)
        conn.send({ cmd: 'pubrec', messageId: packet.messageId as number, reasonCode, ...props });
      return;
    case 'pubrec':
      conn.send({ cmd: 'pubrel', messageId: packet.messageId as number, reasonCode, ...props });
      return;
    case 'pubrel':
      conn.send({ cmd: 'pubcomp', messageId: packet.messageId as number, reasonCode, ...props });
      return;
    case 'subscribe':
      conn.send({
        cmd: 'suback',
        messageId: packet.messageId as number,
        granted: packet.subscriptions.map(() => reasonCode),
        ...props,
      });
      return;
    case 'unsubscribe':
      conn.send({
        cmd: 'unsuback',
        messageId: packet.messageId as number,
        granted: packet.unsubscriptions.map(() => reasonCode),
        ...props,
      });
      return;
    case 'connect':
      conn.send({ cmd: 'connack', sessionPresent: false, reasonCode, ...props });
      if (reasonCode >= 0x80) conn.close();
      return;
    case 'pingreq':
      conn.send({ cmd: 'pingresp' });
      return;
    default:
      throw new Error(`mock.ack: no acknowledgement for ${packet.cmd}`);
  }
}

/**
 * Handler factories for the mock broker's `handlers` (see README). Each returns a handler you assign
 * to one packet type, e.g. `broker.handlers.publish = mock.withholdAcks()`.
 */
export const mock = {
  /** Answer CONNECT with a successful CONNACK with these fields (merged over the broker's `connack`). */
  connack(fields: MockConnackOptions = {}): MockHandler<IConnectPacket> {
    return (_p, conn, broker) => sendConnack(conn, broker, fields);
  },

  /** Answer CONNECT with CONNACK `sessionPresent: true` (and optional properties). */
  sessionPresent(properties?: IConnackPacket['properties']): MockHandler<IConnectPacket> {
    return (_p, conn, broker) =>
      sendConnack(conn, broker, { sessionPresent: true, ...(properties ? { properties } : {}) });
  },

  /** Answer CONNECT with a refusing CONNACK (`reasonCode` ≥ 0x80), then close the connection. */
  refuseConnack(reasonCode: number, properties?: IConnackPacket['properties']): MockHandler<IConnectPacket> {
    if (reasonCode < 0x80)
      throw new RangeError(`refuseConnack needs a reason code >= 0x80, not 0x${reasonCode.toString(16)}`);
    return (_p, conn, broker) => sendConnack(conn, broker, { reasonCode, ...(properties ? { properties } : {}) });
  },

  /** Answer CONNECT with a successful CONNACK, then (after `delayMs`, default 0) DISCONNECT `reasonCode` and close. */
  disconnectAfterConnack(
    reasonCode: number,
    properties?: IDisconnectPacket['properties'],
    delayMs = 0,
  ): MockHandler<IConnectPacket> {
    return (_p, conn, broker) => {
      sendConnack(conn, broker);
      if (delayMs > 0) conn.schedule(delayMs, () => conn.disconnect(reasonCode, properties));
      else conn.disconnect(reasonCode, properties);
    };
  },

  /** Record the packet and answer nothing (a hung broker, for any packet type). */
  neverAnswer(): MockHandler {
    return () => undefined;
  },

  /** For PUBLISH: no PUBACK/PUBREC at all (the message is not routed either). */
  withholdAcks(): MockHandler<IPublishPacket> {
    return () => undefined;
  },

  /** Run `step` (default: the default behaviour) `ms` later, unless the connection closed meanwhile. */
  delay<P extends Packet = Packet>(ms: number, step: MockStep<P> = 'default'): MockHandler<P> {
    return (packet, conn, broker) => {
      conn.schedule(ms, () => {
        const r = runStep(step, packet, conn, broker);
        if (r === 'default') broker.runDefault(packet, conn);
        else if (r && typeof r === 'object')
          void r.then((v) => (v === 'default' ? broker.runDefault(packet, conn) : undefined));
      });
    };
  },

  /** The default behaviour delayed by `ms` (for PUBLISH: PUBACK/PUBREC `ms` late). */
  delayAcks(ms: number): MockHandler {
    return mock.delay(ms);
  },

  /**
   * Acknowledge with `reasonCode` instead of success: PUBLISH → PUBACK/PUBREC, PUBREC → PUBREL,
   * PUBREL → PUBCOMP, SUBSCRIBE → SUBACK (every entry), UNSUBSCRIBE → UNSUBACK (every entry),
   * CONNECT → CONNACK (closes when ≥ 0x80). PUBLISH with an error code is not routed.
   */
  ack(reasonCode: number, properties?: { reasonString?: string }): MockHandler {
    return (packet, conn) => ackFor(packet, conn, reasonCode, properties);
  },

  /** For SUBSCRIBE: SUBACK with these reason codes, one per subscription (use 0x80+ to refuse some). */
  suback(granted: readonly number[]): MockHandler<ISubscribePacket> {
    return (packet, conn) => {
      conn.send({ cmd: 'suback', messageId: packet.messageId as number, granted: [...granted] });
    };
  },

  /** Answer with a custom packet built from the received one (or a fixed packet). */
  reply<P extends Packet = Packet>(response: Packet | ((packet: P, conn: MockConnection) => Packet)): MockHandler<P> {
    return (packet, conn) => {
      conn.send(typeof response === 'function' ? response(packet, conn) : response);
    };
  },

  /** Answer with raw bytes (anything mqtt-packet cannot generate). */
  sendRaw(bytes: Uint8Array | ((packet: Packet, conn: MockConnection) => Uint8Array)): MockHandler {
    return (packet, conn) => {
      conn.sendRaw(typeof bytes === 'function' ? bytes(packet, conn) : bytes);
    };
  },

  /**
   * Answer with a malformed frame. Default: a CONNACK whose Remaining Length (3) covers a
   * properties length (0x05) pointing past the end of the packet.
   */
  malformed(bytes: Uint8Array = MALFORMED_CONNACK): MockHandler {
    return mock.sendRaw(bytes);
  },

  /** Send DISCONNECT `reasonCode` (with properties) and close, for any packet type. */
  disconnect(reasonCode: number, properties?: IDisconnectPacket['properties']): MockHandler {
    return (_p, conn) => conn.disconnect(reasonCode, properties);
  },

  /** Close the connection without a DISCONNECT: FIN, or TCP RST with `rst: true`. */
  close(options: { rst?: boolean } = {}): MockHandler {
    return (_p, conn) => (options.rst ? conn.destroy() : conn.close());
  },

  /**
   * For SUBSCRIBE: SUBACK as usual, then a PUBLISH that uses topic alias `alias` (default 99)
   * with an empty topic, which the client never registered (and which exceeds any small maximum).
   */
  badTopicAlias(alias = 99): MockHandler<ISubscribePacket> {
    return (packet, conn, broker) => {
      defaultHandlers.subscribe(packet, conn, broker);
      conn.publish('', 'bad-alias', { qos: 0, properties: { topicAlias: alias } });
    };
  },

  /**
   * Use `steps[i]` for the i-th packet this handler sees (over all connections), and the last step
   * after that. E.g. `connect: mock.sequence(mock.refuseConnack(0x88), 'default')`.
   */
  sequence<P extends Packet = Packet>(...steps: MockStep<P>[]): MockHandler<P> {
    if (steps.length === 0) throw new RangeError('mock.sequence needs at least one step');
    let calls = 0;
    return (packet, conn, broker) => {
      const step = steps[Math.min(calls++, steps.length - 1)] as MockStep<P>;
      return runStep(step, packet, conn, broker);
    };
  },

  /** `step` for the first packet, the default behaviour afterwards. */
  once<P extends Packet = Packet>(step: MockStep<P>): MockHandler<P> {
    return mock.sequence<P>(step, 'default');
  },

  /** Run the default behaviour, then `after(packet, conn)` (e.g. to send something extra). */
  thenDo<P extends Packet = Packet>(after: (packet: P, conn: MockConnection) => void): MockHandler<P> {
    return (packet, conn, broker) => {
      broker.runDefault(packet, conn);
      after(packet, conn);
    };
  },
};

/**
 * Frames a decoder must reject (for `conn.sendRaw` / `mock.sendRaw`). Each is one complete frame
 * as far as the fixed header goes.
 */
export const malformedFrames = {
  /** CONNACK, Remaining Length 3: flags 0, reason 0, properties length 5, but nothing follows. */
  connackPropertiesOverrun: Uint8Array.from([0x20, 0x03, 0x00, 0x00, 0x05]),
  /** CONNACK with reserved fixed-header flag bits set (must be 0000). */
  connackReservedFlags: Uint8Array.from([0x21, 0x03, 0x00, 0x00, 0x00]),
  /** CONNACK with Connect Acknowledge Flags bits 7–1 set (reserved, must be 0). */
  connackReservedAckFlags: Uint8Array.from([0x20, 0x03, 0xfe, 0x00, 0x00]),
  /** A Remaining Length whose variable byte integer is 5 bytes long (max is 4). */
  remainingLengthTooLong: Uint8Array.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f]),
  /** Packet type 0 (reserved / forbidden). */
  reservedPacketType: Uint8Array.from([0x00, 0x00]),
  /** PUBLISH QoS 0 to topic "a" whose topic length (5) runs past the packet (Remaining Length 4). */
  publishTopicOverrun: Uint8Array.from([0x30, 0x04, 0x00, 0x05, 0x61, 0x00]),
  /** PUBLISH QoS 0 whose topic is the invalid UTF-8 sequence 0xC3 0x28. */
  publishInvalidUtf8Topic: Uint8Array.from([0x30, 0x05, 0x00, 0x02, 0xc3, 0x28, 0x00]),
  /** PUBLISH with both QoS bits set (QoS 3). */
  publishQos3: Uint8Array.from([0x36, 0x06, 0x00, 0x01, 0x61, 0x00, 0x01, 0x00]),
  /** PINGRESP with a non-zero Remaining Length. */
  pingrespWithBody: Uint8Array.from([0xd0, 0x01, 0x00]),
} as const;

const MALFORMED_CONNACK = malformedFrames.connackPropertiesOverrun;
