import net from 'node:net';
import {
  closed,
  getFreePort,
  mqttHandshake,
  neverAborted,
  rejection,
  startMockBroker,
  startSilentServer,
  usePeers,
  type SilentServer,
} from '../src/index.js';

const host = '127.0.0.1';
const peers = usePeers({ broker: () => startMockBroker(), silent: () => startSilentServer() });
const sockets: net.Socket[] = [];
const servers: net.Server[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port }, () => resolve(socket));
    sockets.push(socket);
    socket.once('error', reject);
  });
}

/** A server that answers every connection with `onConnection`. */
async function serve(onConnection: (socket: net.Socket) => void): Promise<number> {
  const server = net.createServer((socket) => {
    sockets.push(socket);
    onConnection(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return (server.address() as net.AddressInfo).port;
}

describe('mqttHandshake', () => {
  it('resolves with the CONNACK reason code and removes its listeners', async () => {
    const socket = await connect(peers.broker.port);
    const before = ['data', 'error', 'close'].map((e) => socket.listenerCount(e));
    await expect(mqttHandshake(socket)).resolves.toBe(0);
    expect(['data', 'error', 'close'].map((e) => socket.listenerCount(e))).toEqual(before);
    const connect_ = await peers.broker.waitFor('connect');
    expect(connect_.packet).toMatchObject({ protocolVersion: 5, clean: true, keepalive: 60 });
  });

  it('rejects when the first bytes back are not a CONNACK', async () => {
    const port = await serve((s) => s.end(Buffer.from([0x30, 0x02, 0x00, 0x00])));
    await expect(mqttHandshake(await connect(port))).rejects.toThrow('expected CONNACK, got first byte 0x30');
  });

  it('rejects when the peer closes before CONNACK', async () => {
    const port = await serve((s) => s.destroy());
    await expect(mqttHandshake(await connect(port))).rejects.toThrow('closed before CONNACK');
  });

  it('rejects after its timeout when nothing comes back', async () => {
    await expect(mqttHandshake(await connect(peers.silent.port), 50)).rejects.toThrow('no CONNACK in time');
  });
});

describe('closed', () => {
  it('resolves on close with the error emitted before it', async () => {
    const socket = net.connect({ host, port: await getFreePort() });
    await expect(closed(socket)).resolves.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('resolves with undefined after a clean close, and rejects when no close comes in time', async () => {
    const socket = await connect(peers.silent.port);
    await expect(closed(socket, 50)).rejects.toThrow('did not close in time');
    const done = closed(socket);
    socket.destroy();
    await expect(done).resolves.toBeUndefined();
  });
});

describe('rejection', () => {
  it('returns the rejection reason', async () => {
    const error = Object.assign(new Error('refused'), { code: 'AWS_IO_SOCKET_CONNECTION_REFUSED' });
    const got = await rejection(Promise.reject(error));
    expect(got).toBe(error);
    expect(got.code).toBe('AWS_IO_SOCKET_CONNECTION_REFUSED');
  });

  it('throws when the promise resolves, destroying what it resolved with', async () => {
    const destroy = jest.fn();
    await expect(rejection(Promise.resolve({ destroy }))).rejects.toThrow('expected a rejection');
    expect(destroy).toHaveBeenCalledTimes(1);
    await expect(rejection(Promise.resolve(undefined))).rejects.toThrow('expected a rejection');
  });
});

describe('startSilentServer', () => {
  let own: SilentServer | undefined;
  afterEach(async () => {
    await own?.stop();
    own = undefined;
  });

  it('tracks open connections (connected), drains once the clients leave, and stop() ends the rest', async () => {
    own = await startSilentServer();
    const first = await connect(own.port);
    const second = await connect(own.port);
    await expect(own.connected(3, 30)).rejects.toThrow('2 of 3 connection(s) open');
    await own.connected(2);
    expect(own.open.size).toBe(2);
    await expect(own.drained(30)).rejects.toThrow('2 connection(s) still open');
    first.destroy();
    second.destroy();
    await expect(own.drained()).resolves.toBeUndefined();

    const third = await connect(own.port);
    const thirdClosed = closed(third);
    await own.connected();
    await own.stop();
    own = undefined;
    await expect(thirdClosed).resolves.toBeUndefined();
  });
});

it('neverAborted is a signal that is not aborted', () => {
  expect(neverAborted().aborted).toBe(false);
});
