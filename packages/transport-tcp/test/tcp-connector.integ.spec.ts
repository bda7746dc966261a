import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { Mqtt5Error } from '@mqtt5/codec';
import {
  getFreePort,
  mqttHandshake,
  neverAborted,
  rejection,
  startMosquitto,
  startSilentServer,
  usePeers,
} from '@mqtt5/test-peers';
import { createTcpConnector, type SocketTunnel } from '../src/index.js';

jest.setTimeout(20_000);

const peers = usePeers({ broker: () => startMosquitto() });
const host = '127.0.0.1';

function connect(options: Parameters<typeof createTcpConnector>[0], signal = neverAborted()) {
  return createTcpConnector(options)({ signal });
}

describe('success', () => {
  it('plain TCP: returns the net.Socket itself, Nagle off, MQTT flows', async () => {
    const socket = await connect({ hostName: host, port: peers.broker.ports.tcp });
    expect(socket).toBeInstanceOf(net.Socket);
    expect(socket).not.toBeInstanceOf(tls.TLSSocket);
    await expect(mqttHandshake(socket)).resolves.toBe(0);
    socket.destroy();
  });

  it('TLS with the CA from a file path, by host name (SNI) and by IP address', async () => {
    for (const hostName of ['localhost', '127.0.0.1']) {
      const socket = await connect({ hostName, port: peers.broker.ports.tls, tls: { ca: peers.broker.certs.caCert } });
      expect(socket).toBeInstanceOf(tls.TLSSocket);
      expect((socket as tls.TLSSocket).authorized).toBe(true);
      await expect(mqttHandshake(socket)).resolves.toBe(0);
      socket.destroy();
    }
  });

  it('TLS with the CA in memory, as PEM text and as bytes', async () => {
    const pem = readFileSync(peers.broker.certs.caCert, 'utf8');
    for (const ca of [pem, Buffer.from(pem), [pem]]) {
      const socket = await connect({ hostName: 'localhost', port: peers.broker.ports.tls, tls: { ca } });
      await expect(mqttHandshake(socket)).resolves.toBe(0);
      socket.destroy();
    }
  });

  it('mutual TLS with certificate and key from files, from memory, and from PKCS#12', async () => {
    const c = peers.broker.certs;
    const variants = [
      { ca: c.caCert, cert: c.clientCert, key: c.clientKey },
      { ca: readFileSync(c.caCert, 'utf8'), cert: readFileSync(c.clientCert, 'utf8'), key: readFileSync(c.clientKey) },
      { ca: c.caCert, pfx: c.clientPfx, passphrase: c.clientPfxPassphrase },
      { ca: c.caCert, pfx: readFileSync(c.clientPfx), passphrase: c.clientPfxPassphrase },
    ];
    for (const options of variants) {
      const socket = await connect({ hostName: 'localhost', port: peers.broker.ports.mtls, tls: options });
      await expect(mqttHandshake(socket)).resolves.toBe(0);
      socket.destroy();
    }
  });

  it('rejectUnauthorized: false accepts a certificate from an unknown CA', async () => {
    const socket = await connect({ hostName: 'localhost', port: peers.broker.ports.tls, tls: { rejectUnauthorized: false } });
    expect((socket as tls.TLSSocket).authorized).toBe(false);
    await expect(mqttHandshake(socket)).resolves.toBe(0);
    socket.destroy();
  });

  it('sends the configured ALPN list and SNI name; no SNI for an IP address', async () => {
    const seen: { servername: string | false | null; alpn: string | false | null }[] = [];
    const server = tls.createServer({
      cert: readFileSync(peers.broker.certs.serverCert),
      key: readFileSync(peers.broker.certs.serverKey),
      ALPNProtocols: ['x-amzn-mqtt-ca', 'mqtt'],
    });
    server.on('secureConnection', (s) => {
      seen.push({ servername: s.servername, alpn: s.alpnProtocol });
      s.on('error', () => undefined);
      s.end();
    });
    const serverSaw = async (n: number): Promise<void> => {
      for (let i = 0; i < 200 && seen.length < n; i++) await new Promise((r) => setTimeout(r, 5));
    };
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const a = await connect({ hostName: 'localhost', port, tls: { ca: peers.broker.certs.caCert, alpn: ['x-amzn-mqtt-ca'] } });
      expect((a as tls.TLSSocket).alpnProtocol).toBe('x-amzn-mqtt-ca');
      await serverSaw(1);
      a.destroy();
      const b = await connect({ hostName: host, port, tls: { ca: peers.broker.certs.caCert } });
      await serverSaw(2);
      b.destroy();
      const c = await connect({ hostName: host, port, tls: { ca: peers.broker.certs.caCert, servername: 'localhost' } });
      await serverSaw(3);
      c.destroy();
      expect(seen).toEqual([
        { servername: 'localhost', alpn: 'x-amzn-mqtt-ca' },
        { servername: false, alpn: false },
        { servername: 'localhost', alpn: false },
      ]);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('reads certificate files at every attempt: a missing file fails that attempt only', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mqtt5-tcp-'));
    const caPath = path.join(dir, 'ca.pem');
    try {
      const connector = createTcpConnector({ hostName: 'localhost', port: peers.broker.ports.tls, tls: { ca: caPath } });
      const error = await rejection(connector({ signal: neverAborted() }));
      expect(error.code).toBe('AWS_IO_FILE_VALIDATION_FAILURE');
      expect(error.message).toContain(caPath);
      expect((error.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
      copyFileSync(peers.broker.certs.caCert, caPath);
      const socket = await connector({ signal: neverAborted() });
      await expect(mqttHandshake(socket)).resolves.toBe(0);
      socket.destroy();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('composes with a tunnel: TLS runs end to end inside it', async () => {
    const requests: { host: string; port: number }[] = [];
    const tunnel: SocketTunnel = async ({ host: h, port: p }) => {
      requests.push({ host: h, port: p });
      return new Promise((resolve, reject) => {
        const s = net.connect({ host, port: peers.broker.ports.tls }, () => resolve(s));
        s.once('error', reject);
      });
    };
    const socket = await connect({ hostName: 'localhost', port: 8883, tls: { ca: peers.broker.certs.caCert }, tunnel });
    expect(requests).toEqual([{ host: 'localhost', port: 8883 }]);
    await expect(mqttHandshake(socket)).resolves.toBe(0);
    socket.destroy();
  });
});

describe('failures', () => {
  it('DNS failure → AWS_IO_DNS_INVALID_NAME', async () => {
    const error = await rejection(connect({ hostName: 'broker.invalid', port: 1883 }));
    expect(Mqtt5Error.isInstance(error)).toBe(true);
    expect(error.code).toBe('AWS_IO_DNS_INVALID_NAME');
    expect(['ENOTFOUND', 'EAI_AGAIN']).toContain((error.cause as NodeJS.ErrnoException).code);
  });

  it('closed port → AWS_IO_SOCKET_CONNECTION_REFUSED', async () => {
    const error = await rejection(connect({ hostName: host, port: await getFreePort() }));
    expect(error.code).toBe('AWS_IO_SOCKET_CONNECTION_REFUSED');
    expect((error.cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });

  it('TLS handshake never answered → AWS_IO_SOCKET_TIMEOUT after connectTimeoutMs, socket closed', async () => {
    const silent = await startSilentServer();
    try {
      const started = Date.now();
      const error = await rejection(
        connect({ hostName: host, port: silent.port, tls: true, socketOptions: { connectTimeoutMs: 200 } }),
      );
      expect(error.code).toBe('AWS_IO_SOCKET_TIMEOUT');
      expect(Date.now() - started).toBeGreaterThanOrEqual(190);
      expect(Date.now() - started).toBeLessThan(2000);
      await silent.drained();
    } finally {
      await silent.stop();
    }
  });

  it('a tunnel that never answers is bounded by the connect timeout too', async () => {
    let tunnelSignal: AbortSignal | undefined;
    const tunnel: SocketTunnel = ({ signal }) => {
      tunnelSignal = signal;
      return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    };
    const error = await rejection(connect({ hostName: host, port: 1, tunnel, socketOptions: { connectTimeoutMs: 100 } }));
    expect(error.code).toBe('AWS_IO_SOCKET_TIMEOUT');
    expect(tunnelSignal?.aborted).toBe(true);
  });

  it('certificate for another host → AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE (ERR_TLS_CERT_ALTNAME_INVALID)', async () => {
    const error = await rejection(connect({ hostName: 'localhost', port: peers.broker.ports.badHost, tls: { ca: peers.broker.certs.caCert } }));
    expect(error.code).toBe('AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE');
    expect((error.cause as NodeJS.ErrnoException).code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('server certificate from an unknown CA → AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE', async () => {
    const error = await rejection(connect({ hostName: 'localhost', port: peers.broker.ports.tls, tls: true }));
    expect(error.code).toBe('AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE');
    expect((error.cause as NodeJS.ErrnoException).code).toMatch(/UNABLE_TO|SELF_SIGNED/);
  });

  it('TLS to a plaintext MQTT port → AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE', async () => {
    const error = await rejection(
      connect({ hostName: host, port: peers.broker.ports.tcp, tls: { ca: peers.broker.certs.caCert }, socketOptions: { connectTimeoutMs: 3000 } }),
    );
    expect(error.code).toBe('AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE');
  });

  it('plaintext to a TLS port: TCP connects, then the broker drops the connection without CONNACK', async () => {
    const socket = await connect({ hostName: host, port: peers.broker.ports.tls });
    await expect(mqttHandshake(socket)).rejects.toThrow(/closed before CONNACK|ECONNRESET/);
    socket.destroy();
  });

  it('mutual TLS with a rogue or missing client certificate: the TLS 1.3 alert arrives on the first read', async () => {
    const c = peers.broker.certs;
    for (const options of [{ ca: c.caCert, cert: c.rogueClientCert, key: c.rogueClientKey }, { ca: c.caCert }]) {
      // TLS 1.3 completes the client side of the handshake before the server checks the certificate
      const socket = await connect({ hostName: 'localhost', port: peers.broker.ports.mtls, tls: options });
      const error = await mqttHandshake(socket).then(
        () => undefined,
        (e: unknown) => e as NodeJS.ErrnoException,
      );
      expect(error?.code).toMatch(/^ERR_SSL_/);
      socket.destroy();
    }
  });

  it('unreadable or invalid TLS material → AWS_IO_FILE_VALIDATION_FAILURE naming it', async () => {
    const c = peers.broker.certs;
    const missing = await rejection(connect({ hostName: 'localhost', port: peers.broker.ports.mtls, tls: { cert: '/nonexistent/device.crt', key: c.clientKey } }));
    expect(missing.code).toBe('AWS_IO_FILE_VALIDATION_FAILURE');
    expect(missing.message).toContain("cert file '/nonexistent/device.crt'");

    const badPem = await rejection(
      connect({ hostName: 'localhost', port: peers.broker.ports.mtls, tls: { cert: '-----BEGIN CERTIFICATE-----\nnot a cert\n-----END CERTIFICATE-----\n', key: c.clientKey } }),
    );
    expect(badPem.code).toBe('AWS_IO_FILE_VALIDATION_FAILURE');
    expect(badPem.message).toContain('cert (in memory)');

    const mismatch = await rejection(connect({ hostName: 'localhost', port: peers.broker.ports.mtls, tls: { cert: c.clientCert, key: c.serverKey } }));
    expect(mismatch.code).toBe('AWS_IO_FILE_VALIDATION_FAILURE');

    const wrongPass = await rejection(connect({ hostName: 'localhost', port: peers.broker.ports.mtls, tls: { pfx: c.clientPfx, passphrase: 'wrong' } }));
    expect(wrongPass.code).toBe('AWS_IO_FILE_VALIDATION_FAILURE');
    expect(wrongPass.message).toContain(c.clientPfx);
  });

  it('a tunnel failure keeps its Mqtt5Error; any other tunnel error is mapped', async () => {
    const own = new Mqtt5Error('AWS_ERROR_HTTP_PROXY_CONNECT_FAILED', 'proxy said no', { httpStatus: 407 });
    const e1 = await rejection(connect({ hostName: host, port: 1, tunnel: () => Promise.reject(own) }));
    expect(e1).toBe(own);
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const e2 = await rejection(connect({ hostName: host, port: 1, tunnel: () => Promise.reject(refused) }));
    expect(e2.code).toBe('AWS_IO_SOCKET_CONNECTION_REFUSED');
    expect(e2.cause).toBe(refused);
  });
});

describe('abort', () => {
  it('an already aborted signal rejects with ABORTED without connecting', async () => {
    const silent = await startSilentServer();
    try {
      const controller = new AbortController();
      controller.abort();
      const error = await rejection(connect({ hostName: host, port: silent.port }, controller.signal));
      expect(error.code).toBe('ABORTED');
      await new Promise((r) => setTimeout(r, 20));
      expect(silent.open.size).toBe(0);
    } finally {
      await silent.stop();
    }
  });

  it('aborting during the TLS handshake rejects promptly and closes the socket', async () => {
    const silent = await startSilentServer();
    try {
      const controller = new AbortController();
      const pending = connect({ hostName: host, port: silent.port, tls: true }, controller.signal);
      await silent.connected();
      expect(silent.open.size).toBe(1);
      const started = Date.now();
      controller.abort(new Error('stop()'));
      const error = await rejection(pending);
      expect(error.code).toBe('ABORTED');
      expect(Date.now() - started).toBeLessThan(500);
      await silent.drained();
    } finally {
      await silent.stop();
    }
  });

  it('the returned socket survives an error emitted before the caller listens', async () => {
    const socket = await connect({ hostName: host, port: peers.broker.ports.tcp });
    socket.destroy(new Error('boom'));
    await new Promise((resolve) => socket.on('close', () => resolve(undefined)));
  });
});
