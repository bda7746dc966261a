/** Shared setup of the engine's unit tests: a client on a FakeClock talking to an InMemoryBroker. */
import { Mqtt5Client } from '../../src/client.js';
import type { Mqtt5ClientConfig } from '../../src/config.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { type BrokerOptions, InMemoryBroker, flush } from './in-memory-broker.js';

export const LIFECYCLE_EVENTS = ['attemptingConnect', 'connectionSuccess', 'connectionFailure', 'disconnection', 'stopped'] as const;

export type RecordedEvent = [name: string, payload: any];

export interface Harness {
  client: Mqtt5Client;
  broker: InMemoryBroker;
  clock: FakeClock;
  events: RecordedEvent[];
  /** Names of the lifecycle events so far. */
  names(): string[];
  /** Runs fake time forward by `ms`, letting in-memory I/O and promises settle after each timer. */
  advance(ms: number): Promise<void>;
  /** Starts and waits for connectionSuccess. */
  connect(): Promise<void>;
  /** Stops, closes, settles (call in afterEach). */
  dispose(): Promise<void>;
}

const harnesses: Harness[] = [];

export function setup(config: Partial<Mqtt5ClientConfig> = {}, brokerOptions: BrokerOptions = {}): Harness {
  const clock = new FakeClock(1_000_000);
  const broker = new InMemoryBroker(brokerOptions);
  const client = new Mqtt5Client({
    connector: broker.connector,
    clock,
    random: () => 0.5,
    ...config,
  });
  const events: RecordedEvent[] = [];
  for (const name of LIFECYCLE_EVENTS) client.on(name, (event: unknown) => events.push([name, event]));
  const harness: Harness = {
    client,
    broker,
    clock,
    events,
    names: () => events.map(([name]) => name),
    async advance(ms) {
      await flush();
      await clock.advanceAsync(ms);
      await flush();
    },
    async connect() {
      const before = events.filter(([n]) => n === 'connectionSuccess').length;
      client.start();
      for (let i = 0; i < 50; i++) {
        await flush(5);
        if (events.filter(([n]) => n === 'connectionSuccess').length > before) return;
      }
      throw new Error(`did not connect; events: ${harness.names().join(', ')}`);
    },
    async dispose() {
      client.close();
      await flush();
    },
  };
  harnesses.push(harness);
  return harness;
}

/** Closes every harness created by `setup` (use in afterEach). */
export async function disposeAll(): Promise<void> {
  for (const h of harnesses.splice(0)) await h.dispose();
}

export { flush };
