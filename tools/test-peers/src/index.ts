/**
 * @mqtt5/test-peers (private, test only): the real peers the SDK's integration tests run against,
 * all on 127.0.0.1 with free ports, started and stopped by the tests themselves. See README.md.
 * @packageDocumentation
 */
export { getTestCertificates, type TestCertificates } from './certs.js';
export { getFreePort, getFreePorts, waitForPort } from './ports.js';
export { isProcessRunning } from './process.js';
export {
  mosquittoBinary,
  mosquittoPasswordLine,
  startMosquitto,
  startMosquittoCustom,
  startMosquittoLimits,
  type MosquittoConfigContext,
  type MosquittoCustomInstance,
  type MosquittoCustomOptions,
  type MosquittoInstance,
  type MosquittoLimitsInstance,
  type MosquittoProcessControl,
  type MosquittoUser,
} from './mosquitto.js';
export {
  defaultHandlers,
  MockBroker,
  MockConnection,
  sendConnack,
  startMockBroker,
  type MockBrokerError,
  type MockBrokerOptions,
  type MockConnackOptions,
  type MockHandler,
  type MockHandlerResult,
  type MockHandlers,
  type MockSubscription,
  type PacketOf,
  type ReceivedPacket,
  type ReceivedPacketOf,
  type WaitForOptions,
} from './mock-broker.js';
export { malformedFrames, mock, type MockStep } from './mock.js';
export {
  startFaultProxy,
  type CutOptions,
  type FaultDirection,
  type FaultProxy,
  type RefuseMode,
} from './fault-proxy.js';
export {
  startHttpConnectProxy,
  type ConnectRequestRecord,
  type HttpConnectProxy,
  type HttpConnectProxyOptions,
} from './http-proxy.js';
export { connectPacket, openRawClient, rawConnect, type RawClientOptions, type RawMqttClient } from './raw-client.js';
export { topicMatches } from './topic.js';
export {
  CONNECT_BYTES,
  closed,
  mqttHandshake,
  neverAborted,
  rejection,
  startSilentServer,
  type HandshakeTransport,
  type RejectionError,
  type SilentServer,
} from './connector-testing.js';
export {
  startPeers,
  stopPeers,
  usePeers,
  type PeerStarters,
  type StartedPeers,
  type StoppablePeer,
} from './use-peers.js';
export type {
  IAuthPacket,
  IConnackPacket,
  IConnectPacket,
  IDisconnectPacket,
  IPingreqPacket,
  IPingrespPacket,
  IPubackPacket,
  IPubcompPacket,
  IPublishPacket,
  IPubrecPacket,
  IPubrelPacket,
  ISubackPacket,
  ISubscribePacket,
  IUnsubackPacket,
  IUnsubscribePacket,
  Packet as MqttPacket,
  PacketCmd,
} from 'mqtt-packet';
