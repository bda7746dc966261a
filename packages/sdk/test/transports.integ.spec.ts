/**
 * One shared behaviour suite over every way the facade reaches a broker: tcp, tls, mtls, ws, wss,
 * tcp through a proxy, tls through a proxy with basic auth, wss through a proxy. Mosquitto and the
 * proxies start once for the whole file.
 */
import { startHttpConnectProxy, startMosquitto, type HttpConnectProxy, type MosquittoInstance } from '@mqtt5/test-peers';
import { describeTransportSuite } from './transport-suite.js';

jest.setTimeout(20_000);

let broker: MosquittoInstance;
let proxy: HttpConnectProxy;
let authProxy: HttpConnectProxy;
const proxyAuth = { username: 'proxyuser', password: 'proxy-pass' };

beforeAll(async () => {
  [broker, proxy, authProxy] = await Promise.all([startMosquitto(), startHttpConnectProxy(), startHttpConnectProxy({ auth: proxyAuth })]);
});

afterAll(async () => {
  await Promise.all([broker?.stop(), proxy?.stop(), authProxy?.stop()]);
});

describeTransportSuite('tcp', () => ({ hostName: '127.0.0.1', port: broker.ports.tcp }));

describeTransportSuite('tls', () => ({ hostName: 'localhost', port: broker.ports.tls, tls: { ca: broker.certs.caCert } }));

describeTransportSuite('mtls', () => ({
  hostName: 'localhost',
  port: broker.ports.mtls,
  tls: { ca: broker.certs.caCert, cert: broker.certs.clientCert, key: broker.certs.clientKey },
}));

describeTransportSuite('ws', () => ({ hostName: '127.0.0.1', port: broker.ports.ws, websocket: {} }));

describeTransportSuite('wss', () => ({
  hostName: 'localhost',
  port: broker.ports.wss,
  tls: { ca: broker.certs.caCert },
  websocket: { path: '/mqtt' },
}));

describeTransportSuite('tcp via proxy', () => ({
  hostName: '127.0.0.1',
  port: broker.ports.tcp,
  httpProxyOptions: { hostName: '127.0.0.1', port: proxy.port },
}));

describeTransportSuite('tls via proxy with basic auth', () => ({
  hostName: 'localhost',
  port: broker.ports.tls,
  tls: { ca: broker.certs.caCert },
  httpProxyOptions: {
    hostName: '127.0.0.1',
    port: authProxy.port,
    authType: 'basic',
    authUsername: proxyAuth.username,
    authPassword: proxyAuth.password,
  },
}));

describeTransportSuite('wss via proxy', () => ({
  hostName: 'localhost',
  port: broker.ports.wss,
  tls: { ca: broker.certs.caCert },
  websocket: {},
  httpProxyOptions: { hostName: '127.0.0.1', port: proxy.port },
}));
