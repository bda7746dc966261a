/**
 * One shared behaviour suite over every way the facade reaches a broker: tcp, tls, mtls, ws, wss,
 * tcp through a proxy, tls through a proxy with basic auth, wss through a proxy. Mosquitto and the
 * proxies start once for the whole file.
 */
import { proxyAuth, useBrokerAndProxies } from './peers.js';
import { describeTransportSuite } from './transport-suite.js';

jest.setTimeout(20_000);

const peers = useBrokerAndProxies();

describeTransportSuite('tcp', () => ({ hostName: '127.0.0.1', port: peers.broker.ports.tcp }));

describeTransportSuite('tls', () => ({ hostName: 'localhost', port: peers.broker.ports.tls, tls: { ca: peers.broker.certs.caCert } }));

describeTransportSuite('mtls', () => ({
  hostName: 'localhost',
  port: peers.broker.ports.mtls,
  tls: { ca: peers.broker.certs.caCert, cert: peers.broker.certs.clientCert, key: peers.broker.certs.clientKey },
}));

describeTransportSuite('ws', () => ({ hostName: '127.0.0.1', port: peers.broker.ports.ws, websocket: {} }));

describeTransportSuite('wss', () => ({
  hostName: 'localhost',
  port: peers.broker.ports.wss,
  tls: { ca: peers.broker.certs.caCert },
  websocket: { path: '/mqtt' },
}));

describeTransportSuite('tcp via proxy', () => ({
  hostName: '127.0.0.1',
  port: peers.broker.ports.tcp,
  httpProxyOptions: { hostName: '127.0.0.1', port: peers.proxy.port },
}));

describeTransportSuite('tls via proxy with basic auth', () => ({
  hostName: 'localhost',
  port: peers.broker.ports.tls,
  tls: { ca: peers.broker.certs.caCert },
  httpProxyOptions: {
    hostName: '127.0.0.1',
    port: peers.authProxy.port,
    authType: 'basic',
    authUsername: proxyAuth.username,
    authPassword: proxyAuth.password,
  },
}));

describeTransportSuite('wss via proxy', () => ({
  hostName: 'localhost',
  port: peers.broker.ports.wss,
  tls: { ca: peers.broker.certs.caCert },
  websocket: {},
  httpProxyOptions: { hostName: '127.0.0.1', port: peers.proxy.port },
}));
