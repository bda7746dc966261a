import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type MosquittoLimitsInstance, rawConnect, startMosquittoCustom, startMosquittoLimits } from '../src/index.js';
import { expectGone, failure } from './helpers.js';

let limits: MosquittoLimitsInstance;

beforeAll(async () => {
  limits = await startMosquittoLimits();
});

afterAll(async () => {
  const pid = limits?.pid;
  await limits?.stop();
  if (pid) expectGone(pid);
});

describe('mosquitto limits instance', () => {
  it('advertises the limits in CONNACK', async () => {
    const { client, connack } = await rawConnect({ port: limits.ports.limits }, { keepalive: 60 });
    expect(connack.reasonCode).toBe(0);
    expect(connack.properties).toMatchObject({
      receiveMaximum: 3,
      maximumPacketSize: 2048,
      topicAliasMaximum: 2,
      retainAvailable: false,
      serverKeepAlive: 10,
    });
    expect(connack.properties?.maximumQoS).toBeUndefined();
    client.destroy();
  });

  it('the qos1 listener advertises Maximum QoS 1 and grants QoS 1 for a QoS 2 subscription', async () => {
    const { client, connack } = await rawConnect({ port: limits.ports.limitsQos1 });
    expect(connack.properties).toMatchObject({
      maximumQoS: 1,
      receiveMaximum: 3,
      maximumPacketSize: 2048,
      retainAvailable: false,
    });
    expect(connack.properties?.topicAliasMaximum).toBeUndefined();
    client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'q', qos: 2 }] });
    expect((await client.next('suback')).granted).toEqual([1]);
    client.destroy();
  });

  it('enforces retain unavailable (DISCONNECT 0x9A) and the packet size (DISCONNECT 0x95)', async () => {
    const a = await rawConnect({ port: limits.ports.limits });
    a.client.send({ cmd: 'publish', topic: 'r', payload: Buffer.from('x'), qos: 0, dup: false, retain: true });
    expect((await a.client.next('disconnect')).reasonCode).toBe(0x9a);
    await a.client.waitClosed();
    const b = await rawConnect({ port: limits.ports.limits });
    b.client.send({ cmd: 'publish', topic: 'big', payload: Buffer.alloc(3000), qos: 0, dup: false, retain: false });
    expect((await b.client.next('disconnect')).reasonCode).toBe(0x95);
    await b.client.waitClosed();
  });

  it('restart keeps the ports; kill leaves no process', async () => {
    const ports = { ...limits.ports };
    const pid = limits.pid;
    await limits.kill();
    expectGone(pid);
    expect(limits.running).toBe(false);
    expect(await failure(rawConnect({ port: ports.limits }))).toBe('ECONNREFUSED');
    await limits.restart();
    expect(limits.ports).toEqual(ports);
    const { client, connack } = await rawConnect({ port: ports.limitsQos1 }, { clientId: '' });
    expect(connack.reasonCode).toBe(0x80); // empty client id refused on this listener
    client.destroy();
  });
});

describe('persistence', () => {
  it('keeps a session across kill + restart when enabled', async () => {
    const b = await startMosquittoCustom({
      name: 'persist',
      persistence: true,
      listeners: { plain: 'protocol mqtt\nallow_anonymous true' },
    });
    try {
      const session = { clientId: 'persistent-1', clean: false, properties: { sessionExpiryInterval: 300 } };
      const first = await rawConnect({ port: b.ports.plain }, session);
      expect(first.connack.sessionPresent).toBe(false);
      first.client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'p/#', qos: 1 }] });
      await first.client.next('suback');
      first.client.send({ cmd: 'disconnect', reasonCode: 0 });
      await first.client.waitClosed();
      await b.kill();
      await b.restart();
      const again = await rawConnect({ port: b.ports.plain }, session);
      expect(again.connack.sessionPresent).toBe(true);
      again.client.destroy();
    } finally {
      await b.stop();
    }
  });
});

describe('startMosquittoCustom', () => {
  it('starts caller-defined listeners and a global option', async () => {
    const b = await startMosquittoCustom({
      name: 'tiny',
      globalConfig: 'max_packet_size 512',
      listeners: { plain: 'protocol mqtt\nallow_anonymous true' },
    });
    const pid = b.pid;
    try {
      const { client, connack } = await rawConnect({ port: b.ports.plain });
      expect(connack.properties?.maximumPacketSize).toBe(512);
      client.destroy();
      expect(b.readLog()).toMatch(/mosquitto version/);
    } finally {
      await b.stop();
    }
    expectGone(pid);
    expect(b.running).toBe(false);
  });

  it('fails with the log when mosquitto rejects the config, leaving nothing behind', async () => {
    const leftovers = (): string[] =>
      fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('mqtt5-mosquitto-broken-'));
    const before = leftovers();
    await expect(
      startMosquittoCustom({ name: 'broken', listeners: { x: 'protocol mqtt\nthis_is_not_an_option 1' } }),
    ).rejects.toThrow(/did not start[\s\S]*this_is_not_an_option|Unknown configuration/);
    expect(leftovers()).toEqual(before);
  });

  it('removes instance folders left behind by a killed test process', async () => {
    const stale = fs.mkdtempSync(path.join(os.tmpdir(), 'mqtt5-mosquitto-stale-'));
    fs.writeFileSync(path.join(stale, 'owner.pid'), String(2 ** 22 + 1)); // no such pid
    const mine = fs.mkdtempSync(path.join(os.tmpdir(), 'mqtt5-mosquitto-live-'));
    fs.writeFileSync(path.join(mine, 'owner.pid'), String(process.pid));
    try {
      const b = await startMosquittoCustom({ listeners: { plain: 'protocol mqtt\nallow_anonymous true' } });
      await b.stop();
      expect(fs.existsSync(stale)).toBe(false);
      expect(fs.existsSync(mine)).toBe(true);
      expect(fs.existsSync(b.dir)).toBe(false);
    } finally {
      fs.rmSync(stale, { recursive: true, force: true });
      fs.rmSync(mine, { recursive: true, force: true });
    }
  });

  it('throws a clear error when mosquitto is missing', async () => {
    const saved = process.env.MOSQUITTO_BIN;
    process.env.MOSQUITTO_BIN = '/nonexistent/mosquitto';
    try {
      await expect(startMosquittoLimits()).rejects.toThrow(/apt-get install -y mosquitto/);
    } finally {
      if (saved === undefined) delete process.env.MOSQUITTO_BIN;
      else process.env.MOSQUITTO_BIN = saved;
    }
  });
});
