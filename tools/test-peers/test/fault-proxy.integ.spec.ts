import net from 'node:net';
import mqttPacket from 'mqtt-packet';
import {
  connectPacket,
  type FaultProxy,
  type MockBroker,
  openRawClient,
  rawConnect,
  type RawMqttClient,
  startFaultProxy,
  startMockBroker,
} from '../src/index.js';
import { failure } from './helpers.js';

let broker: MockBroker;
let fp: FaultProxy;
const clients: RawMqttClient[] = [];
const sockets: net.Socket[] = [];

beforeEach(async () => {
  broker = await startMockBroker();
  fp = await startFaultProxy({ port: broker.port });
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  for (const s of sockets.splice(0)) s.destroy();
  await fp.stop();
  await broker.stop();
});

async function viaProxy(): Promise<RawMqttClient> {
  const { client, connack } = await rawConnect({ port: fp.port });
  clients.push(client);
  expect(connack.reasonCode).toBe(0);
  return client;
}

/** Polls `cond` (bounded) every 5 ms. */
async function until(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  for (let waited = 0; !cond(); waited += 5) {
    if (waited >= timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A plain socket through the proxy that counts the bytes it receives. */
async function countingSocket(): Promise<{ socket: net.Socket; bytes: () => number; closed: Promise<void> }> {
  const socket = net.connect({ host: '127.0.0.1', port: fp.port });
  sockets.push(socket);
  socket.on('error', () => undefined);
  let n = 0;
  socket.on('data', (d: Buffer) => (n += d.length));
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  await new Promise((r) => socket.once('connect', r));
  return { socket, bytes: () => n, closed };
}

describe('fault proxy', () => {
  it('passes traffic through and counts connections and bytes', async () => {
    const client = await viaProxy();
    client.send({ cmd: 'pingreq' });
    await client.next('pingresp');
    expect(fp.connections).toBe(1);
    expect(fp.totalConnections).toBe(1);
    expect(fp.bytes.up).toBeGreaterThan(10);
    expect(fp.bytes.down).toBeGreaterThan(3);
    await fp.waitForConnections(1);
    expect(broker.received.map((r) => r.packet.cmd)).toEqual(['connect', 'pingreq']);
  });

  it('drop closes live connections (FIN), drop({ rst }) resets them', async () => {
    const a = await viaProxy();
    fp.drop();
    await a.waitClosed();
    await broker.latest.waitClosed();
    expect(a.errors).toEqual([]);
    expect(fp.connections).toBe(0);
    const b = await viaProxy();
    fp.drop({ rst: true });
    await b.waitClosed();
    expect(b.errors.map((e) => (e as NodeJS.ErrnoException).code)).toContain('ECONNRESET');
  });

  it('refuse: ECONNREFUSED while on (rst / fin modes accept and close), normal again when off', async () => {
    const live = await viaProxy();
    await fp.refuse(true);
    expect(await failure(openRawClient({ port: fp.port }))).toBe('ECONNREFUSED');
    live.send({ cmd: 'pingreq' });
    await live.next('pingresp'); // live connections are untouched
    await fp.refuse(false);
    await viaProxy();
    await fp.refuse(true, { mode: 'rst' });
    expect(await failure(rawConnect({ port: fp.port }))).toMatch(/ECONNRESET|closed/);
    await fp.refuse(true, { mode: 'fin' });
    expect(await failure(rawConnect({ port: fp.port }))).toMatch(/closed/);
    await fp.reset();
    await viaProxy();
    expect(broker.connections).toHaveLength(3);
  });

  it('stall down holds broker → client bytes until released', async () => {
    const client = await viaProxy();
    fp.stall(true, 'down');
    const before = fp.bytes.down;
    client.send({ cmd: 'pingreq' });
    await broker.waitFor('pingreq');
    await until(() => fp.bytes.down > before); // the PINGRESP reached the proxy…
    await new Promise((r) => setTimeout(r, 30));
    expect(client.received.map((p) => p.cmd)).toEqual(['connack']); // …but not the client
    fp.stall(false, 'down');
    await client.next('pingresp');
  });

  it('stall up holds client → broker bytes until released', async () => {
    const client = await viaProxy();
    fp.stall(true, 'up');
    const before = fp.bytes.up;
    client.send({ cmd: 'pingreq' });
    await until(() => fp.bytes.up > before);
    await new Promise((r) => setTimeout(r, 30));
    expect(broker.received.map((r) => r.packet.cmd)).toEqual(['connect']);
    await fp.reset();
    await broker.waitFor('pingreq');
    await client.next('pingresp');
  });

  it('delay adds latency per chunk and keeps order', async () => {
    const client = await viaProxy();
    fp.delay(150, 'down');
    const t0 = Date.now();
    client.send({ cmd: 'pingreq' });
    client.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a', qos: 0 }] });
    expect((await client.next()).cmd).toBe('pingresp');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(145);
    expect((await client.next()).cmd).toBe('suback');
    fp.delay(0);
    const t1 = Date.now();
    client.send({ cmd: 'pingreq' });
    await client.next('pingresp');
    expect(Date.now() - t1).toBeLessThan(145);
  });

  it('cutMidFrame (down): the client gets part of a PUBLISH frame, then both sides close', async () => {
    const { socket, bytes, closed } = await countingSocket();
    socket.write(mqttPacket.generate(connectPacket(), { protocolVersion: 5 }));
    const conn = await broker.waitForConnection(1);
    await until(() => bytes() === 5); // CONNACK: 20 03 00 00 00
    fp.cutMidFrame();
    const frame = conn.publish('cut/me', Buffer.alloc(200, 7), { qos: 1 });
    const frameLength = mqttPacket.generate(frame, { protocolVersion: 5 }).length;
    await closed;
    await conn.waitClosed();
    const got = bytes() - 5;
    expect(got).toBeGreaterThan(0);
    expect(got).toBeLessThan(frameLength);
    expect(fp.connections).toBe(0);
  });

  it('cutMidFrame({ afterBytes, dir: up }): the target gets exactly N more bytes, then both sides close', async () => {
    let received = 0;
    const serverSide: net.Socket[] = [];
    const sink = net.createServer((s) => {
      serverSide.push(s);
      s.on('data', (d: Buffer) => (received += d.length));
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', () => r()));
    try {
      fp.setTarget({ port: (sink.address() as net.AddressInfo).port });
      const { socket, closed } = await countingSocket();
      socket.write(Buffer.alloc(10, 1));
      await until(() => received === 10);
      fp.cutMidFrame({ afterBytes: 4, dir: 'up' });
      socket.write(Buffer.alloc(3, 2));
      await until(() => received === 13);
      socket.write(Buffer.alloc(20, 3)); // only 1 more byte passes, then the cut
      await closed;
      await until(() => serverSide[0]?.destroyed === true || serverSide[0]?.readableEnded === true);
      expect(received).toBe(14);
    } finally {
      for (const s of serverSide) s.destroy();
      await new Promise<void>((r) => sink.close(() => r()));
    }
  });

  it('corrupt flips one byte in the chosen direction', async () => {
    const client = await viaProxy();
    fp.corrupt({ dir: 'down', skip: 0, xor: 0xd0 ^ 0x30 }); // PINGRESP (0xd0) becomes PUBLISH (0x30)
    client.send({ cmd: 'pingreq' });
    await client.waitClosed(); // a PUBLISH with Remaining Length 0 is malformed
    expect(client.received.map((p) => p.cmd)).toEqual(['connack']);
    expect(client.errors.length).toBeGreaterThan(0);
  });

  it('setTarget sends new connections elsewhere; stop closes everything', async () => {
    const other = await startMockBroker();
    try {
      await viaProxy();
      fp.setTarget({ port: other.port });
      const moved = await viaProxy();
      expect(other.connections).toHaveLength(1);
      expect(broker.connections).toHaveLength(1);
      await fp.waitForConnections(2);
      await fp.stop();
      await moved.waitClosed();
      expect(await failure(openRawClient({ port: fp.port }))).toBe('ECONNREFUSED');
    } finally {
      await other.stop();
    }
  });

  it('a connection to a dead target is closed at once', async () => {
    await broker.stop();
    const raw = await openRawClient({ port: fp.port });
    clients.push(raw);
    await raw.waitClosed();
  });
});
