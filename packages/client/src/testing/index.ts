/**
 * `@mqtt5/client/testing`: helpers for testing code that uses the client, such as a fake clock
 * that runs keep-alive, ack timeouts and reconnect backoff in fake time.
 *
 * @packageDocumentation
 */
export { FakeClock } from './fake-clock.js';
export {
  InMemoryTransport,
  type InMemoryTransportPairOptions,
  createInMemoryTransportPair,
} from './in-memory-transport.js';
