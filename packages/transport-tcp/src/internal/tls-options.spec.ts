import { createSecureContext } from 'node:tls';
import { isPemText, tlsConnectOptions, tlsOptionsOf, validateTlsOptions } from './tls-options.js';

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
