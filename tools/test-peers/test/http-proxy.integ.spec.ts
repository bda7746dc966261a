import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import {
  getTestCertificates,
  type HttpConnectProxy,
  type MockBroker,
  openRawClient,
  connectPacket,
  type IConnackPacket,
  startHttpConnectProxy,
  startMockBroker,
  getFreePort,
} from '../src/index.js';

let broker: MockBroker;
const proxies: HttpConnectProxy[] = [];
const streams: Duplex[] = [];

beforeAll(async () => {
  broker = await startMockBroker();
});

afterAll(async () => {
  await broker.stop();
});

afterEach(async () => {
  for (const s of streams.splice(0)) s.destroy();
  await Promise.all(proxies.splice(0).map((p) => p.stop()));
});

async function start(options?: Parameters<typeof startHttpConnectProxy>[0]): Promise<HttpConnectProxy> {
  const p = await startHttpConnectProxy(options);
  proxies.push(p);
  return p;
}

interface ConnectResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  statusLine: string;
  socket: Duplex;
}

/** Sends CONNECT target through the proxy; resolves with the status and (on 200) the tunnel. */
function connectThrough(
  proxy: HttpConnectProxy,
  target: string,
  options: { auth?: string; ca?: Buffer } = {},
): Promise<ConnectResult> {
  const headers: Record<string, string> = { host: target };
  if (options.auth) headers['proxy-authorization'] = `Basic ${Buffer.from(options.auth).toString('base64')}`;
  const req = (proxy.tls ? https : http).request({
    host: '127.0.0.1',
    port: proxy.port,
    method: 'CONNECT',
    path: target,
    headers,
    ...(proxy.tls ? { ca: options.ca, servername: 'localhost' } : {}),
    agent: false,
  });
  return new Promise((resolve, reject) => {
    req.once('connect', (res: http.IncomingMessage, socket: Duplex) => {
      streams.push(socket);
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        statusLine: `HTTP/${res.httpVersion} ${res.statusCode}`,
        socket,
      });
    });
    req.once('error', reject);
    req.end();
  });
}

async function mqttOver(socket: Duplex): Promise<IConnackPacket> {
  const client = await openRawClient({ stream: socket });
  client.send(connectPacket());
  return await client.next('connack');
}

describe('HTTP CONNECT proxy', () => {
  it('tunnels MQTT to the target', async () => {
    const proxy = await start();
    const target = `127.0.0.1:${broker.port}`;
    const r = await connectThrough(proxy, target);
    expect(r.status).toBe(200);
    expect((await mqttOver(r.socket)).reasonCode).toBe(0);
    expect(proxy.tunnels).toBe(1);
    expect(proxy.connectRequests).toEqual([expect.objectContaining({ target, authorized: true, status: 200 })]);
    proxy.dropAll();
    await new Promise((resolve) => r.socket.once('close', resolve));
    expect(proxy.tunnels).toBe(0);
  });

  it('with basic auth: right credentials tunnel, none or wrong get 407 + Proxy-Authenticate', async () => {
    const proxy = await start({ auth: { username: 'proxyuser', password: 'proxy-pass' } });
    const target = `127.0.0.1:${broker.port}`;
    const none = await connectThrough(proxy, target);
    expect(none.status).toBe(407);
    expect(none.headers['proxy-authenticate']).toMatch(/^Basic realm=/);
    const wrong = await connectThrough(proxy, target, { auth: 'proxyuser:wrong' });
    expect(wrong.status).toBe(407);
    const ok = await connectThrough(proxy, target, { auth: 'proxyuser:proxy-pass' });
    expect(ok.status).toBe(200);
    expect((await mqttOver(ok.socket)).reasonCode).toBe(0);
    expect(proxy.connectRequests.map((c) => [c.authorized, c.status])).toEqual([
      [false, 407],
      [false, 407],
      [true, 200],
    ]);
    expect(proxy.connectRequests[2]?.headers['proxy-authorization']).toMatch(/^Basic /);
  });

  it('over TLS to the proxy (with auth)', async () => {
    const certs = await getTestCertificates();
    const proxy = await start({ tls: true, auth: { username: 'u', password: 'p' } });
    expect(proxy.tls).toBe(true);
    const ca = fs.readFileSync(certs.caCert);
    expect((await connectThrough(proxy, `127.0.0.1:${broker.port}`, { ca })).status).toBe(407);
    const ok = await connectThrough(proxy, `localhost:${broker.port}`, { ca, auth: 'u:p' });
    expect(ok.status).toBe(200);
    expect((await mqttOver(ok.socket)).reasonCode).toBe(0);
  });

  it('answers 502 for an unreachable target, 403 for refused and non-loopback targets, and can speak HTTP/1.0', async () => {
    const deadPort = await getFreePort();
    const proxy = await start({ refuseTargets: (t) => (t.endsWith(':1') ? 403 : undefined), httpVersion: '1.0' });
    const dead = await connectThrough(proxy, `127.0.0.1:${deadPort}`);
    expect(dead.status).toBe(502);
    expect(dead.statusLine).toBe('HTTP/1.0 502');
    expect((await connectThrough(proxy, '127.0.0.1:1')).status).toBe(403);
    expect((await connectThrough(proxy, '192.0.2.1:1883')).status).toBe(403);
    expect((await connectThrough(proxy, 'garbage')).status).toBe(400);
    expect((await connectThrough(proxy, `127.0.0.1:${broker.port}`)).statusLine).toBe('HTTP/1.0 200');
  });

  it('stop closes live tunnels and the listener', async () => {
    const proxy = await start();
    const r = await connectThrough(proxy, `127.0.0.1:${broker.port}`);
    const closed = new Promise((resolve) => r.socket.once('close', resolve));
    await proxy.stop();
    await closed;
    await expect(connectThrough(proxy, `127.0.0.1:${broker.port}`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
