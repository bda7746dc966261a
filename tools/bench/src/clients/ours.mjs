// Ours: @mqtt5/sdk (the facade over @mqtt5/client + transports), imported from its built dist
// (`pnpm bench` builds first). Its API is aws-crt's, so both share the driver in crt-style.mjs; received
// payloads are Buffers.
import { wrapCrtStyleClient } from './crt-style.mjs';

export const name = 'ours';
export const label = 'ours';

let sdk;

export async function load() {
  try {
    sdk = await import('@mqtt5/sdk');
  } catch (err) {
    throw new Error(`@mqtt5/sdk is not available (not built yet, or not a dependency of @mqtt5/bench): ${err.message}`);
  }
  if (typeof sdk.Mqtt5Client !== 'function') throw new Error('@mqtt5/sdk does not export Mqtt5Client');
}

export function createClient({ host, port, clientId, keepAlive, onMessage }) {
  const client = new sdk.Mqtt5Client({
    hostName: host,
    port,
    connectProperties: { keepAliveIntervalSeconds: keepAlive, clientId },
  });
  return wrapCrtStyleClient(client, onMessage);
}
