/* global describe, it, expect */
// The benchmark's hand-written MQTT bytes, checked against mqtt-packet (the independent oracle):
// what we encode must parse to the intended packet, PUBLISH must be byte-identical, and the frame
// splitter must recover every frame however the stream is chunked.
const mqttPacket = require('mqtt-packet');
const raw = require('./mqtt-raw.mjs');

function parseAll(buf) {
  const parser = mqttPacket.parser({ protocolVersion: 5 });
  const packets = [];
  const errors = [];
  parser.on('packet', (p) => packets.push(p));
  parser.on('error', (e) => errors.push(e));
  parser.parse(buf);
  expect(errors).toEqual([]);
  return packets;
}

function gen(packet) {
  return mqttPacket.generate(packet, { protocolVersion: 5 });
}

describe('encoders', () => {
  it('CONNECT parses as a v5 clean-start CONNECT with the client id, keep alive and receive maximum', () => {
    const [p] = parseAll(raw.encodeConnect({ clientId: 'bench-1', keepAlive: 60, receiveMaximum: 1234 }));
    expect(p).toMatchObject({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 5,
      clean: true,
      keepalive: 60,
      clientId: 'bench-1',
      properties: { receiveMaximum: 1234 },
    });
  });

  it('CONNACK is a success carrying receive maximum 65535 (and no topic alias maximum)', () => {
    const [p] = parseAll(raw.encodeConnack({ receiveMaximum: 65_535 }));
    expect(p).toMatchObject({ cmd: 'connack', sessionPresent: false, reasonCode: 0, properties: { receiveMaximum: 65_535 } });
    expect(p.properties.topicAliasMaximum).toBeUndefined();
  });

  it('SUBSCRIBE and SUBACK parse to the filter, QoS and packet id', () => {
    const [sub] = parseAll(raw.encodeSubscribe(42, 'bench/t', 1));
    expect(sub).toMatchObject({ cmd: 'subscribe', messageId: 42, subscriptions: [{ topic: 'bench/t', qos: 1 }] });
    const [ack] = parseAll(raw.encodeSuback(42, [1, 0]));
    expect(ack).toMatchObject({ cmd: 'suback', messageId: 42, granted: [1, 0] });
  });

  it.each([
    [0, 0, 'bench/t', 64],
    [1, 1, 'bench/t', 64],
    [1, 65_535, 'a/b/c/ünïcode', 0],
    [0, 0, 't', 200], // remaining length needs two bytes
    [1, 7, 'bench/t', 20_000], // three bytes
  ])('PUBLISH qos %d id %d topic %s payload %d is byte-identical to mqtt-packet', (qos, id, topic, len) => {
    const payload = Buffer.alloc(len, 0x5a);
    const ours = raw.encodePublish(topic, payload, qos, id);
    const theirs = gen({ cmd: 'publish', topic, payload, qos, messageId: qos > 0 ? id : undefined, retain: false, dup: false });
    expect(ours.equals(theirs)).toBe(true);
    expect(ours.length).toBe(raw.publishFrameLength(Buffer.byteLength(topic), len, qos));
  });

  it('variable byte integers round-trip at every length boundary', () => {
    for (const n of [0, 1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, 268_435_455]) {
      const buf = Buffer.alloc(4);
      const end = raw.writeVarint(buf, 0, n);
      expect(end).toBe(raw.varintLength(n));
      expect(raw.readVarint(buf, 0, end)).toEqual([n, end]);
      if (end > 1) expect(raw.readVarint(buf, 0, end - 1)).toBeNull();
    }
  });
});

describe('FrameSplitter', () => {
  const frames = [
    gen({ cmd: 'publish', topic: 'bench/t', payload: Buffer.alloc(64, 1), qos: 0, retain: false, dup: false }),
    gen({
      cmd: 'publish',
      topic: 'bench/t',
      payload: Buffer.alloc(300, 2),
      qos: 1,
      messageId: 9,
      retain: false,
      dup: false,
      properties: { userProperties: { k: 'v' }, contentType: 'x' },
    }),
    gen({ cmd: 'puback', messageId: 9, reasonCode: 0 }),
    gen({ cmd: 'pingresp' }),
    gen({ cmd: 'publish', topic: 'big', payload: Buffer.alloc(20_000, 3), qos: 0, retain: false, dup: false }),
    gen({ cmd: 'disconnect', reasonCode: 0 }),
  ];
  const stream = Buffer.concat(frames);

  function split(chunks) {
    const out = [];
    // rebuild each frame from what the splitter reports, to compare with the original bytes
    const s = new raw.FrameSplitter((header, buf, start, end) => {
      const fixed = Buffer.alloc(1 + raw.varintLength(end - start));
      fixed[0] = header;
      raw.writeVarint(fixed, 1, end - start);
      out.push(Buffer.concat([fixed, buf.subarray(start, end)]));
    });
    for (const c of chunks) s.push(c);
    return out;
  }

  it('recovers every frame from one chunk', () => {
    expect(split([stream]).map((b) => b.toString('hex'))).toEqual(frames.map((b) => b.toString('hex')));
  });

  it('recovers every frame from one-byte chunks and from random chunkings', () => {
    const bytes = [];
    for (let i = 0; i < stream.length; i++) bytes.push(stream.subarray(i, i + 1));
    expect(split(bytes).map((b) => b.toString('hex'))).toEqual(frames.map((b) => b.toString('hex')));
    let seed = 7;
    const rand = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 50; round++) {
      const chunks = [];
      for (let off = 0; off < stream.length; ) {
        const n = 1 + Math.floor(rand() * 700);
        chunks.push(stream.subarray(off, off + n));
        off += n;
      }
      expect(split(chunks).length).toBe(frames.length);
    }
  });

  it('reports the header byte and the body bounds of each frame', () => {
    const seen = [];
    new raw.FrameSplitter((header, buf, start, end) => seen.push([header >> 4, end - start])).push(stream);
    expect(seen).toEqual([
      [raw.PUBLISH, frames[0].length - 2],
      [raw.PUBLISH, frames[1].length - 3],
      [raw.PUBACK, frames[2].length - 2],
      [raw.PINGRESP, 0],
      [raw.PUBLISH, frames[4].length - 4],
      [raw.DISCONNECT, frames[5].length - 2],
    ]);
  });
});
