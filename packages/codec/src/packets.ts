/**
 * The MQTT 5 packet model: one interface per packet type, the enums of every reason-code set, and
 * the helpers that tell success from failure. Field names follow aws-crt's Node MQTT5 client so
 * that migrating is a change of import.
 *
 * Outbound packets built by users (`PublishPacket`, `SubscribePacket`, `UnsubscribePacket`,
 * `DisconnectPacket`, `ConnectPacket`) may leave `type` out; every decoded packet has it.
 *
 * @packageDocumentation
 */

/** MQTT control packet types. */
export enum PacketType {
  Connect = 1,
  Connack = 2,
  Publish = 3,
  Puback = 4,
  Pubrec = 5,
  Pubrel = 6,
  Pubcomp = 7,
  Subscribe = 8,
  Suback = 9,
  Unsubscribe = 10,
  Unsuback = 11,
  Pingreq = 12,
  Pingresp = 13,
  Disconnect = 14,
  Auth = 15,
}

/** Quality of service levels. */
export enum QoS {
  AtMostOnce = 0,
  AtLeastOnce = 1,
  ExactlyOnce = 2,
}

/** Payload format indicator of a PUBLISH. */
export enum PayloadFormatIndicator {
  Bytes = 0,
  Utf8 = 1,
}

/** When the server sends retained messages for a new subscription. */
export enum RetainHandlingType {
  SendOnSubscribe = 0,
  SendOnSubscribeIfNew = 1,
  DontSend = 2,
}

/** CONNACK reason codes (MQTT 5 §3.2.2.2, plus the 3.1.1 return codes aws-crt exposes). */
export enum ConnectReasonCode {
  Success = 0,
  UnacceptableProtocolVersion311 = 1,
  ClientIdRejected311 = 2,
  ServerUnavailable311 = 3,
  InvalidUsernameOrPassword311 = 4,
  NotAuthorized311 = 5,
  UnspecifiedError = 128,
  MalformedPacket = 129,
  ProtocolError = 130,
  ImplementationSpecificError = 131,
  UnsupportedProtocolVersion = 132,
  ClientIdentifierNotValid = 133,
  BadUsernameOrPassword = 134,
  NotAuthorized = 135,
  ServerUnavailable = 136,
  ServerBusy = 137,
  Banned = 138,
  BadAuthenticationMethod = 140,
  TopicNameInvalid = 144,
  PacketTooLarge = 149,
  QuotaExceeded = 151,
  PayloadFormatInvalid = 153,
  RetainNotSupported = 154,
  QosNotSupported = 155,
  UseAnotherServer = 156,
  ServerMoved = 157,
  ConnectionRateExceeded = 159,
}

/** DISCONNECT reason codes (MQTT 5 §3.14.2.1). */
export enum DisconnectReasonCode {
  NormalDisconnection = 0,
  DisconnectWithWillMessage = 4,
  UnspecifiedError = 128,
  MalformedPacket = 129,
  ProtocolError = 130,
  ImplementationSpecificError = 131,
  NotAuthorized = 135,
  ServerBusy = 137,
  ServerShuttingDown = 139,
  KeepAliveTimeout = 141,
  SessionTakenOver = 142,
  TopicFilterInvalid = 143,
  TopicNameInvalid = 144,
  ReceiveMaximumExceeded = 147,
  TopicAliasInvalid = 148,
  PacketTooLarge = 149,
  MessageRateTooHigh = 150,
  QuotaExceeded = 151,
  AdministrativeAction = 152,
  PayloadFormatInvalid = 153,
  RetainNotSupported = 154,
  QosNotSupported = 155,
  UseAnotherServer = 156,
  ServerMoved = 157,
  SharedSubscriptionsNotSupported = 158,
  ConnectionRateExceeded = 159,
  MaximumConnectTime = 160,
  SubscriptionIdentifiersNotSupported = 161,
  WildcardSubscriptionsNotSupported = 162,
}

/** PUBACK reason codes (MQTT 5 §3.4.2.1). */
export enum PubackReasonCode {
  Success = 0,
  NoMatchingSubscribers = 16,
  UnspecifiedError = 128,
  ImplementationSpecificError = 131,
  NotAuthorized = 135,
  TopicNameInvalid = 144,
  PacketIdentifierInUse = 145,
  QuotaExceeded = 151,
  PayloadFormatInvalid = 153,
}

/** PUBREC reason codes (MQTT 5 §3.5.2.1). */
export enum PubrecReasonCode {
  Success = 0,
  NoMatchingSubscribers = 16,
  UnspecifiedError = 128,
  ImplementationSpecificError = 131,
  NotAuthorized = 135,
  TopicNameInvalid = 144,
  PacketIdentifierInUse = 145,
  QuotaExceeded = 151,
  PayloadFormatInvalid = 153,
}

/** PUBREL reason codes (MQTT 5 §3.6.2.1). */
export enum PubrelReasonCode {
  Success = 0,
  PacketIdentifierNotFound = 146,
}

/** PUBCOMP reason codes (MQTT 5 §3.7.2.1). */
export enum PubcompReasonCode {
  Success = 0,
  PacketIdentifierNotFound = 146,
}

/** SUBACK reason codes (MQTT 5 §3.9.3). `Failure311` and `UnspecifiedError` share 128. */
export enum SubackReasonCode {
  GrantedQoS0 = 0,
  GrantedQoS1 = 1,
  GrantedQoS2 = 2,
  Failure311 = 128,
  // eslint-disable-next-line @typescript-eslint/no-duplicate-enum-values
  UnspecifiedError = 128,
  ImplementationSpecificError = 131,
  NotAuthorized = 135,
  TopicFilterInvalid = 143,
  PacketIdentifierInUse = 145,
  QuotaExceeded = 151,
  SharedSubscriptionsNotSupported = 158,
  SubscriptionIdentifiersNotSupported = 161,
  WildcardSubscriptionsNotSupported = 162,
}

/** UNSUBACK reason codes (MQTT 5 §3.11.3). */
export enum UnsubackReasonCode {
  Success = 0,
  NoSubscriptionExisted = 17,
  UnspecifiedError = 128,
  ImplementationSpecificError = 131,
  NotAuthorized = 135,
  TopicFilterInvalid = 143,
  PacketIdentifierInUse = 145,
}

/** AUTH reason codes (MQTT 5 §3.15.2.1). */
export enum AuthReasonCode {
  Success = 0,
  ContinueAuthentication = 24,
  ReAuthenticate = 25,
}

/** A user property: an ordered list of them travels with most packets; repeated names are kept. */
export interface UserProperty {
  name: string;
  value: string;
}

/** Binary data accepted on the way out. Inbound binary data is always a `Buffer`. */
export type BinaryData = string | Uint8Array | ArrayBuffer | ArrayBufferView;

/**
 * An outbound payload: bytes or a string; any other object is sent as `JSON.stringify(value)`.
 * Inbound payloads are always a `Buffer`.
 */
export type Payload = BinaryData | object;

/** CONNECT (the client's `connectProperties`). */
export interface ConnectPacket {
  type?: PacketType.Connect;
  /** Keep-alive interval in seconds; 0 disables PINGREQs. Required, 0..65535. */
  keepAliveIntervalSeconds: number;
  /** Client identifier; empty or absent lets the server assign one. */
  clientId?: string;
  username?: string;
  password?: BinaryData;
  /** Session expiry interval in seconds (absent = 0: the session ends with the connection). */
  sessionExpiryIntervalSeconds?: number;
  requestResponseInformation?: boolean;
  requestProblemInformation?: boolean;
  /** How many unacknowledged QoS 1/2 PUBLISHes the client accepts at once (1..65535). */
  receiveMaximum?: number;
  /** The largest packet the client accepts, in bytes (1..4294967295). */
  maximumPacketSizeBytes?: number;
  willDelayIntervalSeconds?: number;
  will?: PublishPacket;
  userProperties?: UserProperty[];
  /** Set by the client: whether to start a clean session. */
  cleanStart?: boolean;
  /** Set by the client from its inbound topic alias options. */
  topicAliasMaximum?: number;
  /** Enhanced authentication method (modelled; the client rejects it for now). */
  authenticationMethod?: string;
  /** Enhanced authentication data (modelled; the client rejects it for now). */
  authenticationData?: BinaryData;
}

/** CONNACK. */
export interface ConnackPacket {
  type: PacketType.Connack;
  sessionPresent: boolean;
  reasonCode: ConnectReasonCode;
  sessionExpiryInterval?: number;
  receiveMaximum?: number;
  maximumQos?: QoS;
  retainAvailable?: boolean;
  maximumPacketSize?: number;
  assignedClientIdentifier?: string;
  topicAliasMaximum?: number;
  reasonString?: string;
  userProperties?: UserProperty[];
  wildcardSubscriptionsAvailable?: boolean;
  subscriptionIdentifiersAvailable?: boolean;
  sharedSubscriptionsAvailable?: boolean;
  serverKeepAlive?: number;
  responseInformation?: string;
  serverReference?: string;
  authenticationMethod?: string;
  authenticationData?: Buffer;
}

/** PUBLISH. */
export interface PublishPacket {
  type?: PacketType.Publish;
  topicName: string;
  payload?: Payload;
  qos: QoS;
  retain?: boolean;
  payloadFormat?: PayloadFormatIndicator;
  messageExpiryIntervalSeconds?: number;
  topicAlias?: number;
  responseTopic?: string;
  correlationData?: BinaryData;
  /** Inbound only: the identifiers of the subscriptions that matched. */
  subscriptionIdentifiers?: number[];
  contentType?: string;
  userProperties?: UserProperty[];
  /** Wire field, managed by the client: duplicate delivery flag. Leave unset. */
  dup?: boolean;
  /** Wire field, managed by the client: packet identifier of a QoS 1/2 PUBLISH. Leave unset. */
  packetId?: number;
}

/** A PUBLISH as the client receives it: the payload is a `Buffer`, the topic is resolved. */
export interface IncomingPublishPacket extends PublishPacket {
  type: PacketType.Publish;
  payload: Buffer;
  correlationData?: Buffer;
}

/** PUBACK. */
export interface PubackPacket {
  type: PacketType.Puback;
  packetId: number;
  reasonCode: PubackReasonCode;
  reasonString?: string;
  userProperties?: UserProperty[];
}

/** PUBREC (QoS 2; modelled, not used by the client yet). */
export interface PubrecPacket {
  type: PacketType.Pubrec;
  packetId: number;
  reasonCode: PubrecReasonCode;
  reasonString?: string;
  userProperties?: UserProperty[];
}

/** PUBREL (QoS 2; modelled, not used by the client yet). */
export interface PubrelPacket {
  type: PacketType.Pubrel;
  packetId: number;
  reasonCode: PubrelReasonCode;
  reasonString?: string;
  userProperties?: UserProperty[];
}

/** PUBCOMP (QoS 2; modelled, not used by the client yet). */
export interface PubcompPacket {
  type: PacketType.Pubcomp;
  packetId: number;
  reasonCode: PubcompReasonCode;
  reasonString?: string;
  userProperties?: UserProperty[];
}

/** One subscription of a SUBSCRIBE. */
export interface Subscription {
  topicFilter: string;
  qos: QoS;
  noLocal?: boolean;
  retainAsPublished?: boolean;
  retainHandlingType?: RetainHandlingType;
}

/** SUBSCRIBE. */
export interface SubscribePacket {
  type?: PacketType.Subscribe;
  subscriptions: Subscription[];
  subscriptionIdentifier?: number;
  userProperties?: UserProperty[];
  /** Wire field, managed by the client. Leave unset. */
  packetId?: number;
}

/** SUBACK. */
export interface SubackPacket {
  type: PacketType.Suback;
  packetId: number;
  reasonCodes: SubackReasonCode[];
  reasonString?: string;
  userProperties?: UserProperty[];
}

/** UNSUBSCRIBE. */
export interface UnsubscribePacket {
  type?: PacketType.Unsubscribe;
  topicFilters: string[];
  userProperties?: UserProperty[];
  /** Wire field, managed by the client. Leave unset. */
  packetId?: number;
}

/** UNSUBACK. */
export interface UnsubackPacket {
  type: PacketType.Unsuback;
  packetId: number;
  reasonCodes: UnsubackReasonCode[];
  reasonString?: string;
  userProperties?: UserProperty[];
}

/** PINGREQ. */
export interface PingreqPacket {
  type: PacketType.Pingreq;
}

/** PINGRESP. */
export interface PingrespPacket {
  type: PacketType.Pingresp;
}

/** DISCONNECT. */
export interface DisconnectPacket {
  type?: PacketType.Disconnect;
  reasonCode: DisconnectReasonCode;
  sessionExpiryIntervalSeconds?: number;
  reasonString?: string;
  serverReference?: string;
  userProperties?: UserProperty[];
}

/** AUTH (modelled and encodable; the client rejects enhanced authentication for now). */
export interface AuthPacket {
  type: PacketType.Auth;
  reasonCode: AuthReasonCode;
  authenticationMethod?: string;
  authenticationData?: BinaryData;
  reasonString?: string;
  userProperties?: UserProperty[];
}

/** Any packet with its `type` set: what `encode()` takes and what the `Decoder` yields. */
export type Packet =
  | (ConnectPacket & { type: PacketType.Connect })
  | ConnackPacket
  | (PublishPacket & { type: PacketType.Publish })
  | PubackPacket
  | PubrecPacket
  | PubrelPacket
  | PubcompPacket
  | (SubscribePacket & { type: PacketType.Subscribe })
  | SubackPacket
  | (UnsubscribePacket & { type: PacketType.Unsubscribe })
  | UnsubackPacket
  | PingreqPacket
  | PingrespPacket
  | (DisconnectPacket & { type: PacketType.Disconnect })
  | AuthPacket;

/** A success reason code is below 128. */
export function isSuccessfulConnectReasonCode(reasonCode: ConnectReasonCode | number): boolean {
  return reasonCode < 128;
}
/** A success reason code is below 128. */
export function isSuccessfulDisconnectReasonCode(reasonCode: DisconnectReasonCode | number): boolean {
  return reasonCode < 128;
}
/** A success reason code is below 128 (`NoMatchingSubscribers` is a success). */
export function isSuccessfulPubackReasonCode(reasonCode: PubackReasonCode | number): boolean {
  return reasonCode < 128;
}
/** A success reason code is below 128 (a granted QoS). */
export function isSuccessfulSubackReasonCode(reasonCode: SubackReasonCode | number): boolean {
  return reasonCode < 128;
}
/** A success reason code is below 128. */
export function isSuccessfulUnsubackReasonCode(reasonCode: UnsubackReasonCode | number): boolean {
  return reasonCode < 128;
}
