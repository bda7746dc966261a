import { createHttpProxyTunnel, validateHttpProxyOptions, type HttpProxyOptions } from './index.js';

describe('HTTP proxy options', () => {
  it.each([
    [{ hostName: 'proxy', port: 3128 }],
    [{ hostName: 'proxy', port: 3128, authType: 'none' }],
    [{ hostName: 'proxy', port: 3128, authUsername: 'u', authPassword: '' }],
    [{ hostName: 'proxy', port: 3128, authType: 'basic', authUsername: 'u', authPassword: 'p', tls: true }],
    [{ hostName: '::1', port: 443, tls: { ca: '/ca.pem' }, socketOptions: { connectTimeoutMs: 5000 } }],
  ])('accepts %p', (options) => {
    expect(() => validateHttpProxyOptions(options)).not.toThrow();
    expect(typeof createHttpProxyTunnel(options as HttpProxyOptions)).toBe('function');
  });

  it.each([
    [undefined, 'must be an object'],
    [{ hostName: '', port: 3128 }, 'httpProxyOptions.hostName'],
    [{ hostName: 'proxy', port: 70000 }, 'httpProxyOptions.port'],
    [{ hostName: 'pro xy', port: 3128 }, 'not allowed in a host name'],
    [{ hostName: 'proxy\r\nX-Evil: 1', port: 3128 }, 'not allowed in a host name'],
    [{ hostName: 'proxy', port: 3128, authType: 'digest' }, 'authType'],
    [{ hostName: 'proxy', port: 3128, authType: 'basic' }, 'authUsername is required'],
    [{ hostName: 'proxy', port: 3128, authType: 'basic', authUsername: 'a:b', authPassword: 'p' }, "must not contain ':'"],
    [{ hostName: 'proxy', port: 3128, authType: 'none', authUsername: 'u' }, "authType is 'none'"],
    [{ hostName: 'proxy', port: 3128, authPassword: 'p' }, "authType is 'none'"],
    [{ hostName: 'proxy', port: 3128, authUsername: 5 }, 'authUsername must be a string'],
    [{ hostName: 'proxy', port: 3128, tls: 'yes' }, 'httpProxyOptions.tls'],
    [{ hostName: 'proxy', port: 3128, socketOptions: { keepAlive: 1 } }, 'httpProxyOptions.socketOptions.keepAlive'],
    [{ hostName: 'proxy', port: 3128, connectionType: 'tunneling' }, 'not an HTTP proxy option'],
  ])('rejects %p', (options, message) => {
    const check = (): void => validateHttpProxyOptions(options, 'httpProxyOptions.');
    expect(check).toThrow(message);
    expect(check).toThrow(expect.objectContaining({ code: 'AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION' }));
  });

  it('createHttpProxyTunnel validates too', () => {
    expect(() => createHttpProxyTunnel({ hostName: 'proxy', port: 0 })).toThrow(
      expect.objectContaining({ code: 'AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION' }),
    );
  });

  it('a tunnel refuses a target host that could inject headers, without opening anything', async () => {
    const tunnel = createHttpProxyTunnel({ hostName: 'proxy.invalid', port: 3128 });
    await expect(tunnel({ host: 'broker\r\nX-Evil: 1', port: 1883, signal: new AbortController().signal })).rejects.toMatchObject({
      code: 'AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION',
    });
  });
});
