import net from 'node:net';
import tls from 'node:tls';
import type { Mqtt5Error } from '@mqtt5/codec';
import {
  getFreePort,
  mqttHandshake,
  neverAborted,
  rejection,
  startHttpConnectProxy,
  startMosquitto,
  startSilentServer,
  type HttpConnectProxy,
  type MosquittoInstance,
} from '@mqtt5/test-peers';
import { createHttpProxyTunnel, type HttpProxyOptions } from '../src/index.js';

jest.setTimeout(20_000);

const host = '127.0.0.1';
const auth = { username: 'proxyuser', password: 'proxy-pass' };
let broker: MosquittoInstance;
let open: HttpConnectProxy;
let basic: HttpConnectProxy;
let https: HttpConnectProxy;
let http10: HttpConnectProxy;

beforeAll(async () => {
  [broker, open, basic, https, http10] = await Promise.all([
    startMosquitto(),
    startHttpConnectProxy({ refuseTargets: (t) => (t.endsWith(':1') ? 403 : undefined) }),
    startHttpConnectProxy({ auth }),
    startHttpConnectProxy({ tls: true, auth }),
    startHttpConnectProxy({ httpVersion: '1.0' }),
  ]);
});

afterAll(async () => {
  await Promise.all([broker?.stop(), open?.stop(), basic?.stop(), https?.stop(), http10?.stop()]);
});

function tunnel(options: HttpProxyOptions, port: number, signal = neverAborted(), targetHost = host): Promise<net.Socket> {
  return createHttpProxyTunnel(options)({ host: targetHost, port, signal });
}

/** A one-shot fake proxy that answers every connection with `answer` (raw bytes) and keeps it open. */
async function fakeProxy(answer: string | Buffer, end = false) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.once('data', () => (end ? s.end(answer) : s.write(answer)));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(r));
    },
  };
}

describe('success', () => {
  it('opens a CONNECT tunnel (no auth) that carries MQTT to the broker', async () => {
    const socket = await tunnel({ hostName: host, port: open.port }, broker.ports.tcp);
    await expect(mqttHandshake(socket)).resolves.toBe(0);
    const record = open.connectRequests.at(-1)!;
    expect(record.target).toBe(`${host}:${broker.ports.tcp}`);
    expect(record.headers.host).toBe(`${host}:${broker.ports.tcp}`);
    expect(record.headers['proxy-authorization']).toBeUndefined();
    socket.destroy();
  });

  it('sends basic credentials (authType inferred from authUsername, or explicit)', async () => {
    for (const options of [
      { hostName: host, port: basic.port, authUsername: auth.username, authPassword: auth.password },
      { hostName: host, port: basic.port, authType: 'basic' as const, authUsername: auth.username, authPassword: auth.password },
    ]) {
      const socket = await tunnel(options, broker.ports.tcp);
      await expect(mqttHandshake(socket)).resolves.toBe(0);
      expect(basic.connectRequests.at(-1)!.authorized).toBe(true);
      socket.destroy();
    }
  });

  it('TLS to the proxy (HTTPS proxy), then TLS to the broker inside the tunnel', async () => {
    const socket = await tunnel(
      { hostName: 'localhost', port: https.port, tls: { ca: broker.certs.caCert }, authUsername: auth.username, authPassword: auth.password },
      broker.ports.tls,
      neverAborted(),
      'localhost',
    );
    expect(socket).toBeInstanceOf(tls.TLSSocket);
    const inner = tls.connect({ socket, servername: 'localhost', ca: await import('node:fs').then((fs) => fs.readFileSync(broker.certs.caCert)) });
    await new Promise<void>((resolve, reject) => {
      inner.once('secureConnect', resolve);
      inner.once('error', reject);
    });
    await expect(mqttHandshake(inner)).resolves.toBe(0);
    inner.destroy();
  });

  it('accepts an HTTP/1.0 answer (tinyproxy style)', async () => {
    const socket = await tunnel({ hostName: host, port: http10.port }, broker.ports.tcp);
    await expect(mqttHandshake(socket)).resolves.toBe(0);
    socket.destroy();
  });

  it('bytes that arrive right after the proxy header are delivered first', async () => {
    const fake = await fakeProxy(Buffer.concat([Buffer.from('HTTP/1.1 200 Connection established\r\n\r\n'), Buffer.from([0x20, 0x03, 0x00, 0x00, 0x00])]));
    try {
      const socket = await tunnel({ hostName: host, port: fake.port }, 1883);
      await expect(mqttHandshake(socket)).resolves.toBe(0);
      socket.destroy();
    } finally {
      await fake.close();
    }
  });
});

describe('failures', () => {
  it('missing or wrong credentials → AWS_ERROR_HTTP_PROXY_CONNECT_FAILED with httpStatus 407', async () => {
    for (const options of [
      { hostName: host, port: basic.port },
      { hostName: host, port: basic.port, authUsername: auth.username, authPassword: 'wrong' },
    ]) {
      const error = await rejection<Mqtt5Error>(tunnel(options, broker.ports.tcp));
      expect(error.code).toBe('AWS_ERROR_HTTP_PROXY_CONNECT_FAILED');
      expect(error.httpStatus).toBe(407);
      expect(error.message).toContain('407');
      expect(error.message).not.toContain('wrong');
    }
  });

  it('refused target → 403; unreachable target → 502', async () => {
    const forbidden = await rejection(tunnel({ hostName: host, port: open.port }, 1));
    expect(forbidden).toMatchObject({ code: 'AWS_ERROR_HTTP_PROXY_CONNECT_FAILED', httpStatus: 403 });
    const bad = await rejection(tunnel({ hostName: host, port: open.port }, await getFreePort()));
    expect(bad).toMatchObject({ code: 'AWS_ERROR_HTTP_PROXY_CONNECT_FAILED', httpStatus: 502 });
  });

  it('proxy not listening → AWS_IO_SOCKET_CONNECTION_REFUSED; unknown proxy host → AWS_IO_DNS_INVALID_NAME', async () => {
    expect((await rejection(tunnel({ hostName: host, port: await getFreePort() }, 1883))).code).toBe('AWS_IO_SOCKET_CONNECTION_REFUSED');
    expect((await rejection(tunnel({ hostName: 'proxy.invalid', port: 3128 }, 1883))).code).toBe('AWS_IO_DNS_INVALID_NAME');
  });

  it('HTTPS proxy with an unknown CA → AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE', async () => {
    const error = await rejection(tunnel({ hostName: 'localhost', port: https.port, tls: true }, broker.ports.tcp));
    expect(error.code).toBe('AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE');
  });

  it('proxy closing without an answer, an invalid answer, an oversized header → AWS_ERROR_HTTP_PROXY_CONNECT_FAILED', async () => {
    for (const [answer, message] of [
      ['', /closed the connection/],
      ['SSH-2.0-OpenSSH\r\n\r\n', /invalid response/],
      [`HTTP/1.1 200 OK\r\nX-Pad: ${'a'.repeat(20_000)}`, /over 16384 bytes/],
    ] as const) {
      const fake = await fakeProxy(answer, true);
      try {
        const error = await rejection(tunnel({ hostName: host, port: fake.port }, 1883));
        expect(error.code).toBe('AWS_ERROR_HTTP_PROXY_CONNECT_FAILED');
        expect(error.message).toMatch(message);
      } finally {
        await fake.close();
      }
    }
  });

  it('a proxy that never answers → AWS_IO_SOCKET_TIMEOUT after connectTimeoutMs; socket closed', async () => {
    const silent = await startSilentServer();
    try {
      const error = await rejection(tunnel({ hostName: host, port: silent.port, socketOptions: { connectTimeoutMs: 150 } }, 1883));
      expect(error.code).toBe('AWS_IO_SOCKET_TIMEOUT');
      await silent.drained();
    } finally {
      await silent.stop();
    }
  });

  it('aborting while waiting for the proxy rejects with ABORTED and closes the socket', async () => {
    const silent = await startSilentServer();
    try {
      const controller = new AbortController();
      const pending = tunnel({ hostName: host, port: silent.port }, 1883, controller.signal);
      await silent.connected();
      expect(silent.open.size).toBe(1);
      controller.abort();
      expect((await rejection(pending)).code).toBe('ABORTED');
      await silent.drained();
    } finally {
      await silent.stop();
    }
  });
});
