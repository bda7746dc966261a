import { Mqtt5Error } from '@mqtt5/codec';
import { disposeAll, flush, setup } from '../test/helpers/harness.js';
import { abortError, isTlsError, toTransportError } from './index.js';

afterEach(disposeAll);

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
    expect(isTlsError(nodeError('ERR_OSSL_EVP_BAD_DECRYPT'))).toBe(true);
    expect(isTlsError(nodeError('ECONNRESET'))).toBe(false);
    expect(isTlsError(Object.assign(new Error('x'), { library: 'zlib' }))).toBe(false);
    expect(isTlsError('string')).toBe(false);
    expect(isTlsError(null)).toBe(false);
  });

  it('handles non-Error values', () => {
    const error = toTransportError('weird', 'tcp', 'x:1');
    expect(error.code).toBe('AWS_ERROR_TRANSPORT_FAILURE');
    expect(error.message).toContain('weird');
  });
});

describe('abortError', () => {
  it('is ABORTED with the reason as cause, or the reason itself when it is an Mqtt5Error', () => {
    const reason = new Error('stop');
    const error = abortError(reason, 'h:1');
    expect(error.code).toBe('ABORTED');
    expect(error.cause).toBe(reason);
    expect(error.message).toContain('h:1');
    const own = new Mqtt5Error('AWS_IO_SOCKET_TIMEOUT');
    expect(abortError(own, 'h:1')).toBe(own);
  });
});

describe('Mqtt5Client: an error of the established transport', () => {
  // what Node emits when a TLS 1.3 server rejects the client certificate after the handshake
  const alert = (): Error =>
    Object.assign(new Error('error:0A000418:SSL routines::tlsv1 alert unknown ca'), {
      code: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
      library: 'SSL routines',
      reason: 'tlsv1 alert unknown ca',
    });

  it('a TLS alert before CONNACK: connectionFailure AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE, the alert as cause', async () => {
    const error = alert();
    const h = setup({}, { handlers: { connect: (_p, conn) => conn.destroy(error) } });
    h.client.start();
    await flush();
    expect(h.names()).toEqual(['attemptingConnect', 'connectionFailure']);
    const failure = h.events[1]![1].error as Mqtt5Error;
    expect(failure.code).toBe('AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE');
    expect(failure.cause).toBe(error);
    expect(failure.message).toContain('tlsv1 alert unknown ca');
  });

  it.each([
    ['a TLS alert', alert(), 'AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE'],
    ['an OpenSSL error without a code', Object.assign(new Error('bad record mac'), { library: 'SSL routines' }), 'AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE'],
    ['a stream error', Object.assign(new Error('write after end'), { code: 'ERR_STREAM_WRITE_AFTER_END' }), 'AWS_IO_SOCKET_CLOSED'],
  ])('%s while connected: disconnection with the mapped code, the error as cause', async (_what, error, code) => {
    const h = setup();
    await h.connect();
    h.broker.last.destroy(error);
    await flush();
    expect(h.names()).toEqual(['attemptingConnect', 'connectionSuccess', 'disconnection']);
    const reported = h.events[2]![1].error as Mqtt5Error;
    expect(reported.code).toBe(code);
    expect(reported.cause).toBe(error);
  });
});
