import { mqttHandshake, neverAborted, rejection } from '@mqtt5/test-peers';
import { createConnector, type TransportOptions } from '../src/connector.js';
import { proxyAuth, useBrokerAndProxies } from './peers.js';

jest.setTimeout(20_000);

const peers = useBrokerAndProxies();

// every way the facade composes transports: connector level (the client-level suite is in sdk.integ)
const modes: [string, () => TransportOptions][] = [
  ['tcp', () => ({ hostName: '127.0.0.1', port: peers.broker.ports.tcp })],
  ['tls', () => ({ hostName: 'localhost', port: peers.broker.ports.tls, tls: { ca: peers.broker.certs.caCert } })],
  ['ws', () => ({ hostName: '127.0.0.1', port: peers.broker.ports.ws, websocket: {} })],
  ['wss', () => ({ hostName: 'localhost', port: peers.broker.ports.wss, tls: { ca: peers.broker.certs.caCert }, websocket: true })],
  ['tcp via proxy', () => ({ hostName: '127.0.0.1', port: peers.broker.ports.tcp, httpProxyOptions: { hostName: '127.0.0.1', port: peers.proxy.port } })],
  [
    'tls via proxy with basic auth',
    () => ({
      hostName: 'localhost',
      port: peers.broker.ports.tls,
      tls: { ca: peers.broker.certs.caCert },
      httpProxyOptions: { hostName: '127.0.0.1', port: peers.authProxy.port, authType: 'basic', authUsername: proxyAuth.username, authPassword: proxyAuth.password },
    }),
  ],
  [
    'wss via proxy',
    () => ({
      hostName: 'localhost',
      port: peers.broker.ports.wss,
      tls: { ca: peers.broker.certs.caCert },
      websocket: { path: '/mqtt' },
      httpProxyOptions: { hostName: '127.0.0.1', port: peers.proxy.port },
    }),
  ],
];

it.each(modes)('%s: the built connector reaches the broker', async (_name, options) => {
  const transport = await createConnector(options())({ signal: neverAborted() });
  await expect(mqttHandshake(transport)).resolves.toBe(0);
  transport.destroy();
});

it('the proxy receives the broker target, and the socket options bound the proxy connection', async () => {
  const error = await rejection(
    createConnector({
      hostName: 'localhost',
      port: peers.broker.ports.tls,
      tls: true,
      httpProxyOptions: { hostName: '127.0.0.1', port: peers.authProxy.port },
    })({ signal: neverAborted() }),
  );
  expect(error).toMatchObject({ code: 'AWS_ERROR_HTTP_PROXY_CONNECT_FAILED', httpStatus: 407 });
  expect(peers.authProxy.connectRequests.at(-1)!.target).toBe(`localhost:${peers.broker.ports.tls}`);
});
