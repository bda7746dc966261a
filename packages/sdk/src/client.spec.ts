import { createConnector, Mqtt5Client as CoreMqtt5Client, type Connector } from './index.js';
import { Mqtt5Client, toCoreConfig } from './client.js';

const fakeConnector: Connector = () => Promise.reject(new Error('not used'));

describe('facade Mqtt5Client', () => {
  it('is the core client, configured from plain options (the whole setup for a local broker)', () => {
    const client = new Mqtt5Client({ hostName: '127.0.0.1', port: 1883 });
    expect(client).toBeInstanceOf(CoreMqtt5Client);
    expect(client.config.hostName).toBe('127.0.0.1');
    expect(client.config.port).toBe(1883);
    expect(typeof client.config.connector).toBe('function');
    client.close();
  });

  it.each([
    [{ hostName: 'b' }, 1883],
    [{ hostName: 'b', tls: true }, 8883],
    [{ hostName: 'b', websocket: {} }, 80],
    [{ hostName: 'b', websocket: {}, tls: { rejectUnauthorized: false } }, 443],
    [{ hostName: 'b', port: 9999, tls: true }, 9999],
  ])('%p → port %d', (config, port) => {
    const client = new Mqtt5Client(config);
    expect(client.config.port).toBe(port);
    client.close();
  });

  it('passes the core options through unchanged', () => {
    const client = new Mqtt5Client({ hostName: 'b', minReconnectDelayMs: 123, maxReconnectDelayMs: 456, connackTimeoutMs: 789 });
    expect(client.config).toMatchObject({ minReconnectDelayMs: 123, maxReconnectDelayMs: 456, connackTimeoutMs: 789 });
    client.close();
  });

  it('takes a custom connector instead of the transport options', () => {
    const core = toCoreConfig({ hostName: 'b', connector: fakeConnector });
    expect(core.connector).toBe(fakeConnector);
    expect(() => new Mqtt5Client({ hostName: 'b', connector: fakeConnector, tls: true })).toThrow(
      'connector replaces the transport options; do not also set tls',
    );
  });

  it('does not hand the transport options to the core client', () => {
    const core = toCoreConfig({ hostName: 'b', tls: true, websocket: {}, socketOptions: {}, httpProxyOptions: { hostName: 'p', port: 1 } });
    expect(Object.keys(core).sort()).toEqual(['connector', 'hostName', 'port']);
  });

  it.each([
    [undefined, 'must be an object'],
    [{}, 'hostName'],
    [{ hostName: 'b', port: 70000 }, 'port'],
    [{ hostName: 'b', tls: { cert: '/c' } }, 'tls.cert and tls.key'],
    [{ hostName: 'b', websocket: { path: 'x' } }, 'websocket.path'],
    [{ hostName: 'b', httpProxyOptions: { hostName: 'p', port: 1, authType: 'ntlm' } }, 'httpProxyOptions.authType'],
    [{ hostName: 'b', socketOptions: { connectTimeoutMs: 0 } }, 'socketOptions.connectTimeoutMs'],
    [{ hostName: 'b', minReconnectDelayMs: 10, maxReconnectDelayMs: 5 }, 'minReconnectDelayMs'],
  ])('throws AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION synchronously for %p', (config, message) => {
    const make = (): unknown => new Mqtt5Client(config as never);
    expect(make).toThrow(message);
    expect(make).toThrow(expect.objectContaining({ code: 'AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION' }));
  });

  it('changing the config object after construction changes nothing', () => {
    const tls = { ca: '/ca.pem', alpn: ['mqtt'] };
    const config = { hostName: 'b', tls };
    const client = new Mqtt5Client(config);
    config.hostName = 'other';
    tls.alpn.push('x');
    expect(client.config.hostName).toBe('b');
    client.close();
  });

  it('exports createConnector for the core client', () => {
    expect(typeof createConnector({ hostName: 'b' })).toBe('function');
  });
});
