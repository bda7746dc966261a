import { createWebSocketConnector, type WebSocketConnectorOptions } from './index.js';

const host = '127.0.0.1';

describe('createWebSocketConnector validation', () => {
  it.each([
    [{ hostName: host, port: 80, path: 'mqtt' }, 'path'],
    [{ hostName: host, port: 80, path: '/a b' }, 'path'],
    [{ hostName: host, port: 80, headers: { Upgrade: 'h2c' } }, 'set by the websocket transport'],
    [{ hostName: host, port: 80, headers: { 'x-a': 'line\r\nbreak' } }, 'invalid value'],
    [{ hostName: host, port: 80, headers: { 'bad name': 'v' } }, 'invalid header name'],
    [{ hostName: host, port: 80, handshakeTransform: 'sign' }, 'handshakeTransform'],
    [{ hostName: host, port: 80, tls: { ca: 1 } }, 'tls.ca'],
    [{ hostName: host, port: 80, protocol: 'mqttv3.1' }, 'not a websocket connector option'],
  ])('throws AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION for %p', (options, message) => {
    const make = (): unknown => createWebSocketConnector(options as unknown as WebSocketConnectorOptions);
    expect(make).toThrow(message);
    expect(make).toThrow(expect.objectContaining({ code: 'AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION' }));
  });
});
