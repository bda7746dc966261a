/**
 * Normalisation of outbound payloads and binary data to `Buffer`.
 *
 * @packageDocumentation
 */
import { types } from 'node:util';
import { Mqtt5Error } from './errors.js';
import type { BinaryData, Payload } from './packets.js';

const EMPTY = Buffer.alloc(0);

/**
 * A `Buffer` over the bytes of `data`, without copying when `data` already holds bytes.
 *
 * - `Buffer` → itself; other `Uint8Array`, `ArrayBufferView` (`DataView`, typed arrays) → a
 *   `Buffer` view of the same memory; `ArrayBuffer`/`SharedArrayBuffer` → a view of all of it.
 * - `string` → its UTF-8 bytes (a new `Buffer`).
 *
 * Returns `undefined` for anything else.
 *
 * @internal
 */
export function bytesOf(data: unknown): Buffer | undefined {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (Buffer.isBuffer(data)) return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (types.isAnyArrayBuffer(data)) return Buffer.from(data);
  return undefined;
}

/**
 * Normalises an outbound PUBLISH payload to a `Buffer`:
 *
 * - `string` → UTF-8 bytes;
 * - `Buffer`/`Uint8Array`/any `ArrayBufferView`/`ArrayBuffer` → a `Buffer` view of the same bytes (no copy);
 * - `undefined`/`null` → an empty `Buffer`;
 * - any other object → the UTF-8 bytes of `JSON.stringify(payload)`.
 *
 * @throws {@link Mqtt5Error} `AWS_ERROR_MQTT5_PUBLISH_OPTIONS_VALIDATION` for a number, boolean,
 * bigint, symbol or function, and for an object `JSON.stringify` cannot serialise (a cycle, a
 * `BigInt`, a `toJSON` that returns `undefined`).
 */
export function toPayloadBuffer(payload: Payload | null | undefined): Buffer {
  if (payload === undefined || payload === null) return EMPTY;
  const bytes = bytesOf(payload);
  if (bytes !== undefined) return bytes;
  if (typeof payload !== 'object') {
    throw new Mqtt5Error(
      'AWS_ERROR_MQTT5_PUBLISH_OPTIONS_VALIDATION',
      `publish: payload must be a string, bytes or an object, got ${typeof payload}`,
    );
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(payload) as string | undefined;
  } catch (cause) {
    throw new Mqtt5Error(
      'AWS_ERROR_MQTT5_PUBLISH_OPTIONS_VALIDATION',
      `publish: payload could not be serialised with JSON.stringify: ${(cause as Error)?.message ?? String(cause)}`,
      { cause },
    );
  }
  if (typeof json !== 'string') {
    throw new Mqtt5Error(
      'AWS_ERROR_MQTT5_PUBLISH_OPTIONS_VALIDATION',
      'publish: payload object serialised to nothing (JSON.stringify returned undefined)',
    );
  }
  return Buffer.from(json, 'utf8');
}

/**
 * Normalises outbound binary data (correlation data, password, authentication data) to a `Buffer`:
 * `string` → UTF-8 bytes; `Buffer`/`Uint8Array`/`ArrayBufferView`/`ArrayBuffer` → a view without copy.
 *
 * @throws {@link Mqtt5Error} `AWS_ERROR_MQTT5_ENCODE_FAILURE` when `data` is none of these.
 */
export function toBinaryBuffer(data: BinaryData): Buffer {
  const bytes = bytesOf(data);
  if (bytes === undefined) {
    throw new Mqtt5Error(
      'AWS_ERROR_MQTT5_ENCODE_FAILURE',
      `binary data must be a string, Uint8Array, ArrayBufferView or ArrayBuffer, got ${data === null ? 'null' : typeof data}`,
    );
  }
  return bytes;
}
