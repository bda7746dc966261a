/**
 * Node.js error → SDK error code mapping of the transports, public for authors of custom connectors:
 * map a Node.js error to the SDK's codes.
 *
 * A connector opening its own sockets (a custom tunnel, a socket from another library) rejects with
 * `toTransportError(error, phase, target)` and reports the same codes as the SDK's transports; the
 * client uses the same mapping for an error its transport emits on an established connection (a TLS
 * alert after a TLS 1.3 handshake, for example). This module opens no sockets and imports no
 * `node:net`/`node:tls`: it only reads the `code`/`library` fields Node puts on its errors.
 *
 * @packageDocumentation
 */
import { Mqtt5Error, type Mqtt5ErrorCode } from '@mqtt5/codec';

/**
 * The step of a connection attempt an error happened in; it decides codes that are ambiguous (a
 * reset during `'proxy'` is the proxy failing, during `'tls'` the handshake failing):
 * `'tcp'` (DNS and TCP connect), `'tls'` (the TLS handshake), `'proxy'` (an HTTP CONNECT tunnel),
 * `'websocket'` (the websocket upgrade).
 */
export type ConnectPhase = 'tcp' | 'tls' | 'proxy' | 'websocket';

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL', 'EAI_NODATA', 'EAI_ADDRFAMILY']);
const NETWORK_DOWN_CODES = new Set(['ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN', 'EHOSTDOWN', 'EADDRNOTAVAIL']);
const CLOSED_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_SOCKET_CLOSED']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT']);
/** Certificate verification failures (OpenSSL `X509_V_ERR_*` names as Node reports them). */
const CERT_CODE = /^(?:UNABLE_TO_|CERT_|DEPTH_ZERO_|SELF_SIGNED_|INVALID_|HOSTNAME_MISMATCH|ERR_TLS_|ERR_SSL_|ERR_OSSL_)/;

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // net.connect with autoSelectFamily fails with an AggregateError of the per-address errors
  const errors = (error as { errors?: unknown }).errors;
  if (Array.isArray(errors)) {
    for (const inner of errors) {
      const innerCode = codeOf(inner);
      if (innerCode !== undefined) return innerCode;
    }
  }
  return undefined;
}

/**
 * True when the error comes from TLS (handshake, certificate check or a TLS alert): its `code` is a
 * certificate verification failure or starts with `ERR_SSL_`, `ERR_TLS_` or `ERR_OSSL_`, or it has an
 * OpenSSL `library` field (`'SSL routines'`). For an `AggregateError` the first inner code counts.
 *
 * @param error - any value thrown or emitted
 */
export function isTlsError(error: unknown): boolean {
  const code = codeOf(error);
  if (code !== undefined && CERT_CODE.test(code)) return true;
  if (typeof error !== 'object' || error === null) return false;
  const library = (error as { library?: unknown }).library;
  return typeof library === 'string' && /SSL|TLS/i.test(library);
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * Turns any error raised while opening a connection into an `Mqtt5Error` with a transport code and
 * the original error as `cause`. An `Mqtt5Error` is returned unchanged.
 *
 * Codes: `AWS_IO_DNS_INVALID_NAME`, `AWS_IO_SOCKET_CONNECTION_REFUSED`, `AWS_IO_SOCKET_TIMEOUT`,
 * `AWS_IO_SOCKET_NETWORK_DOWN`, `AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE` (any TLS error, see
 * {@link isTlsError}, or any failure during `'tls'`), `AWS_IO_SOCKET_CLOSED` (a reset during `'tcp'`),
 * `AWS_ERROR_HTTP_PROXY_CONNECT_FAILED` / `AWS_ERROR_HTTP_WEBSOCKET_UPGRADE_FAILURE` (other failures
 * during `'proxy'` / `'websocket'`), else `AWS_ERROR_TRANSPORT_FAILURE`.
 *
 * @example
 * ```ts
 * socket.once('error', (error) => reject(toTransportError(error, 'tcp', `${host}:${port}`)));
 * ```
 *
 * @param error - what was thrown or emitted
 * @param phase - the step of the attempt that failed
 * @param target - `host:port` for the message
 */
export function toTransportError(error: unknown, phase: ConnectPhase, target: string): Mqtt5Error {
  if (Mqtt5Error.isInstance(error)) return error;
  const code = codeOf(error);
  const detail = `${messageOf(error)}${code !== undefined && !messageOf(error).includes(code) ? ` (${code})` : ''}`;
  let mapped: Mqtt5ErrorCode;
  let what: string;
  if (code !== undefined && DNS_CODES.has(code)) {
    mapped = 'AWS_IO_DNS_INVALID_NAME';
    what = `host name of ${target} could not be resolved`;
  } else if (code === 'ECONNREFUSED') {
    mapped = 'AWS_IO_SOCKET_CONNECTION_REFUSED';
    what = `connection to ${target} refused`;
  } else if (code !== undefined && TIMEOUT_CODES.has(code)) {
    mapped = 'AWS_IO_SOCKET_TIMEOUT';
    what = `connection to ${target} timed out`;
  } else if (code !== undefined && NETWORK_DOWN_CODES.has(code)) {
    mapped = 'AWS_IO_SOCKET_NETWORK_DOWN';
    what = `network unreachable for ${target}`;
  } else if (phase === 'tls' || isTlsError(error)) {
    mapped = 'AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE';
    what = `TLS handshake with ${target} failed`;
  } else if (code !== undefined && CLOSED_CODES.has(code)) {
    // a close while TCP is up but the proxy or the websocket upgrade has not answered is that step failing
    mapped =
      phase === 'proxy'
        ? 'AWS_ERROR_HTTP_PROXY_CONNECT_FAILED'
        : phase === 'websocket'
          ? 'AWS_ERROR_HTTP_WEBSOCKET_UPGRADE_FAILURE'
          : 'AWS_IO_SOCKET_CLOSED';
    what = `connection to ${target} closed during ${phaseName(phase)}`;
  } else if (phase === 'websocket') {
    mapped = 'AWS_ERROR_HTTP_WEBSOCKET_UPGRADE_FAILURE';
    what = `websocket upgrade at ${target} failed`;
  } else if (phase === 'proxy') {
    mapped = 'AWS_ERROR_HTTP_PROXY_CONNECT_FAILED';
    what = `proxy CONNECT to ${target} failed`;
  } else {
    mapped = 'AWS_ERROR_TRANSPORT_FAILURE';
    what = `connection to ${target} failed`;
  }
  return new Mqtt5Error(mapped, `${what}: ${detail}`, { cause: error });
}

function phaseName(phase: ConnectPhase): string {
  switch (phase) {
    case 'tcp':
      return 'connect';
    case 'tls':
      return 'the TLS handshake';
    case 'proxy':
      return 'the proxy CONNECT';
    case 'websocket':
      return 'the websocket upgrade';
  }
}

/**
 * The error a connector rejects with when its `signal` is aborted: the abort reason itself when it is
 * an `Mqtt5Error`, else `ABORTED` with the reason as `cause`.
 *
 * @param reason - `signal.reason`
 * @param target - `host:port` for the message
 */
export function abortError(reason: unknown, target: string): Mqtt5Error {
  if (Mqtt5Error.isInstance(reason)) return reason;
  return new Mqtt5Error('ABORTED', `connection attempt to ${target} aborted`, { cause: reason });
}
