/**
 * The reference's connection-failure scenarios (crt-mqtt5-behaviour.md §8.1 items 11–26) against
 * local peers: every attempt ends in exactly one connectionFailure with the right code, and the
 * reconnect loop keeps going (two failures are collected with a short backoff), then stop → stopped.
 */
import http from 'node:http';
import type net from 'node:net';
import {
  getFreePort,
  startHttpConnectProxy,
  startMosquitto,
  startSilentServer,
  type HttpConnectProxy,
  type MosquittoInstance,
  type SilentServer,
} from '@mqtt5/test-peers';
import { Mqtt5Client, Mqtt5Error, RetryJitterType, type Mqtt5ClientConfig } from '../src/index.js';
import { collectFailures } from './client-helpers.js';

jest.setTimeout(20_000);

let broker: MosquittoInstance;
let authProxy: HttpConnectProxy;
let silent: SilentServer;
let forbidden: http.Server;
let forbiddenPort: number;
let freePort: number;

beforeAll(async () => {
  forbidden = http.createServer((_req, res) => res.writeHead(403, 'Forbidden').end());
  [broker, authProxy, silent, freePort] = await Promise.all([
    startMosquitto(),
    startHttpConnectProxy({ auth: { username: 'proxyuser', password: 'proxy-pass' } }),
    startSilentServer(),
    getFreePort(),
    new Promise<void>((resolve) => forbidden.listen(0, '127.0.0.1', resolve)),
  ]);
  forbiddenPort = (forbidden.address() as net.AddressInfo).port;
});

afterAll(async () => {
  forbidden?.closeAllConnections();
  await Promise.all([
    broker?.stop(),
    authProxy?.stop(),
    silent?.stop(),
    new Promise((resolve) => (forbidden ? forbidden.close(resolve) : resolve(undefined))),
  ]);
});

/** Fast reconnects so that two attempts happen in well under a second. */
const FAST = { minReconnectDelayMs: 20, maxReconnectDelayMs: 40, retryJitterMode: RetryJitterType.None } as const;

async function failuresOf(config: Mqtt5ClientConfig): Promise<Mqtt5Error[]> {
  const { failures, events } = await collectFailures(new Mqtt5Client({ ...FAST, ...config }), 2);
  // each attempt: exactly one outcome, never a success; the loop went on; stop() ended in stopped
  const attempts = events.filter((e) => e === 'attemptingConnect').length;
  expect(attempts).toBeGreaterThanOrEqual(2);
  expect(events.filter((e) => e.startsWith('connectionFailure'))).toHaveLength(attempts);
  expect(events).not.toContain('connectionSuccess');
  expect(events.at(-1)).toBe('stopped');
  return failures.map((f) => f.error);
}

async function expectCode(config: Mqtt5ClientConfig, code: string): Promise<Mqtt5Error[]> {
  const errors = await failuresOf(config);
  expect(errors.map((e) => e.code)).toEqual([code, code]);
  for (const error of errors) expect(Mqtt5Error.isInstance(error)).toBe(true);
  return errors;
}

describe('direct MQTT', () => {
  it('11. bad host → AWS_IO_DNS_INVALID_NAME', async () => {
    const [error] = await expectCode({ hostName: 'broker.invalid', port: 1883 }, 'AWS_IO_DNS_INVALID_NAME');
    expect((error!.cause as NodeJS.ErrnoException).code).toMatch(/ENOTFOUND|EAI_AGAIN/);
  });

  it('12. closed port → AWS_IO_SOCKET_CONNECTION_REFUSED', async () => {
    const [error] = await expectCode({ hostName: '127.0.0.1', port: freePort }, 'AWS_IO_SOCKET_CONNECTION_REFUSED');
    expect((error!.cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });

  it('13. MQTT to a websocket port: the HTTP answer is not MQTT → AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR', async () => {
    await expectCode({ hostName: '127.0.0.1', port: broker.ports.ws, connackTimeoutMs: 2000 }, 'AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR');
  });

  it('14. connect timeout: a TLS handshake that is never answered → AWS_IO_SOCKET_TIMEOUT', async () => {
    await expectCode(
      { hostName: '127.0.0.1', port: silent.port, tls: true, socketOptions: { connectTimeoutMs: 150 } },
      'AWS_IO_SOCKET_TIMEOUT',
    );
  });

  it('14b. plain TCP to a port that accepts but never answers: no CONNACK → AWS_ERROR_MQTT5_CONNACK_TIMEOUT', async () => {
    await expectCode({ hostName: '127.0.0.1', port: silent.port, connackTimeoutMs: 150 }, 'AWS_ERROR_MQTT5_CONNACK_TIMEOUT');
  });

  it('15. plaintext to a TLS port: the broker drops the connection → AWS_IO_SOCKET_CLOSED', async () => {
    await expectCode({ hostName: '127.0.0.1', port: broker.ports.tls }, 'AWS_IO_SOCKET_CLOSED');
  });

  it('16. TLS to a plaintext port → AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE', async () => {
    await expectCode({ hostName: '127.0.0.1', port: broker.ports.tcp, tls: { ca: broker.certs.caCert } }, 'AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE');
  });

  it('17. wrong username/password → AWS_ERROR_MQTT5_CONNACK_CONNECTION_REFUSED with the CONNACK', async () => {
    const client = new Mqtt5Client({
      ...FAST,
      hostName: '127.0.0.1',
      port: broker.ports.auth,
      connectProperties: { keepAliveIntervalSeconds: 60, username: broker.users.alice.username, password: Buffer.from('wrong') },
    });
    const { failures } = await collectFailures(client, 2);
    for (const failure of failures) {
      expect(failure.error.code).toBe('AWS_ERROR_MQTT5_CONNACK_CONNECTION_REFUSED');
      expect(failure.connack?.reasonCode).toBe(135);
    }
  });

  it('wrong-host certificate → AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE (ERR_TLS_CERT_ALTNAME_INVALID)', async () => {
    const [error] = await expectCode(
      { hostName: 'localhost', port: broker.ports.badHost, tls: { ca: broker.certs.caCert } },
      'AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE',
    );
    expect((error!.cause as NodeJS.ErrnoException).code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  // TLS 1.3: the client side of the handshake completes before the server checks the certificate,
  // so the alert (unknown CA) arrives on the connected socket, before CONNACK.
  const rogue = (): Mqtt5ClientConfig => ({
    hostName: 'localhost',
    port: broker.ports.mtls,
    tls: { ca: broker.certs.caCert, cert: broker.certs.rogueClientCert, key: broker.certs.rogueClientKey },
  });

  it('rogue client certificate: one failure per attempt with the server alert as cause, reconnects continue', async () => {
    const errors = await failuresOf(rogue());
    for (const error of errors) expect((error.cause as NodeJS.ErrnoException).code).toBe('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA');
  });

  // the alert is emitted by the transport after the connector resolved: @mqtt5/client classifies it
  // with the transports' mapping (isTlsError), not as a hang-up
  it('rogue client certificate → AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE', async () => {
    const errors = await expectCode(rogue(), 'AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE');
    for (const error of errors) expect((error.cause as NodeJS.ErrnoException).code).toMatch(/^ERR_SSL_/);
  });

  it('a certificate file that does not exist → AWS_IO_FILE_VALIDATION_FAILURE at every attempt (construction succeeds)', async () => {
    const [error] = await expectCode(
      { hostName: 'localhost', port: broker.ports.mtls, tls: { ca: broker.certs.caCert, cert: '/nonexistent/device.crt', key: broker.certs.clientKey } },
      'AWS_IO_FILE_VALIDATION_FAILURE',
    );
    expect(error!.message).toContain('/nonexistent/device.crt');
  });

  it('proxy authentication rejected → AWS_ERROR_HTTP_PROXY_CONNECT_FAILED with httpStatus 407', async () => {
    const errors = await expectCode(
      {
        hostName: '127.0.0.1',
        port: broker.ports.tcp,
        httpProxyOptions: { hostName: '127.0.0.1', port: authProxy.port, authUsername: 'proxyuser', authPassword: 'wrong' },
      },
      'AWS_ERROR_HTTP_PROXY_CONNECT_FAILED',
    );
    expect(errors.map((e) => e.httpStatus)).toEqual([407, 407]);
  });
});

describe('websocket', () => {
  it('18. bad host → AWS_IO_DNS_INVALID_NAME', async () => {
    await expectCode({ hostName: 'broker.invalid', port: 80, websocket: {} }, 'AWS_IO_DNS_INVALID_NAME');
  });

  it('19. closed port → AWS_IO_SOCKET_CONNECTION_REFUSED', async () => {
    await expectCode({ hostName: '127.0.0.1', port: freePort, websocket: {} }, 'AWS_IO_SOCKET_CONNECTION_REFUSED');
  });

  it('20. websocket to a plain MQTT port → AWS_ERROR_HTTP_WEBSOCKET_UPGRADE_FAILURE', async () => {
    await expectCode({ hostName: '127.0.0.1', port: broker.ports.tcp, websocket: {} }, 'AWS_ERROR_HTTP_WEBSOCKET_UPGRADE_FAILURE');
  });

  it('21. upgrade never answered → AWS_IO_SOCKET_TIMEOUT', async () => {
    await expectCode(
      { hostName: '127.0.0.1', port: silent.port, websocket: {}, socketOptions: { connectTimeoutMs: 150 } },
      'AWS_IO_SOCKET_TIMEOUT',
    );
  });

  it('22. ws:// to a TLS port → AWS_ERROR_HTTP_WEBSOCKET_UPGRADE_FAILURE', async () => {
    await expectCode({ hostName: '127.0.0.1', port: broker.ports.tls, websocket: {} }, 'AWS_ERROR_HTTP_WEBSOCKET_UPGRADE_FAILURE');
  });

  it('23. wss:// to a plain websocket port → AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE', async () => {
    await expectCode(
      { hostName: '127.0.0.1', port: broker.ports.ws, websocket: {}, tls: { ca: broker.certs.caCert } },
      'AWS_IO_TLS_ERROR_NEGOTIATION_FAILURE',
    );
  });

  it('25. upgrade rejected (HTTP 403) → AWS_ERROR_HTTP_WEBSOCKET_UPGRADE_FAILURE with httpStatus 403', async () => {
    const errors = await expectCode({ hostName: '127.0.0.1', port: forbiddenPort, websocket: {} }, 'AWS_ERROR_HTTP_WEBSOCKET_UPGRADE_FAILURE');
    expect(errors.map((e) => e.httpStatus)).toEqual([403, 403]);
  });

  it('26. handshake transform that fails → AWS_ERROR_HTTP_WEBSOCKET_UPGRADE_FAILURE, called again at every attempt', async () => {
    let calls = 0;
    const errors = await expectCode(
      {
        hostName: '127.0.0.1',
        port: broker.ports.ws,
        websocket: {
          handshakeTransform: async () => {
            calls += 1;
            throw new Error('signing failed');
          },
        },
      },
      'AWS_ERROR_HTTP_WEBSOCKET_UPGRADE_FAILURE',
    );
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(errors[0]!.message).toBe('websocket handshake transform failed: signing failed');
  });

  it('a transform that fails with credentials → AWS_AUTH_CREDENTIALS_PROVIDER_FAILURE', async () => {
    await expectCode(
      {
        hostName: '127.0.0.1',
        port: broker.ports.ws,
        websocket: { handshakeTransform: () => Promise.reject(new Mqtt5Error('AWS_AUTH_CREDENTIALS_PROVIDER_FAILURE', 'expired')) },
      },
      'AWS_AUTH_CREDENTIALS_PROVIDER_FAILURE',
    );
  });
});

describe('stop() during an attempt', () => {
  it('aborts the pending connect: one connectionFailure (USER_REQUESTED_STOP), then stopped, socket closed', async () => {
    const client = new Mqtt5Client({ ...FAST, hostName: '127.0.0.1', port: silent.port, tls: true });
    const events: string[] = [];
    client.on('attemptingConnect', () => events.push('attemptingConnect'));
    client.on('connectionFailure', (e) => events.push(`connectionFailure:${e.error.code}`));
    const stopped = new Promise((resolve) => client.on('stopped', resolve));
    client.start();
    await silent.connected();
    expect(silent.open.size).toBe(1);
    client.stop();
    await stopped;
    client.close();
    expect(events).toEqual(['attemptingConnect', 'connectionFailure:AWS_ERROR_MQTT5_USER_REQUESTED_STOP']);
    await silent.drained();
  });
});
