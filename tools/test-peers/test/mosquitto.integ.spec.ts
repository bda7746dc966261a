import WebSocket from 'ws';
import fs from 'node:fs';
import {
  type IConnackPacket,
  openRawClient,
  rawConnect,
  startMosquitto,
  type MosquittoInstance,
} from '../src/index.js';
import { expectGone, failure } from './helpers.js';

let broker: MosquittoInstance;

beforeAll(async () => {
  broker = await startMosquitto();
});

afterAll(async () => {
  const pid = broker?.pid;
  await broker?.stop();
  if (pid) expectGone(pid);
});

describe('mosquitto main instance', () => {
  it('runs with a log file and distinct ports', () => {
    expect(broker.running).toBe(true);
    expect(broker.host).toBe('127.0.0.1');
    const ports = Object.values(broker.ports);
    expect(new Set(ports).size).toBe(7);
    expect(fs.existsSync(broker.logFile)).toBe(true);
  });

  it('tcp: CONNECT gets CONNACK success', async () => {
    const { client, connack } = await rawConnect({ port: broker.ports.tcp });
    expect(connack.reasonCode).toBe(0);
    expect(connack.properties?.receiveMaximum).toBe(20);
    client.destroy();
  });

  it('tls: ok with the test CA, fails without it', async () => {
    const ca = fs.readFileSync(broker.certs.caCert);
    const ok = await rawConnect({ port: broker.ports.tls, tls: { ca, servername: 'localhost' } });
    expect(ok.connack.reasonCode).toBe(0);
    ok.client.destroy();
    const byIp = await rawConnect({ port: broker.ports.tls, tls: { ca } });
    expect(byIp.connack.reasonCode).toBe(0);
    byIp.client.destroy();
    expect(await failure(openRawClient({ port: broker.ports.tls, tls: true }))).toMatch(
      /SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/,
    );
  });

  it('mtls: client cert ok (CN as username); no cert, rogue cert and expired cert fail', async () => {
    const c = broker.certs;
    const ca = fs.readFileSync(c.caCert);
    const ok = await rawConnect({
      port: broker.ports.mtls,
      tls: { ca, cert: fs.readFileSync(c.clientCert), key: fs.readFileSync(c.clientKey) },
    });
    expect(ok.connack.reasonCode).toBe(0);
    ok.client.destroy();
    const pfx = await rawConnect({
      port: broker.ports.mtls,
      tls: { ca, pfx: fs.readFileSync(c.clientPfx), passphrase: c.clientPfxPassphrase },
    });
    expect(pfx.connack.reasonCode).toBe(0);
    pfx.client.destroy();
    // TLS 1.3: the handshake may complete before the server's alert arrives; either the
    // connect or the CONNACK wait fails.
    const attempt = (tlsOptions: object): Promise<string> =>
      failure(rawConnect({ port: broker.ports.mtls, tls: { ca, ...tlsOptions } }));
    expect(await attempt({})).toMatch(/certificate[ _]required/i);
    expect(await attempt({ cert: fs.readFileSync(c.rogueClientCert), key: fs.readFileSync(c.rogueClientKey) })).toMatch(
      /unknown[ _]ca/i,
    );
    expect(
      await attempt({ cert: fs.readFileSync(c.expiredClientCert), key: fs.readFileSync(c.expiredClientKey) }),
    ).toMatch(/certificate[ _]expired/i);
  });

  it('badHost: hostname verification fails, works with checkServerIdentity disabled', async () => {
    const ca = fs.readFileSync(broker.certs.caCert);
    expect(await failure(openRawClient({ port: broker.ports.badHost, host: 'localhost', tls: { ca } }))).toBe(
      'ERR_TLS_CERT_ALTNAME_INVALID',
    );
    const ok = await rawConnect({ port: broker.ports.badHost, tls: { ca, checkServerIdentity: () => undefined } });
    expect(ok.connack.reasonCode).toBe(0);
    ok.client.destroy();
  });

  it('ws and wss upgrade with subprotocol mqtt', async () => {
    const ws = await rawConnect({ url: `ws://127.0.0.1:${broker.ports.ws}/mqtt` });
    expect(ws.connack.reasonCode).toBe(0);
    ws.client.destroy();
    const socket = new WebSocket(`ws://127.0.0.1:${broker.ports.ws}/`, ['mqtt']);
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    expect(socket.protocol).toBe('mqtt');
    socket.terminate();
    const wss = await rawConnect({
      url: `wss://localhost:${broker.ports.wss}/mqtt`,
      wsOptions: { ca: fs.readFileSync(broker.certs.caCert) },
    });
    expect(wss.connack.reasonCode).toBe(0);
    wss.client.destroy();
    expect(await failure(openRawClient({ url: `wss://localhost:${broker.ports.wss}/mqtt` }))).toMatch(
      /SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/,
    );
  });

  it('auth: alice ok, wrong password and anonymous refused (0x87)', async () => {
    const { alice } = broker.users;
    const ok = await rawConnect(
      { port: broker.ports.auth },
      { username: alice.username, password: Buffer.from(alice.password) },
    );
    expect(ok.connack.reasonCode).toBe(0);
    ok.client.destroy();
    const bad = await rawConnect({ port: broker.ports.auth }, { username: 'alice', password: Buffer.from('nope') });
    expect([0x86, 0x87]).toContain(bad.connack.reasonCode);
    await bad.client.waitClosed();
    const anon = await rawConnect({ port: broker.ports.auth });
    expect(anon.connack.reasonCode).toBe(0x87);
    anon.client.destroy();
  });

  it("auth: the ACL denies a publish outside the user's topics (PUBACK 0x87) and allows its own", async () => {
    const { bob } = broker.users;
    const { client } = await rawConnect(
      { port: broker.ports.auth },
      { username: bob.username, password: Buffer.from(bob.password) },
    );
    client.send({
      cmd: 'publish',
      topic: 'alice/secret',
      payload: Buffer.from('x'),
      qos: 1,
      messageId: 1,
      dup: false,
      retain: false,
    });
    expect((await client.next('puback')).reasonCode).toBe(0x87);
    client.send({
      cmd: 'publish',
      topic: 'bob/ok',
      payload: Buffer.from('x'),
      qos: 1,
      messageId: 2,
      dup: false,
      retain: false,
    });
    // allowed: success, or 0x10 "no matching subscribers"
    expect([0, 0x10]).toContain((await client.next('puback')).reasonCode);
    client.destroy();
  });

  it('routes messages between clients on the tcp listener', async () => {
    const sub = await rawConnect({ port: broker.ports.tcp });
    sub.client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'test/route', qos: 1 }] });
    expect((await sub.client.next('suback')).granted).toEqual([1]);
    const pub = await rawConnect({ port: broker.ports.tcp });
    pub.client.send({
      cmd: 'publish',
      topic: 'test/route',
      payload: Buffer.from('hello'),
      qos: 1,
      messageId: 7,
      dup: false,
      retain: false,
    });
    await pub.client.next('puback');
    const msg = await sub.client.next('publish');
    expect(msg.payload.toString()).toBe('hello');
    sub.client.destroy();
    pub.client.destroy();
  });

  it('kill leaves no process; restart comes back on the same ports', async () => {
    const ports = { ...broker.ports };
    const oldPid = broker.pid;
    const { client } = await rawConnect({ port: broker.ports.tcp });
    await broker.kill();
    expect(broker.running).toBe(false);
    expectGone(oldPid);
    await client.waitClosed();
    expect(await failure(openRawClient({ port: ports.tcp }))).toBe('ECONNREFUSED');
    await broker.restart();
    expect(broker.running).toBe(true);
    expect(broker.pid).not.toBe(oldPid);
    expect(broker.ports).toEqual(ports);
    const again = await rawConnect({ port: ports.tcp });
    expect((again.connack as IConnackPacket).reasonCode).toBe(0);
    again.client.destroy();
    const tlsAgain = await rawConnect({ port: ports.tls, tls: { ca: fs.readFileSync(broker.certs.caCert) } });
    expect(tlsAgain.connack.reasonCode).toBe(0);
    tlsAgain.client.destroy();
  });
});
