import http from 'node:http';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { Mqtt5Error } from '@mqtt5/codec';
import {
  closed,
  getFreePort,
  mqttHandshake,
  neverAborted,
  rejection,
  startMosquitto,
  startSilentServer,
  usePeers,
} from '@mqtt5/test-peers';
import { WebSocketServer, type WebSocket as ServerSocket } from 'ws';
import {
  createWebSocketConnector,
  WebSocketTransport,
  WEBSOCKET_WRITE_HIGH_WATER_MARK,
  type SocketTunnel,
  type WebSocketConnectorOptions,
} from '../src/index.js';

jest.setTimeout(20_000);

const peers = usePeers({ broker: () => startMosquitto() });
const host = '127.0.0.1';

function connect(options: WebSocketConnectorOptions, signal = neverAborted()): Promise<WebSocketTransport> {
  return createWebSocketConnector(options)({ signal }) as Promise<WebSocketTransport>;
}

interface Upgrade {
  url: string;
  headers: http.IncomingHttpHeaders;
}

/** A local `ws` server speaking subprotocol mqtt that records upgrades and server-side sockets. */
async function startWsServer(options: { protocol?: string | false } = {}) {
  const upgrades: Upgrade[] = [];
  const sockets: ServerSocket[] = [];
  const server = http.createServer();
  const wss = new WebSocketServer({
    server,
    handleProtocols: (protocols) => (options.protocol === false ? false : (options.protocol ?? (protocols.has('mqtt') ? 'mqtt' : false))),
  });
  wss.on('connection', (socket, request) => {
    upgrades.push({ url: request.url ?? '', headers: request.headers });
    sockets.push(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    upgrades,
    sockets,
    async close() {
      for (const s of wss.clients) s.terminate();
      await new Promise((r) => wss.close(r));
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('success', () => {
  it('ws:// to mosquitto: subprotocol mqtt, MQTT flows over binary frames', async () => {
    const transport = await connect({ hostName: host, port: peers.broker.ports.ws });
    expect(transport).toBeInstanceOf(WebSocketTransport);
    expect(transport.protocol).toBe('mqtt');
    await expect(mqttHandshake(transport)).resolves.toBe(0);
    transport.destroy();
  });

  it('wss:// to mosquitto with the CA from a file', async () => {
    const transport = await connect({ hostName: 'localhost', port: peers.broker.ports.wss, tls: { ca: peers.broker.certs.caCert } });
    await expect(mqttHandshake(transport)).resolves.toBe(0);
    transport.destroy();
  });

  it('sends path /mqtt by default, the configured path and extra headers', async () => {
    const server = await startWsServer();
    try {
      (await connect({ hostName: host, port: server.port })).destroy();
      (await connect({ hostName: host, port: server.port, path: '/custom?x=1', headers: { 'x-amz-customauthorizer-name': 'auth' } })).destroy();
      expect(server.upgrades.map((u) => u.url)).toEqual(['/mqtt', '/custom?x=1']);
      expect(server.upgrades[0]!.headers['sec-websocket-protocol']).toBe('mqtt');
      expect(server.upgrades[1]!.headers['x-amz-customauthorizer-name']).toBe('auth');
    } finally {
      await server.close();
    }
  });

  it('calls the handshake transform at every attempt and uses the URL and headers it returns', async () => {
    const server = await startWsServer();
    const seen: { url: string; headers: Record<string, string> }[] = [];
    let n = 0;
    const connector = createWebSocketConnector({
      hostName: host,
      port: server.port,
      headers: { 'x-static': 's' },
      handshakeTransform: async (request) => {
        seen.push(structuredClone(request));
        n += 1;
        await new Promise((r) => setTimeout(r, 5));
        return { url: `${request.url}?X-Amz-Signature=sig${n}`, headers: { ...request.headers, 'x-signed': `yes${n}` } };
      },
    });
    try {
      for (let i = 0; i < 2; i++) (await connector({ signal: neverAborted() })).destroy();
      expect(seen).toEqual([
        { url: `ws://${host}:${server.port}/mqtt`, headers: { 'x-static': 's' } },
        { url: `ws://${host}:${server.port}/mqtt`, headers: { 'x-static': 's' } },
      ]);
      expect(server.upgrades.map((u) => [u.url, u.headers['x-signed']])).toEqual([
        ['/mqtt?X-Amz-Signature=sig1', 'yes1'],
        ['/mqtt?X-Amz-Signature=sig2', 'yes2'],
      ]);
    } finally {
      await server.close();
    }
  });

  it('binary frames both ways; write() signals backpressure and drain follows; bytes arrive in order', async () => {
    const server = await startWsServer();
    try {
      const transport = await connect({ hostName: host, port: server.port });
      const peer = server.sockets[0]!;
      const received: Buffer[] = [];
      peer.on('message', (data: Buffer, isBinary: boolean) => {
        expect(isBinary).toBe(true);
        received.push(data);
      });
      const big = Buffer.alloc(WEBSOCKET_WRITE_HIGH_WATER_MARK * 4, 7);
      const small = Buffer.from([1, 2, 3]);
      const written = new Promise<Error | null | undefined>((resolve) => {
        expect(transport.write(big, resolve)).toBe(false);
      });
      const drained = new Promise<void>((resolve) => transport.on('drain', resolve));
      await expect(written).resolves.toBeNull();
      await drained;
      expect(transport.write(small)).toBe(true);
      const inbound = new Promise<Buffer>((resolve) => transport.on('data', resolve));
      peer.send(Buffer.from([9, 8, 7]), { binary: true });
      await expect(inbound).resolves.toEqual(Buffer.from([9, 8, 7]));
      for (let i = 0; i < 100 && received.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
      expect(received.map((b) => b.length)).toEqual([big.length, 3]);
      transport.destroy();
    } finally {
      await server.close();
    }
  });

  it('end() closes with code 1000; close is emitted once; writes after close fail', async () => {
    const server = await startWsServer();
    try {
      const transport = await connect({ hostName: host, port: server.port });
      const peerClosed = new Promise<number>((resolve) => server.sockets[0]!.on('close', (code) => resolve(code)));
      let closes = 0;
      transport.on('close', () => (closes += 1));
      const done = closed(transport);
      transport.end();
      await expect(peerClosed).resolves.toBe(1000);
      await expect(done).resolves.toBeUndefined();
      const late = new Promise<Error | null | undefined>((resolve) => transport.write(Buffer.from([1]), resolve));
      await expect(late).resolves.toBeInstanceOf(Error);
      transport.destroy();
      await new Promise((r) => setTimeout(r, 20));
      expect(closes).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('a text frame from the server is an error (MQTT uses binary frames only)', async () => {
    const server = await startWsServer();
    try {
      const transport = await connect({ hostName: host, port: server.port });
      const done = closed(transport);
      server.sockets[0]!.send('hello');
      const error = await done;
      expect(error?.message).toMatch(/text frame/);
    } finally {
      await server.close();
    }
  });

  it('destroy(err) emits error then close; a server that drops the connection gives close', async () => {
    const server = await startWsServer();
    try {
      const a = await connect({ hostName: host, port: server.port });
      const events: string[] = [];
      a.on('error', (e) => events.push(`error:${e.message}`));
      a.on('close', () => events.push('close'));
      a.destroy(new Error('boom'));
      await new Promise((r) => setTimeout(r, 50));
      expect(events).toEqual(['error:boom', 'close']);

      const b = await connect({ hostName: host, port: server.port });
      const done = closed(b);
      server.sockets[1]!.terminate();
      await expect(done).resolves.toBeUndefined();
    } finally {
      await server.close();
    }
  });

  it('composes with a tunnel (TLS and upgrade inside it)', async () => {
    const requests: string[] = [];
    const tunnel: SocketTunnel = ({ host: h, port: p }) => {
      requests.push(`${h}:${p}`);
      return new Promise((resolve, reject) => {
        const s = net.connect({ host, port: peers.broker.ports.wss }, () => resolve(s));
        s.once('error', reject);
      });
    };
    const transport = await connect({ hostName: 'localhost', port: 443, tls: { ca: readFileSync(peers.broker.certs.caCert) }, tunnel });
    expect(requests).toEqual(['localhost:443']);
    await expect(mqttHandshake(transport)).resolves.toBe(0);
    transport.destroy();
  });
});

describe('failures', () => {
  it('upgrade rejected with HTTP 403 → AWS_ERROR_HTTP_WEBSOCKET_UPGRADE_FAILURE with httpStatus', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(403, 'Forbidden').end('no');
    });
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const error = await rejection<Mqtt5Error>(connect({ hostName: host, port }));
      expect(error.code).toBe('AWS_ERROR_HTTP_WEBSOCKET_UPGRADE_FAILURE');
      expect(error.httpStatus).toBe(403);
      expect(error.message).toContain('403');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('server without subprotocol mqtt → AWS_ERROR_HTTP_WEBSOCKET_UPGRADE_FAILURE', async () => {
    const server = await startWsServer({ protocol: false });
    try {
      const error = await rejection(connect({ hostName: host, port: server.port }));
      expect(error.code).toBe('AWS_ERROR_HTTP_WEBSOCKET_UPGRADE_FAILURE');
      expect(error.message).toMatch(/subprotocol/);
    } finally {
      await server.close();
    }
  });

  it('websocket to a plain MQTT port → AWS_ERROR_HTTP_WEBSOCKET_UPGRADE_FAILURE', async () => {
    const error = await rejection(connect({ hostName: host, port: peers.broker.ports.tcp, socketOptions: { connectTimeoutMs: 3000 } }));
    expect(error.code).toBe('AWS_ERROR_HTTP_WEBSOCKET_UPGRADE_FAILURE');
  });

  it('wss:// to a plain websocket port → AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE', async () => {
    const error = await rejection(connect({ hostName: host, port: peers.broker.ports.ws, tls: { ca: peers.broker.certs.caCert } }));
    expect(error.code).toBe('AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE');
  });

  it('wss:// with an unknown CA → AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE', async () => {
    const error = await rejection(connect({ hostName: 'localhost', port: peers.broker.ports.wss, tls: true }));
    expect(error.code).toBe('AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE');
  });

  it('closed port → AWS_IO_SOCKET_CONNECTION_REFUSED; unknown host → AWS_IO_DNS_INVALID_NAME', async () => {
    expect((await rejection(connect({ hostName: host, port: await getFreePort() }))).code).toBe('AWS_IO_SOCKET_CONNECTION_REFUSED');
    expect((await rejection(connect({ hostName: 'broker.invalid', port: 80 }))).code).toBe('AWS_IO_DNS_INVALID_NAME');
  });

  it('transform failures: plain error → upgrade failure; Mqtt5Error kept; CredentialsProviderError → credentials failure', async () => {
    const plain = new Error('signing exploded');
    const e1 = await rejection(connect({ hostName: host, port: peers.broker.ports.ws, handshakeTransform: () => Promise.reject(plain) }));
    expect(e1.code).toBe('AWS_ERROR_HTTP_WEBSOCKET_UPGRADE_FAILURE');
    expect(e1.message).toBe('websocket handshake transform failed: signing exploded');
    expect(e1.cause).toBe(plain);

    const own = new Mqtt5Error('AWS_AUTH_CREDENTIALS_PROVIDER_FAILURE', 'no credentials');
    const e2 = await rejection(connect({ hostName: host, port: peers.broker.ports.ws, handshakeTransform: () => Promise.reject(own) }));
    expect(e2).toBe(own);

    const sdk = Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    const e3 = await rejection(connect({ hostName: host, port: peers.broker.ports.ws, handshakeTransform: () => Promise.reject(sdk) }));
    expect(e3.code).toBe('AWS_AUTH_CREDENTIALS_PROVIDER_FAILURE');

    const thrown = await rejection(
      connect({
        hostName: host,
        port: peers.broker.ports.ws,
        handshakeTransform: () => {
          throw plain;
        },
      }),
    );
    expect(thrown.code).toBe('AWS_ERROR_HTTP_WEBSOCKET_UPGRADE_FAILURE');

    const garbage = await rejection(
      connect({ hostName: host, port: peers.broker.ports.ws, handshakeTransform: async () => ({ url: 'http://elsewhere/', headers: {} }) }),
    );
    expect(garbage.code).toBe('AWS_ERROR_HTTP_WEBSOCKET_UPGRADE_FAILURE');
    expect(garbage.message).toMatch(/invalid request/);
  });

  it('a transform that never settles is bounded by the connect timeout; abort ends it promptly', async () => {
    const never = (): Promise<never> => new Promise(() => undefined);
    const timedOut = await rejection(connect({ hostName: host, port: peers.broker.ports.ws, handshakeTransform: never, socketOptions: { connectTimeoutMs: 100 } }));
    expect(timedOut.code).toBe('AWS_IO_SOCKET_TIMEOUT');

    const controller = new AbortController();
    const pending = connect({ hostName: host, port: peers.broker.ports.ws, handshakeTransform: never }, controller.signal);
    setTimeout(() => controller.abort(), 20);
    expect((await rejection(pending)).code).toBe('ABORTED');
  });

  it('an upgrade that is never answered → AWS_IO_SOCKET_TIMEOUT, and the socket is closed', async () => {
    const silent = await startSilentServer();
    try {
      const error = await rejection(connect({ hostName: host, port: silent.port, socketOptions: { connectTimeoutMs: 150 } }));
      expect(error.code).toBe('AWS_IO_SOCKET_TIMEOUT');
      await silent.drained();
    } finally {
      await silent.stop();
    }
  });

  it('aborting during the upgrade rejects with ABORTED and closes the socket', async () => {
    const silent = await startSilentServer();
    try {
      const controller = new AbortController();
      const pending = connect({ hostName: host, port: silent.port }, controller.signal);
      await silent.connected();
      expect(silent.open.size).toBe(1);
      await new Promise((r) => setTimeout(r, 10));
      controller.abort();
      expect((await rejection(pending)).code).toBe('ABORTED');
      await silent.drained();
    } finally {
      await silent.stop();
    }
  });
});
