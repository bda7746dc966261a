import { createConnector, defaultPort, validateTransportOptions, type TransportOptions } from './connector.js';

describe('defaultPort', () => {
  it.each([
    [{}, 1883],
    [{ tls: false }, 1883],
    [{ tls: true }, 8883],
    [{ tls: { ca: '/ca.pem' } }, 8883],
    [{ websocket: {} }, 80],
    [{ websocket: true }, 80],
    [{ websocket: false, tls: true }, 8883],
    [{ websocket: { path: '/ws' }, tls: true }, 443],
  ])('%p → %d', (options, port) => {
    expect(defaultPort(options as Pick<TransportOptions, 'tls' | 'websocket'>)).toBe(port);
  });
});

describe('createConnector', () => {
  it.each([
    [{ hostName: 'broker' }],
    [{ hostName: 'broker', port: 8883, tls: { ca: '/not/yet/there.pem' } }],
    [{ hostName: 'broker', websocket: { path: '/mqtt', headers: { a: 'b' }, handshakeTransform: async (r: unknown) => r } }],
    [{ hostName: 'broker', websocket: true, tls: true, httpProxyOptions: { hostName: 'proxy', port: 3128, authUsername: 'u', authPassword: 'p' } }],
    [{ hostName: 'broker', httpProxyOptions: { hostName: 'proxy', port: 3128, tls: true }, socketOptions: { connectTimeoutMs: 100 } }],
  ])('builds a connector for %p without I/O', (options) => {
    expect(typeof createConnector(options as TransportOptions)).toBe('function');
  });

  it.each([
    [{ hostName: '' }, 'hostName'],
    [{ hostName: 'b', port: 0 }, 'port'],
    [{ hostName: 'b', port: '1883' }, 'port'],
    [{ hostName: 'b', tls: { key: '/k' } }, 'tls.cert and tls.key'],
    [{ hostName: 'b', websocket: 'yes' }, 'websocket must be'],
    [{ hostName: 'b', websocket: { path: 'mqtt' } }, 'websocket.path'],
    [{ hostName: 'b', websocket: { protocol: 'mqtt' } }, 'websocket.protocol is not'],
    [{ hostName: 'b', websocket: { headers: { Connection: 'close' } } }, 'websocket.header Connection'],
    [{ hostName: 'b', httpProxyOptions: { hostName: 'p' } }, 'httpProxyOptions.port'],
    [{ hostName: 'b', httpProxyOptions: { hostName: 'p', port: 1, authType: 'basic' } }, 'httpProxyOptions.authUsername'],
    [{ hostName: 'b', httpProxyOptions: { hostName: 'p', port: 1, tls: { ca: 7 } } }, 'httpProxyOptions.tls.ca'],
    [{ hostName: 'b', socketOptions: { connectTimeoutMs: -1 } }, 'socketOptions.connectTimeoutMs'],
  ])('rejects %p with AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION', (options, message) => {
    const make = (): unknown => createConnector(options as unknown as TransportOptions);
    expect(make).toThrow(message);
    expect(make).toThrow(expect.objectContaining({ code: 'AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION' }));
    if (!/tls|socketOptions/.test(message) || message.startsWith('httpProxyOptions')) {
      expect(() => validateTransportOptions(options as unknown as TransportOptions)).toThrow(message);
    }
  });
});
