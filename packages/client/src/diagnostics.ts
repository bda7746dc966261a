/**
 * Observability without cost when unused: `NODE_DEBUG=mqtt5` logging (`util.debuglog`) of state
 * changes, and `node:diagnostics_channel` channels for connection attempts and disconnections.
 * Nothing secret (passwords, usernames, payloads) is ever logged or published.
 *
 * @packageDocumentation
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { ConnackPacket, DisconnectPacket, Mqtt5Error } from '@mqtt5/codec';
import type { NegotiatedSettings } from './negotiated-settings.js';

/**
 * Message published on the `mqtt5:client:connect` diagnostics channel: once when an attempt
 * starts (`phase: 'attempt'`), then once with its outcome (`'success'` or `'failure'`).
 */
export interface ClientConnectMessage {
  /** The client (an `Mqtt5Client`). */
  readonly client: object;
  /** Which step of the attempt this is. */
  readonly phase: 'attempt' | 'success' | 'failure';
  /** The configured host name ('' when not configured). */
  readonly hostName: string;
  /** The configured port (0 when not configured). */
  readonly port: number;
  /** On failure: why. */
  readonly error?: Mqtt5Error;
  /** On success, or on a refusal: the CONNACK. */
  readonly connack?: ConnackPacket;
  /** On success: the negotiated settings. */
  readonly settings?: NegotiatedSettings;
}

/** Message published on the `mqtt5:client:disconnect` diagnostics channel when a connection ends. */
export interface ClientDisconnectMessage {
  /** The client (an `Mqtt5Client`). */
  readonly client: object;
  /** Why the connection ended. */
  readonly error: Mqtt5Error;
  /** The server's DISCONNECT, if it sent one. */
  readonly disconnect?: DisconnectPacket;
}

/** The diagnostics channel names, for `diagnostics_channel.subscribe(name, fn)`. */
export const DIAGNOSTICS_CHANNELS = Object.freeze({
  connect: 'mqtt5:client:connect',
  disconnect: 'mqtt5:client:disconnect',
} as const);

/** @internal */
export const connectChannel = diagnosticsChannel.channel(DIAGNOSTICS_CHANNELS.connect);
/** @internal */
export const disconnectChannel = diagnosticsChannel.channel(DIAGNOSTICS_CHANNELS.disconnect);
