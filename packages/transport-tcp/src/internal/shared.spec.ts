import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Mqtt5Error } from '@mqtt5/codec';
import { DEFAULT_CONNECT_TIMEOUT_MS, withDeadline } from './attempt.js';
import { isTlsError, toTransportError } from './errors.js';
import { resolveSocketOptions, validateEndpoint } from './socket-options.js';
import { isPemText, tlsConnectOptions, tlsOptionsOf, validateTlsOptions } from './tls-options.js';
import { createSecureContext } from 'node:tls';

const SHARED = ['errors.ts', 'attempt.ts', 'tls-options.ts', 'socket-options.ts', 'connect.ts'];

describe('shared internal helpers', () => {
  it.each(['transport-websocket', 'transport-http-proxy'])('are identical in %s', (pkg) => {
    for (const file of SHARED) {
      const here = readFileSync(path.join(__dirname, file), 'utf8');
      const there = readFileSync(path.join(__dirname, '..', '..', '..', pkg, 'src', 'internal', file), 'utf8');
      expect({ file, same: there === here }).toEqual({ file, same: true });
    }
  });
});

function nodeError(code: string, message = code): Error {
  return Object.assign(new Error(message), { code });
}

describe('toTransportError', () => {
  it.each([
    ['ENOTFOUND', 'tcp', 'AWS_IO_DNS_INVALID_NAME'],
    ['EAI_AGAIN', 'tcp', 'AWS_IO_DNS_INVALID_NAME'],
    ['EAI_NONAME', 'proxy', 'AWS_IO_DNS_INVALID_NAME'],
    ['ECONNREFUSED', 'tcp', 'AWS_IO_SOCKET_CONNECTION_REFUSED'],
    ['ECONNREFUSED', 'websocket', 'AWS_IO_SOCKET_CONNECTION_REFUSED'],
    ['ETIMEDOUT', 'tcp', 'AWS_IO_SOCKET_TIMEOUT'],
    ['ENETUNREACH', 'tcp', 'AWS_IO_SOCKET_NETWORK_DOWN'],
    ['EHOSTUNREACH', 'tcp', 'AWS_IO_SOCKET_NETWORK_DOWN'],
    ['ECONNRESET', 'tcp', 'AWS_IO_SOCKET_CLOSED'],
    ['EPIPE', 'tcp', 'AWS_IO_SOCKET_CLOSED'],
    ['ECONNRESET', 'tls', 'AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE'],
    ['ECONNRESET', 'proxy', 'AWS_ERROR_HTTP_PROXY_CONNECT_FAILED'],
    ['ECONNRESET', 'websocket', 'AWS_ERROR_HTTP_WEBSOCKET_UPGRADE_FAILURE'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'tls', 'AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'tls', 'AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'tls', 'AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE'],
    ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'tcp', 'AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'websocket', 'AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE'],
    ['EWHATEVER', 'tcp', 'AWS_ERROR_TRANSPORT_FAILURE'],
    ['EWHATEVER', 'websocket', 'AWS_ERROR_HTTP_WEBSOCKET_UPGRADE_FAILURE'],
    ['EWHATEVER', 'proxy', 'AWS_ERROR_HTTP_PROXY_CONNECT_FAILED'],
  ] as const)('%s during %s → %s, cause kept', (code, phase, expected) => {
    const cause = nodeError(code);
    const error = toTransportError(cause, phase, 'broker:1883');
    expect(error.code).toBe(expected);
    expect(error.cause).toBe(cause);
    expect(error.message).toContain('broker:1883');
    expect(error.message).toContain(code);
  });

  it('returns an Mqtt5Error unchanged', () => {
    const own = new Mqtt5Error('AWS_IO_SOCKET_TIMEOUT');
    expect(toTransportError(own, 'tcp', 'x:1')).toBe(own);
  });

  it('reads the code of an AggregateError (autoSelectFamily)', () => {
    const aggregate = new AggregateError([nodeError('ECONNREFUSED'), nodeError('ECONNREFUSED')], 'all failed');
    expect(toTransportError(aggregate, 'tcp', 'x:1').code).toBe('AWS_IO_SOCKET_CONNECTION_REFUSED');
  });

  it('recognises OpenSSL errors by their library', () => {
    expect(isTlsError(Object.assign(new Error('x'), { library: 'SSL routines' }))).toBe(true);
    expect(isTlsError(nodeError('ECONNRESET'))).toBe(false);
    expect(isTlsError('string')).toBe(false);
  });

  it('handles non-Error values', () => {
    const error = toTransportError('weird', 'tcp', 'x:1');
    expect(error.code).toBe('AWS_ERROR_TRANSPORT_FAILURE');
    expect(error.message).toContain('weird');
  });
});

describe('withDeadline', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('aborts the inner signal with AWS_IO_SOCKET_TIMEOUT after the timeout (default 10000 ms)', async () => {
    expect(DEFAULT_CONNECT_TIMEOUT_MS).toBe(10_000);
    let inner: AbortSignal | undefined;
    const pending = withDeadline(new AbortController().signal, DEFAULT_CONNECT_TIMEOUT_MS, 'h:1', (signal) => {
      inner = signal;
      return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    });
    const outcome = pending.catch((e: unknown) => e as Mqtt5Error);
    jest.advanceTimersByTime(9_999);
    expect(inner?.aborted).toBe(false);
    jest.advanceTimersByTime(1);
    const error = await outcome;
    expect(error).toBeInstanceOf(Mqtt5Error);
    expect((error as Mqtt5Error).code).toBe('AWS_IO_SOCKET_TIMEOUT');
    expect((error as Mqtt5Error).message).toContain('10000 ms');
  });

  it('forwards the caller abort as ABORTED with the reason as cause, and clears its timer', async () => {
    const controller = new AbortController();
    const pending = withDeadline(controller.signal, 1000, 'h:1', (signal) =>
      new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    );
    const reason = new Error('stop');
    controller.abort(reason);
    const error = (await pending.catch((e: unknown) => e)) as Mqtt5Error;
    expect(error.code).toBe('ABORTED');
    expect(error.cause).toBe(reason);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('rejects at once for an already aborted signal, without running the body', async () => {
    const controller = new AbortController();
    controller.abort();
    const body = jest.fn();
    await expect(withDeadline(controller.signal, 1000, 'h:1', body)).rejects.toMatchObject({ code: 'ABORTED' });
    expect(body).not.toHaveBeenCalled();
  });

  it('clears the timer after success', async () => {
    await expect(withDeadline(new AbortController().signal, 1000, 'h:1', async () => 7)).resolves.toBe(7);
    expect(jest.getTimerCount()).toBe(0);
  });
});

describe('resolveSocketOptions', () => {
  it('applies the defaults', () => {
    expect(resolveSocketOptions(undefined)).toEqual({ connectTimeoutMs: 10_000, keepAlive: false, keepAliveDelayMs: 0 });
    expect(resolveSocketOptions({ keepAlive: true, keepAliveDelayMs: 30_000, connectTimeoutMs: 5000 })).toEqual({
      connectTimeoutMs: 5000,
      keepAlive: true,
      keepAliveDelayMs: 30_000,
    });
  });

  it.each([
    [{ connectTimeoutMs: 0 }],
    [{ connectTimeoutMs: -1 }],
    [{ connectTimeoutMs: 1.5 }],
    [{ connectTimeoutMs: 2 ** 31 }],
    [{ keepAlive: 'yes' }],
    [{ keepAliveDelayMs: -5 }],
    [{ nodelay: true }],
    ['fast'],
  ])('rejects %p', (options) => {
    expect(() => resolveSocketOptions(options)).toThrow(expect.objectContaining({ code: 'AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION' }));
  });
});

describe('validateEndpoint', () => {
  it.each([
    ['', 1883],
    [undefined, 1883],
    ['h', 0],
    ['h', 65536],
    ['h', 1.5],
    ['h', '1883'],
  ])('rejects host %p port %p', (host, port) => {
    expect(() => validateEndpoint(host, port, '')).toThrow(expect.objectContaining({ code: 'AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION' }));
  });

  it('accepts a host and a port', () => {
    expect(() => validateEndpoint('localhost', 1, '')).not.toThrow();
    expect(() => validateEndpoint('::1', 65535, '')).not.toThrow();
  });
});

describe('TLS options', () => {
  it('tells PEM text from a file path', () => {
    expect(isPemText('-----BEGIN CERTIFICATE-----\n...')).toBe(true);
    expect(isPemText('\n  -----BEGIN PRIVATE KEY-----')).toBe(true);
    expect(isPemText('/etc/certs/ca.pem')).toBe(false);
    expect(isPemText('ca.pem')).toBe(false);
  });

  it.each([
    [true],
    [false],
    [undefined],
    [{}],
    [{ ca: '/x', cert: '/y', key: new Uint8Array([1]), passphrase: 'p', alpn: ['mqtt'], servername: 'h', rejectUnauthorized: false }],
    [{ pfx: '/x.p12', passphrase: 'p' }],
    [{ ca: ['/a', '/b'] }],
  ])('accepts %p', (options) => {
    expect(() => validateTlsOptions(options, 'tls')).not.toThrow();
  });

  it.each([
    ['string', 'tls must be'],
    [[], 'tls must be'],
    [{ ca: '' }, 'tls.ca'],
    [{ ca: [] }, 'tls.ca'],
    [{ ca: 5 }, 'tls.ca'],
    [{ cert: '/c' }, 'given together'],
    [{ key: '/k' }, 'given together'],
    [{ pfx: '/p', cert: '/c', key: '/k' }, 'either pfx'],
    [{ passphrase: 1 }, 'passphrase'],
    [{ alpn: 'mqtt' }, 'alpn'],
    [{ alpn: [''] }, 'alpn'],
    [{ servername: '' }, 'servername'],
    [{ rejectUnauthorized: 'no' }, 'rejectUnauthorized'],
    [{ ciphers: 'x' }, 'not a TLS option'],
  ])('rejects %p', (options, message) => {
    expect(() => validateTlsOptions(options, 'tls')).toThrow(message);
    expect(() => validateTlsOptions(options, 'tls')).toThrow(expect.objectContaining({ code: 'AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION' }));
  });

  it('tlsOptionsOf takes a frozen snapshot: later changes to the caller\'s object change nothing', () => {
    const key = Buffer.from('key bytes');
    const original = { ca: ['/a.pem'], key, cert: '/c.pem', alpn: ['mqtt'], rejectUnauthorized: true };
    const copy = tlsOptionsOf(original)!;
    original.ca.push('/b.pem');
    original.alpn[0] = 'x';
    key.fill(0);
    original.rejectUnauthorized = false;
    expect(copy).toEqual({ ca: ['/a.pem'], key: new Uint8Array(Buffer.from('key bytes')), cert: '/c.pem', alpn: ['mqtt'], rejectUnauthorized: true });
    expect(Object.isFrozen(copy)).toBe(true);
    expect(tlsOptionsOf(true)).toEqual({});
    expect(tlsOptionsOf(false)).toBeUndefined();
    expect(tlsOptionsOf(undefined)).toBeUndefined();
  });

  it('builds tls.connect options: SNI from the host name, none for an IP, verification on by default', () => {
    const secureContext = createSecureContext({});
    expect(tlsConnectOptions({}, 'broker.example.com', secureContext)).toEqual({
      host: 'broker.example.com',
      secureContext,
      rejectUnauthorized: true,
      servername: 'broker.example.com',
    });
    expect(tlsConnectOptions({ alpn: ['x-amzn-mqtt-ca'] }, '10.0.0.1', secureContext)).toEqual({
      host: '10.0.0.1',
      secureContext,
      rejectUnauthorized: true,
      ALPNProtocols: ['x-amzn-mqtt-ca'],
    });
    expect(tlsConnectOptions({ servername: 'iot.example', rejectUnauthorized: false }, '::1', secureContext)).toMatchObject({
      servername: 'iot.example',
      rejectUnauthorized: false,
    });
  });
});
