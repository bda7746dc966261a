/* global describe, it, expect */
// Counting/checking of received PUBLISH frames and the pre-encoded blaster of the helper
// processes (no sockets: a fake socket stands in for net.Socket).
const { EventEmitter } = require('node:events');
const mqttPacket = require('mqtt-packet');
const { Blaster, PublishCounter } = require('./peer-common.mjs');
const { FrameSplitter, PUBLISH } = require('./mqtt-raw.mjs');

const gen = (p) => mqttPacket.generate({ retain: false, dup: false, ...p }, { protocolVersion: 5 });

function feed(counter, frames) {
  const ids = [];
  new FrameSplitter((h, buf, s, e) => {
    if (h >> 4 === PUBLISH) ids.push(counter.onPublish(h, buf, s, e));
  }).push(Buffer.concat(frames));
  return ids;
}

describe('PublishCounter', () => {
  it('counts matching frames and returns QoS 1 packet ids (also with properties present)', () => {
    const c = new PublishCounter({ topic: 'bench/t', payloadLength: 64, qos: 1 });
    const ids = feed(c, [
      gen({ cmd: 'publish', topic: 'bench/t', payload: Buffer.alloc(64), qos: 1, messageId: 1 }),
      gen({ cmd: 'publish', topic: 'bench/t', payload: Buffer.alloc(64), qos: 1, messageId: 65_535, properties: { contentType: 'a/b', userProperties: { x: 'y' } } }),
    ]);
    expect(ids).toEqual([1, 65_535]);
    expect(c.stats()).toEqual({ count: 2, bad: 0, firstBad: null });
  });

  it.each([
    ['a wrong topic', { topic: 'bench/u', payload: Buffer.alloc(64), qos: 0 }, { topic: 'bench/u', qos: 0, payloadLength: 64 }],
    ['a longer topic with the same prefix', { topic: 'bench/tt', payload: Buffer.alloc(64), qos: 0 }, { topic: 'bench/tt', qos: 0, payloadLength: 64 }],
    ['a wrong payload length', { topic: 'bench/t', payload: Buffer.alloc(63), qos: 0 }, { topic: 'bench/t', qos: 0, payloadLength: 63 }],
    ['a wrong QoS', { topic: 'bench/t', payload: Buffer.alloc(64), qos: 1, messageId: 5 }, { topic: 'bench/t', qos: 1, payloadLength: 64 }],
  ])('flags %s', (_what, packet, firstBad) => {
    const c = new PublishCounter({ topic: 'bench/t', payloadLength: 64, qos: 0 });
    feed(c, [gen({ cmd: 'publish', topic: 'bench/t', payload: Buffer.alloc(64), qos: 0 }), gen({ cmd: 'publish', ...packet })]);
    expect(c.stats()).toEqual({ count: 2, bad: 1, firstBad });
  });
});

class FakeSocket extends EventEmitter {
  constructor(acceptBeforeFull) {
    super();
    this.destroyed = false;
    this.chunks = [];
    this.acceptBeforeFull = acceptBeforeFull;
    this.pending = 0;
  }

  write(chunk) {
    this.chunks.push(Buffer.from(chunk)); // copy: the blaster reuses its buffer
    this.pending++;
    return this.pending < this.acceptBeforeFull;
  }

  drain() {
    this.pending = 0;
    this.emit('drain');
  }
}

describe('Blaster', () => {
  it('writes exactly n well-formed frames, waiting for drain whenever write() says so', async () => {
    const b = new Blaster({ topic: 'bench/t', payloadLength: 64, chunkBytes: 1000 });
    const sock = new FakeSocket(2);
    const n = 1234;
    const done = new Promise((resolve, reject) => b.blast(sock, n, (err) => (err ? reject(err) : resolve())));
    let drains = 0;
    while (sock.listenerCount('drain') > 0 && drains < 1000) {
      sock.drain();
      drains++;
    }
    await done;
    expect(drains).toBeGreaterThan(0);
    const counter = new PublishCounter({ topic: 'bench/t', payloadLength: 64, qos: 0 });
    feed(counter, sock.chunks);
    expect(counter.stats()).toEqual({ count: n, bad: 0, firstBad: null });
  });

  it('reports an error when the socket is gone before all frames are written', async () => {
    const b = new Blaster({ topic: 'bench/t', payloadLength: 64, chunkBytes: 1000 });
    const sock = new FakeSocket(1);
    const done = new Promise((resolve) => b.blast(sock, 500, resolve));
    sock.destroyed = true;
    sock.drain();
    const err = await done;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/frames unsent/);
  });
});
