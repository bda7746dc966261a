#!/usr/bin/env node
// Micro-benchmark of @mqtt5/codec against plain mqtt-packet on the same packets, in the same run.
//
//   pnpm --filter @mqtt5/codec bench            (builds dist/ first)
//   node bench/codec-bench.mjs [--runs 5] [--ms 300] [--json]
//
// Each case runs `runs` rounds; a round times as many iterations as fit in about `ms` milliseconds
// after a warm-up. The table shows the median packets/s of the rounds.
import { cpus } from 'node:os';
import mqttPacket from 'mqtt-packet';
import { Decoder, encode, encodedSize, encodeInto } from '../dist/index.js';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(args[i + 1]);
};
const RUNS = option('runs', 5);
const ROUND_MS = option('ms', 300);
const JSON_OUTPUT = args.includes('--json');
const V5 = { protocolVersion: 5 };

// ---------------------------------------------------------------------------------------------
// The packets (as in ../../shared/reference/mqttjs-and-mqtt-packet.md §2.7)
const TOPIC = 'sensors/device-0001/telemetry';
const PAYLOAD = Buffer.alloc(100, 0x61);
const ours = {
  publish: { type: 3, topicName: TOPIC, payload: PAYLOAD, qos: 1, packetId: 1 },
  publishProps: {
    type: 3,
    topicName: TOPIC,
    payload: PAYLOAD,
    qos: 1,
    packetId: 1,
    messageExpiryIntervalSeconds: 3600,
    contentType: 'application/json',
    userProperties: [{ name: 'trace-id', value: '0af7651916cd43dd' }],
  },
  puback: { type: 4, packetId: 1, reasonCode: 0 },
};
const theirs = {
  publish: { cmd: 'publish', topic: TOPIC, payload: PAYLOAD, qos: 1, messageId: 1, dup: false, retain: false },
  publishProps: {
    cmd: 'publish',
    topic: TOPIC,
    payload: PAYLOAD,
    qos: 1,
    messageId: 1,
    dup: false,
    retain: false,
    properties: {
      messageExpiryInterval: 3600,
      userProperties: { 'trace-id': '0af7651916cd43dd' },
      contentType: 'application/json',
    },
  },
  puback: { cmd: 'puback', messageId: 1, reasonCode: 0 },
};

// Both encoders must produce the same bytes, or the comparison is meaningless.
for (const key of Object.keys(ours)) {
  const a = encode(ours[key]);
  const b = mqttPacket.generate(theirs[key], V5);
  if (!a.equals(b))
    throw new Error(`${key}: encodings differ\n ours   ${a.toString('hex')}\n theirs ${b.toString('hex')}`);
}

// ---------------------------------------------------------------------------------------------
// Timing
function round(fn, batch) {
  let iterations = 0;
  const deadline = process.hrtime.bigint() + BigInt(ROUND_MS) * 1_000_000n;
  const start = process.hrtime.bigint();
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < batch; i++) fn(i);
    iterations += batch;
    now = process.hrtime.bigint();
  }
  return (iterations * 1e9) / Number(now - start);
}
function measure(fn, { batch = 1000, perCall = 1 } = {}) {
  round(fn, batch); // warm-up
  const rates = [];
  for (let r = 0; r < RUNS; r++) rates.push(round(fn, batch) * perCall);
  rates.sort((x, y) => x - y);
  return rates[Math.floor(rates.length / 2)];
}

let sink = 0;
const results = [];
function compare(name, oursFn, theirsFn, opts) {
  const a = measure(oursFn, opts);
  const b = measure(theirsFn, opts);
  results.push({ name, ours: a, mqttPacket: b, ratio: a / b });
}

// ---------------------------------------------------------------------------------------------
// Encode
for (const key of ['publish', 'publishProps', 'puback']) {
  const packet = ours[key];
  const other = theirs[key];
  compare(
    `encode ${label(key)}`,
    (i) => {
      packet.packetId = (i & 0xfffe) + 1;
      sink += encode(packet).length;
    },
    (i) => {
      other.messageId = (i & 0xfffe) + 1;
      sink += mqttPacket.generate(other, V5).length;
    },
  );
}

// encodeInto: measure + write into a reused batch buffer (the client's batching path); mqtt-packet
// has no equivalent, so it is set against generate() + copy.
{
  const packet = ours.publish;
  const target = Buffer.allocUnsafe(64 * 1024);
  let offset = 0;
  compare(
    'encodeInto QoS 1 PUBLISH, 100 B (batch buffer)',
    (i) => {
      packet.packetId = (i & 0xfffe) + 1;
      if (offset + 200 > target.length) offset = 0;
      offset = encodeInto(packet, target, offset);
    },
    (i) => {
      theirs.publish.messageId = (i & 0xfffe) + 1;
      const b = mqttPacket.generate(theirs.publish, V5);
      if (offset + 200 > target.length) offset = 0;
      offset += b.copy(target, offset);
    },
  );
  compare(
    'encodedSize QoS 1 PUBLISH, 100 B, 3 props',
    () => {
      sink += encodedSize(ours.publishProps);
    },
    () => {
      sink += mqttPacket.generate(theirs.publishProps, V5).length;
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Decode, one frame per call
for (const key of ['publish', 'publishProps', 'puback']) {
  const frames = [];
  for (let i = 0; i < 64; i++) {
    ours[key].packetId = i + 1;
    frames.push(encode(ours[key]));
  }
  ours[key].packetId = 1;
  const decoder = new Decoder({
    onPacket: (p) => {
      sink += p.type;
    },
  });
  const parser = mqttPacket.parser(V5);
  parser.on('packet', (p) => {
    sink += p.length;
  });
  parser.on('error', (e) => {
    throw e;
  });
  compare(
    `decode ${label(key)}`,
    (i) => decoder.feed(frames[i & 63]),
    (i) => parser.parse(frames[i & 63]),
  );
}

// ---------------------------------------------------------------------------------------------
// Decode a stream: 20 000 back-to-back QoS 1 PUBLISH frames cut into 64 KiB chunks (frames split
// across chunk boundaries), fed in order. Rate = packets per second.
for (const key of ['publish', 'publishProps']) {
  const COUNT = 20_000;
  const frames = [];
  for (let i = 0; i < COUNT; i++) {
    ours[key].packetId = (i % 65535) + 1;
    frames.push(encode(ours[key]));
  }
  ours[key].packetId = 1;
  const stream = Buffer.concat(frames);
  const chunks = [];
  for (let o = 0; o < stream.length; o += 65536) chunks.push(stream.subarray(o, o + 65536));
  let got = 0;
  const decoder = new Decoder({
    onPacket: () => {
      got++;
    },
  });
  const parser = mqttPacket.parser(V5);
  parser.on('packet', () => {
    got++;
  });
  compare(
    `decode stream, 64 KiB chunks, ${label(key)}`,
    () => {
      for (const c of chunks) decoder.feed(c);
    },
    () => {
      for (const c of chunks) parser.parse(c);
    },
    { batch: 1, perCall: COUNT },
  );
  if (got === 0) throw new Error('nothing decoded');
}

function label(key) {
  return { publish: 'QoS 1 PUBLISH, 100 B', publishProps: 'QoS 1 PUBLISH, 100 B, 3 props', puback: 'PUBACK' }[key];
}

// ---------------------------------------------------------------------------------------------
const cpu = cpus()[0]?.model ?? 'unknown CPU';
if (JSON_OUTPUT) {
  console.log(JSON.stringify({ node: process.version, cpu, cores: cpus().length, runs: RUNS, results }, null, 2));
} else {
  const fmt = (n) => Math.round(n).toLocaleString('en-US');
  console.log(
    `node ${process.version}, ${cpu} (${cpus().length} cores), median of ${RUNS} rounds of ~${ROUND_MS} ms\n`,
  );
  console.log('| case | @mqtt5/codec (packets/s) | mqtt-packet (packets/s) | ratio |');
  console.log('|---|---:|---:|---:|');
  for (const r of results)
    console.log(`| ${r.name} | ${fmt(r.ours)} | ${fmt(r.mqttPacket)} | ${r.ratio.toFixed(2)}× |`);
}
if (sink === 0.5) console.log(sink);
