/**
 * What client and server agreed on for one connection: the CONNECT as sent, overridden by the
 * properties of the CONNACK.
 *
 * @packageDocumentation
 */
import { type ConnackPacket, type ConnectPacket, QoS } from '@mqtt5/codec';

/** The settings of one connection, from the CONNECT the client sent and the server's CONNACK. */
export interface NegotiatedSettings {
  /** Highest QoS the client may publish with: 1 (the client's cap), lowered by the CONNACK. */
  maximumQos: QoS;
  /** Session expiry in seconds: the CONNECT's (0 if absent), or the CONNACK's override. */
  sessionExpiryInterval: number;
  /** How many unacknowledged QoS 1 PUBLISHes the server accepts (65535 unless the CONNACK says). */
  receiveMaximumFromServer: number;
  /** Largest packet the server accepts, in bytes (268435460 unless the CONNACK says). */
  maximumPacketSizeToServer: number;
  /** How many topic aliases the client may use (0: none, unless the CONNACK allows some). */
  topicAliasMaximumToServer: number;
  /** How many topic aliases the server may use: the CONNECT's Topic Alias Maximum (0 if absent). */
  topicAliasMaximumToClient: number;
  /** Keep-alive in seconds that drives PINGREQs: the CONNECT's, or the CONNACK's Server Keep Alive. */
  serverKeepAlive: number;
  /** Whether the server supports retained messages. */
  retainAvailable: boolean;
  /** Whether the server supports wildcard subscriptions. */
  wildcardSubscriptionsAvailable: boolean;
  /** Whether the server supports subscription identifiers. */
  subscriptionIdentifiersAvailable: boolean;
  /** Whether the server supports shared subscriptions. */
  sharedSubscriptionsAvailable: boolean;
  /** Whether the server resumed an existing session (CONNACK `sessionPresent`). */
  rejoinedSession: boolean;
  /** The client id of this connection: the one sent, or the server-assigned one when none was sent. */
  clientId: string;
}

/** The client never publishes above QoS 1 (QoS 2 is not supported yet). */
const CLIENT_MAXIMUM_QOS = QoS.AtLeastOnce;
/** MQTT's largest packet: 1 + 4-byte remaining length + 268435455. */
const PROTOCOL_MAXIMUM_PACKET_SIZE = 268_435_460;
const PROTOCOL_RECEIVE_MAXIMUM = 65_535;

/**
 * The negotiated settings of a connection (reference §2.2): start from the client's defaults and the
 * CONNECT as sent, then apply every property the CONNACK carries.
 *
 * @param connect the CONNECT as sent (keep-alive, session expiry, topic alias maximum).
 * @param connack the server's CONNACK.
 * @param clientId the client id sent in the CONNECT (may be '': the CONNACK's assigned id is used).
 */
export function computeNegotiatedSettings(
  connect: ConnectPacket,
  connack: ConnackPacket,
  clientId: string,
): NegotiatedSettings {
  return {
    maximumQos:
      connack.maximumQos !== undefined && connack.maximumQos < CLIENT_MAXIMUM_QOS
        ? connack.maximumQos
        : CLIENT_MAXIMUM_QOS,
    sessionExpiryInterval: connack.sessionExpiryInterval ?? connect.sessionExpiryIntervalSeconds ?? 0,
    receiveMaximumFromServer: connack.receiveMaximum ?? PROTOCOL_RECEIVE_MAXIMUM,
    maximumPacketSizeToServer: connack.maximumPacketSize ?? PROTOCOL_MAXIMUM_PACKET_SIZE,
    topicAliasMaximumToServer: connack.topicAliasMaximum ?? 0,
    topicAliasMaximumToClient: connect.topicAliasMaximum ?? 0,
    serverKeepAlive: connack.serverKeepAlive ?? connect.keepAliveIntervalSeconds,
    retainAvailable: connack.retainAvailable ?? true,
    wildcardSubscriptionsAvailable: connack.wildcardSubscriptionsAvailable ?? true,
    subscriptionIdentifiersAvailable: connack.subscriptionIdentifiersAvailable ?? true,
    sharedSubscriptionsAvailable: connack.sharedSubscriptionsAvailable ?? true,
    rejoinedSession: connack.sessionPresent,
    clientId: clientId !== '' ? clientId : (connack.assignedClientIdentifier ?? ''),
  };
}
