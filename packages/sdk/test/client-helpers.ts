import type { ConnectionFailureEvent, Mqtt5Client, Mqtt5ClientEvents } from '../src/index.js';

/** Resolves with the next `event` of `client` (matching `predicate`), rejects after `timeoutMs`. */
export function nextEvent<K extends keyof Mqtt5ClientEvents>(
  client: Mqtt5Client,
  event: K,
  predicate: (...args: Mqtt5ClientEvents[K]) => boolean = () => true,
  timeoutMs = 5000,
): Promise<Mqtt5ClientEvents[K][0]> {
  return new Promise((resolve, reject) => {
    const listener = (...args: Mqtt5ClientEvents[K]): void => {
      if (!predicate(...args)) return;
      clearTimeout(timer);
      client.off(event, listener as never);
      resolve(args[0]);
    };
    const timer = setTimeout(() => {
      client.off(event, listener as never);
      reject(new Error(`no ${String(event)} event within ${timeoutMs} ms`));
    }, timeoutMs);
    client.on(event, listener as never);
  });
}

/** Records the lifecycle events of `client` as strings (`connectionFailure:<code>` …). */
export function recordLifecycle(client: Mqtt5Client): string[] {
  const events: string[] = [];
  client.on('attemptingConnect', () => events.push('attemptingConnect'));
  client.on('connectionSuccess', () => events.push('connectionSuccess'));
  client.on('connectionFailure', (e) => events.push(`connectionFailure:${e.error.code}`));
  client.on('disconnection', (e) => events.push(`disconnection:${e.error.code}`));
  client.on('stopped', () => events.push('stopped'));
  return events;
}

/** Stops `client`, waits for `stopped`, closes it. Safe to call on a client that never started. */
export async function shutdown(client: Mqtt5Client): Promise<void> {
  const stopped = nextEvent(client, 'stopped', () => true, 5000).catch(() => undefined);
  client.stop();
  await stopped;
  client.close();
}

/**
 * Starts `client`, collects `count` connection failures (the reconnect loop must keep going), then
 * stops and closes it. Returns the failures and the lifecycle record.
 */
export async function collectFailures(
  client: Mqtt5Client,
  count = 2,
  timeoutMs = 8000,
): Promise<{ failures: ConnectionFailureEvent[]; events: string[] }> {
  const events = recordLifecycle(client);
  const failures: ConnectionFailureEvent[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`only ${failures.length} of ${count} connection failures within ${timeoutMs} ms: ${events.join(', ')}`)),
        timeoutMs,
      );
      client.on('connectionFailure', (event) => {
        failures.push(event);
        if (failures.length === count) {
          clearTimeout(timer);
          resolve();
        }
      });
      client.on('connectionSuccess', () => {
        clearTimeout(timer);
        reject(new Error(`unexpected connectionSuccess: ${events.join(', ')}`));
      });
      client.start();
    });
  } finally {
    await shutdown(client);
  }
  return { failures, events };
}
