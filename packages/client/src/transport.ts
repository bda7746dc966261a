/**
 * The transport contract: how the client gets bytes to and from a broker without knowing whether
 * they travel over TCP, TLS, a websocket, a proxy tunnel or an in-memory pipe.
 *
 * A {@link Connector} is an async function the client calls once per connection attempt. It opens
 * one byte stream — a {@link Transport} — and resolves when the stream is ready for MQTT bytes
 * (TCP connected, TLS handshake done, websocket upgraded, proxy tunnel established).
 *
 * @packageDocumentation
 */

/**
 * One connected byte stream. Any Node.js `Duplex` satisfies it (`net.Socket`, `tls.TLSSocket`, the
 * stream of `ws.createWebSocketStream`, …); a transport may also implement it directly.
 *
 * Contract:
 * - `'data'` delivers inbound bytes in order, chunked arbitrarily.
 * - `write(chunk, cb)` queues bytes; `cb` runs once they were handed to the operating system (or with
 *   the error that prevented it). It returns `false` when the caller should wait for `'drain'` before
 *   writing more. The client keeps at most one write pending.
 * - `end()` flushes what was written, then closes gracefully; `destroy(err?)` closes at once.
 * - `'close'` is emitted exactly once when the stream is finished, whatever the reason, possibly after
 *   an `'error'`. After `'close'` no other event is emitted.
 */
export interface Transport {
  write(chunk: Uint8Array, callback?: (error?: Error | null) => void): boolean;
  end(): unknown;
  destroy(error?: Error): unknown;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'drain', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  removeListener(event: 'data' | 'drain' | 'error' | 'close', listener: (...args: never[]) => void): unknown;
}

/**
 * Key of an optional method of the {@link ConnectOptions} the client makes, for the connectors of
 * this SDK: `options[ATTEMPT_ON_ABORT](callback)` sets the attempt's one abort callback (called
 * with the abort reason), `options[ATTEMPT_ON_ABORT](undefined)` clears it; it returns false when
 * the attempt is aborted already. It does what an `'abort'` listener on `options.signal` does,
 * without the AbortController and EventTarget listener that each attempt would otherwise cost.
 * A registered symbol (`Symbol.for`), so that a connector needs no import to look for it; other
 * connectors use `signal`.
 * @internal
 */
export const ATTEMPT_ON_ABORT: unique symbol = Symbol.for('@mqtt5/client.ConnectOptions.onAbort');

/** What the client hands a {@link Connector} for one connection attempt. */
export interface ConnectOptions {
  /**
   * Aborted when the client gives up on this attempt (`stop()`, `close()`). The connector must then
   * reject promptly and release anything it opened.
   */
  readonly signal: AbortSignal;
}

/**
 * Opens the byte stream of one connection attempt.
 *
 * Reject with an `Mqtt5Error` whose code names the failure (`AWS_IO_DNS_INVALID_NAME`,
 * `AWS_IO_SOCKET_CONNECTION_REFUSED`, `AWS_IO_SOCKET_TIMEOUT`, `AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE`,
 * `AWS_ERROR_HTTP_WEBSOCKET_UPGRADE_FAILURE`, `AWS_ERROR_HTTP_PROXY_CONNECT_FAILED`, …) and the
 * underlying error as `cause`. Any other rejection is reported as `AWS_ERROR_TRANSPORT_FAILURE`.
 * `toTransportError` of this package maps a Node.js error to these codes.
 * A connector must always settle: it owns its connect timeout.
 */
export type Connector = (options: ConnectOptions) => Promise<Transport>;
