/**
 * Socket options shared by the transports: validation and defaults.
 *
 * Shared with transport-websocket and transport-http-proxy through `@mqtt5/transport-tcp/internal`.
 *
 * @internal
 */
import { Mqtt5Error } from '@mqtt5/codec';
import { DEFAULT_CONNECT_TIMEOUT_MS } from './attempt.js';

/** TCP socket settings of a connection. */
export interface SocketOptions {
  /**
   * Time allowed for a whole connection attempt: DNS, TCP connect, proxy CONNECT, TLS handshake and
   * websocket upgrade. Default 10000 ms.
   */
  readonly connectTimeoutMs?: number;
  /** Enable TCP keep-alive probes on the connection. Default `false`. */
  readonly keepAlive?: boolean;
  /** Idle time before the first keep-alive probe; `0` (the default) keeps the operating system's value. */
  readonly keepAliveDelayMs?: number;
}

/** Socket options with their defaults applied. */
export interface ResolvedSocketOptions {
  readonly connectTimeoutMs: number;
  readonly keepAlive: boolean;
  readonly keepAliveDelayMs: number;
}

const SOCKET_KEYS = new Set(['connectTimeoutMs', 'keepAlive', 'keepAliveDelayMs']);
/** The largest delay `setTimeout` accepts. */
const MAX_TIMER_MS = 2_147_483_647;

function invalid(message: string): Mqtt5Error {
  return new Mqtt5Error('AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION', message);
}

/**
 * Validates socket options and applies the defaults.
 *
 * @throws Mqtt5Error `AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION`
 */
export function resolveSocketOptions(value: unknown, name = 'socketOptions'): ResolvedSocketOptions {
  if (value === undefined) return { connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS, keepAlive: false, keepAliveDelayMs: 0 };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`${name} must be an object`);
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!SOCKET_KEYS.has(key)) throw invalid(`${name}.${key} is not a socket option`);
  const { connectTimeoutMs, keepAlive, keepAliveDelayMs } = o;
  if (
    connectTimeoutMs !== undefined &&
    (typeof connectTimeoutMs !== 'number' ||
      !Number.isInteger(connectTimeoutMs) ||
      connectTimeoutMs <= 0 ||
      connectTimeoutMs > MAX_TIMER_MS)
  ) {
    throw invalid(`${name}.connectTimeoutMs must be a positive integer number of milliseconds`);
  }
  if (keepAlive !== undefined && typeof keepAlive !== 'boolean') throw invalid(`${name}.keepAlive must be a boolean`);
  if (
    keepAliveDelayMs !== undefined &&
    (typeof keepAliveDelayMs !== 'number' ||
      !Number.isInteger(keepAliveDelayMs) ||
      keepAliveDelayMs < 0 ||
      keepAliveDelayMs > MAX_TIMER_MS)
  ) {
    throw invalid(`${name}.keepAliveDelayMs must be a non-negative integer number of milliseconds`);
  }
  return {
    connectTimeoutMs: (connectTimeoutMs as number | undefined) ?? DEFAULT_CONNECT_TIMEOUT_MS,
    keepAlive: (keepAlive as boolean | undefined) ?? false,
    keepAliveDelayMs: (keepAliveDelayMs as number | undefined) ?? 0,
  };
}

/**
 * Validates a host name and port.
 *
 * @throws Mqtt5Error `AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION`
 */
export function validateEndpoint(hostName: unknown, port: unknown, name: string): void {
  if (typeof hostName !== 'string' || hostName.length === 0) throw invalid(`${name}hostName must be a non-empty string`);
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw invalid(`${name}port must be an integer from 1 to 65535`);
  }
}
