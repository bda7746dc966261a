/**
 * TLS options shared by the transports: validation, loading certificates/keys from files or memory,
 * and the `tls.connect` options built from them.
 *
 * Shared with transport-websocket and transport-http-proxy through `@mqtt5/transport-tcp/internal`.
 *
 * @internal
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { createSecureContext, type ConnectionOptions, type SecureContext } from 'node:tls';
import { Mqtt5Error } from '@mqtt5/codec';

/**
 * A certificate, key, CA bundle or PKCS#12 archive: its content, or the path of a file holding it.
 *
 * - a string that starts with `-----BEGIN` (leading whitespace ignored) is PEM text;
 * - a `Uint8Array` (a `Buffer`) is the content itself (PEM, or DER for `pfx`);
 * - any other string is a file path, read at every connection attempt.
 */
export type TlsSource = string | Uint8Array;

/** TLS settings for a connection (to the broker, or to an HTTPS proxy). */
export interface TlsOptions {
  /** Trusted CA certificate(s). Replaces Node's default root CAs when given. */
  readonly ca?: TlsSource | readonly TlsSource[];
  /** Client certificate chain (PEM) for mutual TLS; needs `key`. */
  readonly cert?: TlsSource;
  /** Private key (PEM) of `cert`. */
  readonly key?: TlsSource;
  /** PKCS#12 archive holding the client certificate and key (instead of `cert` + `key`). */
  readonly pfx?: TlsSource;
  /** Passphrase of an encrypted `key` or of `pfx`. */
  readonly passphrase?: string;
  /** ALPN protocol names offered in the handshake (AWS IoT on port 443: `['x-amzn-mqtt-ca']`). */
  readonly alpn?: readonly string[];
  /** SNI server name and the name the certificate must match. Default: the host name, unless it is an IP address. */
  readonly servername?: string;
  /** Reject a server whose certificate does not verify. Default `true`; `false` is for tests only. */
  readonly rejectUnauthorized?: boolean;
}

const TLS_KEYS = new Set(['ca', 'cert', 'key', 'pfx', 'passphrase', 'alpn', 'servername', 'rejectUnauthorized']);

function invalid(message: string): Mqtt5Error {
  return new Mqtt5Error('AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION', message);
}

function isSource(value: unknown): value is TlsSource {
  return (typeof value === 'string' && value.length > 0) || value instanceof Uint8Array;
}

/** True when `value` is PEM text rather than a file path. */
export function isPemText(value: string): boolean {
  return value.trimStart().startsWith('-----BEGIN');
}

/**
 * Checks the shape of TLS options synchronously (no file access).
 *
 * @param value - `true`, `false`, `undefined` or a {@link TlsOptions} object
 * @param name - the option's name for messages (`tls`, `httpProxyOptions.tls`)
 * @throws Mqtt5Error `AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION`
 */
export function validateTlsOptions(value: unknown, name: string): void {
  if (value === undefined || typeof value === 'boolean') return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(`${name} must be true, false or a TLS options object`);
  }
  const options = value as Record<string, unknown>;
  for (const key of Object.keys(options)) {
    if (!TLS_KEYS.has(key)) throw invalid(`${name}.${key} is not a TLS option`);
  }
  const { ca, cert, key, pfx, passphrase, alpn, servername, rejectUnauthorized } = options;
  if (ca !== undefined) {
    const list = Array.isArray(ca) ? ca : [ca];
    if (list.length === 0 || !list.every(isSource)) {
      throw invalid(`${name}.ca must be a file path, PEM text or bytes, or a non-empty array of them`);
    }
  }
  for (const [field, v] of [
    ['cert', cert],
    ['key', key],
    ['pfx', pfx],
  ] as const) {
    if (v !== undefined && !isSource(v)) throw invalid(`${name}.${field} must be a file path, PEM text or bytes`);
  }
  if ((cert === undefined) !== (key === undefined)) {
    throw invalid(`${name}.cert and ${name}.key must be given together`);
  }
  if (pfx !== undefined && cert !== undefined) throw invalid(`${name}: give either pfx or cert + key, not both`);
  if (passphrase !== undefined && typeof passphrase !== 'string') throw invalid(`${name}.passphrase must be a string`);
  if (
    alpn !== undefined &&
    (!Array.isArray(alpn) || !alpn.every((p) => typeof p === 'string' && p.length > 0 && p.length < 256))
  ) {
    throw invalid(`${name}.alpn must be an array of protocol names`);
  }
  if (servername !== undefined && (typeof servername !== 'string' || servername.length === 0)) {
    throw invalid(`${name}.servername must be a non-empty string`);
  }
  if (rejectUnauthorized !== undefined && typeof rejectUnauthorized !== 'boolean') {
    throw invalid(`${name}.rejectUnauthorized must be a boolean`);
  }
}

function copySource(value: TlsSource): TlsSource {
  return typeof value === 'string' ? value : Uint8Array.prototype.slice.call(value);
}

/**
 * Normalizes `true | TlsOptions | false | undefined` to options or `undefined` (plaintext). The
 * result is a frozen copy (bytes included): changing the caller's object later changes nothing.
 */
export function tlsOptionsOf(value: boolean | TlsOptions | undefined): TlsOptions | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return Object.freeze({});
  const copy: { -readonly [K in keyof TlsOptions]: TlsOptions[K] } = {};
  if (value.ca !== undefined) {
    copy.ca = Array.isArray(value.ca) ? Object.freeze(value.ca.map(copySource)) : copySource(value.ca as TlsSource);
  }
  if (value.cert !== undefined) copy.cert = copySource(value.cert);
  if (value.key !== undefined) copy.key = copySource(value.key);
  if (value.pfx !== undefined) copy.pfx = copySource(value.pfx);
  if (value.passphrase !== undefined) copy.passphrase = value.passphrase;
  if (value.alpn !== undefined) copy.alpn = Object.freeze([...value.alpn]);
  if (value.servername !== undefined) copy.servername = value.servername;
  if (value.rejectUnauthorized !== undefined) copy.rejectUnauthorized = value.rejectUnauthorized;
  return Object.freeze(copy);
}

function describeSource(field: string, value: TlsSource): string {
  return typeof value === 'string' && !isPemText(value) ? `${field} file '${value}'` : `${field} (in memory)`;
}

async function load(field: string, value: TlsSource): Promise<string | Buffer> {
  if (typeof value !== 'string') return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (isPemText(value)) return value;
  try {
    return await readFile(value);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new Mqtt5Error(
      'AWS_IO_FILE_VALIDATION_FAILURE',
      `cannot read TLS ${field} file '${value}'${typeof code === 'string' ? ` (${code})` : ''}`,
      { cause: error },
    );
  }
}

function hasFile(options: TlsOptions): boolean {
  const sources: TlsSource[] = [];
  if (options.ca !== undefined) sources.push(...(Array.isArray(options.ca) ? options.ca : [options.ca as TlsSource]));
  for (const v of [options.cert, options.key, options.pfx]) if (v !== undefined) sources.push(v);
  return sources.some((s) => typeof s === 'string' && !isPemText(s));
}

/**
 * Builds the TLS secure context of one attempt. Files are read at every attempt (a renewed
 * certificate is picked up by the next reconnect; a missing file fails that attempt only); a context
 * made only from in-memory material is built once and reused.
 */
export class SecureContextLoader {
  private cached: SecureContext | undefined;

  constructor(private readonly options: TlsOptions) {}

  /**
   * @throws Mqtt5Error `AWS_IO_FILE_VALIDATION_FAILURE` when a file cannot be read or the material
   *   cannot be parsed (bad PEM, key not matching the certificate, wrong passphrase)
   */
  async load(): Promise<SecureContext> {
    if (this.cached !== undefined) return this.cached;
    const o = this.options;
    const ca =
      o.ca === undefined
        ? undefined
        : await Promise.all((Array.isArray(o.ca) ? o.ca : [o.ca as TlsSource]).map((c: TlsSource) => load('ca', c)));
    const cert = o.cert === undefined ? undefined : await load('cert', o.cert);
    const key = o.key === undefined ? undefined : await load('key', o.key);
    const pfx = o.pfx === undefined ? undefined : await load('pfx', o.pfx);
    let context: SecureContext;
    try {
      context = createSecureContext({
        ...(ca !== undefined ? { ca } : {}),
        ...(cert !== undefined ? { cert } : {}),
        ...(key !== undefined ? { key } : {}),
        ...(pfx !== undefined ? { pfx } : {}),
        ...(o.passphrase !== undefined ? { passphrase: o.passphrase } : {}),
      });
    } catch (error) {
      const used: string[] = [];
      if (o.ca !== undefined) for (const c of Array.isArray(o.ca) ? o.ca : [o.ca as TlsSource]) used.push(describeSource('ca', c));
      if (o.cert !== undefined) used.push(describeSource('cert', o.cert));
      if (o.key !== undefined) used.push(describeSource('key', o.key));
      if (o.pfx !== undefined) used.push(describeSource('pfx', o.pfx));
      throw new Mqtt5Error(
        'AWS_IO_FILE_VALIDATION_FAILURE',
        `invalid TLS material (${used.join(', ')}): ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    if (!hasFile(o)) this.cached = context;
    return context;
  }
}

/**
 * The `tls.connect` options for `host`: SNI (unless `host` is an IP address and no `servername` was
 * given), certificate check on by default, ALPN.
 */
export function tlsConnectOptions(options: TlsOptions, host: string, secureContext: SecureContext): ConnectionOptions {
  const servername = options.servername ?? (isIP(host) === 0 ? host : undefined);
  const result: ConnectionOptions = {
    host,
    secureContext,
    rejectUnauthorized: options.rejectUnauthorized ?? true,
  };
  if (servername !== undefined) result.servername = servername;
  if (options.alpn !== undefined && options.alpn.length > 0) result.ALPNProtocols = [...options.alpn];
  return result;
}
