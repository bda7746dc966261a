import { createTcpConnector, type TcpConnectorOptions } from './index.js';

describe('createTcpConnector validation', () => {
  it('returns a connector for valid options without touching the network or files', () => {
    expect(typeof createTcpConnector({ hostName: 'broker', port: 8883, tls: { ca: '/does/not/exist/yet.pem' } })).toBe('function');
  });

  it.each([
    [{ hostName: '', port: 1883 }, 'hostName'],
    [{ hostName: 'h', port: 0 }, 'port'],
    [{ hostName: 'h', port: 1883, tls: { cert: '/c' } }, 'tls.cert and tls.key'],
    [{ hostName: 'h', port: 1883, socketOptions: { connectTimeoutMs: 0 } }, 'connectTimeoutMs'],
    [{ hostName: 'h', port: 1883, tunnel: 'proxy' }, 'tunnel'],
    [{ hostName: 'h', port: 1883, websocket: {} }, 'websocket is not a TCP connector option'],
  ])('throws AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION for %p', (options, message) => {
    const make = (): unknown => createTcpConnector(options as unknown as TcpConnectorOptions);
    expect(make).toThrow(message);
    expect(make).toThrow(expect.objectContaining({ code: 'AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION' }));
  });
});
