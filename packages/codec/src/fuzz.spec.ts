// Property-based fuzzing of the decoder: random and mutated bytes, fed in random chunks, must only
// ever yield packets or an AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR Mqtt5Error (never another
// exception, never a hang, never more buffered than the maximum packet size), and every packet it
// yields must be a valid packet (it re-encodes to itself).
import fc from 'fast-check';
import * as arb from '../test/support/arbitraries.js';
import { Decoder, decodePacket } from './decoder.js';
import { encode } from './encoder.js';
import { Mqtt5Error } from './errors.js';
import type { Packet } from './packets.js';

const MAX = 4096;

interface Outcome {
  packets: Packet[];
  error?: Mqtt5Error;
}

/** Feeds `bytes` cut at `cuts`; checks the decoder's contract on the way. */
function run(bytes: Uint8Array, cuts: number[]): Outcome {
  const packets: Packet[] = [];
  let failed = false;
  const decoder = new Decoder({
    maximumPacketSize: MAX,
    onPacket: (p) => {
      if (failed) throw new Error('a packet was emitted after an error');
      packets.push(p);
    },
  });
  let pos = 0;
  const chunks: Uint8Array[] = [];
  for (const cut of cuts) {
    const next = Math.min(bytes.length, pos + cut);
    chunks.push(bytes.subarray(pos, next));
    pos = next;
  }
  chunks.push(bytes.subarray(pos));
  for (const chunk of chunks) {
    try {
      decoder.feed(chunk);
    } catch (e) {
      if (!Mqtt5Error.isInstance(e)) throw new Error(`decoder threw a non-Mqtt5Error: ${String(e)}`);
      expect(e.code).toBe('AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR');
      expect([0x81, 0x82, 0x95]).toContain(e.reasonCode);
      expect(e.message.length).toBeGreaterThan(10);
      failed = true;
      expect(() => decoder.feed(new Uint8Array([0xc0, 0]))).toThrow(e);
      return { packets, error: e };
    }
    expect(decoder.bufferedBytes).toBeLessThanOrEqual(MAX);
  }
  return { packets };
}

let yielded = 0;
let failures = 0;
function checkPackets(outcome: Outcome): void {
  yielded += outcome.packets.length;
  if (outcome.error !== undefined) failures++;
  for (const p of outcome.packets) expect(decodePacket(encode(p))).toEqual(p);
}

const cuts = fc.array(fc.nat(64), { maxLength: 8 });
// Uniform bytes, and bytes from an alphabet of header bytes, lengths, property ids and 0/1 values
// (which sometimes form packets).
const ALPHABET = [
  0x00, 0x01, 0x02, 0x03, 0x04, 0x7f, 0x80, 0xff, 0x20, 0x30, 0x32, 0x40, 0x62, 0x90, 0xb0, 0xc0, 0xd0, 0xe0, 0xf0,
  0x0b, 0x1f, 0x23, 0x26, 0x61,
];
const randomBytes = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.array(fc.constantFrom(...ALPHABET), { maxLength: 40 }).map((a) => Uint8Array.from(a)),
);

describe('decoder fuzzing', () => {
  beforeEach(() => {
    yielded = 0;
    failures = 0;
  });
  // Each property must exercise both outcomes, or it proves nothing.
  afterEach(() => {
    expect(yielded).toBeGreaterThan(0);
    expect(failures).toBeGreaterThan(0);
  });

  it('random bytes yield only packets or a decode error', () => {
    fc.assert(
      fc.property(randomBytes, cuts, (bytes, c) => {
        checkPackets(run(bytes, c));
      }),
      { numRuns: 1000 },
    );
  });

  it('random bodies behind a valid first byte and a consistent remaining length', () => {
    const frame = fc
      .tuple(fc.integer({ min: 1, max: 15 }), fc.nat(15), fc.uint8Array({ maxLength: 200 }))
      .map(([type, flags, body]) => {
        const first = (type << 4) | (type === 3 ? flags & 0x0b : type === 6 || type === 8 || type === 10 ? 2 : 0);
        const header =
          body.length < 128 ? [first, body.length] : [first, (body.length & 0x7f) | 0x80, body.length >> 7];
        return Buffer.concat([Buffer.from(header), body]);
      });
    fc.assert(
      fc.property(fc.array(frame, { minLength: 1, maxLength: 4 }), cuts, (frames, c) => {
        checkPackets(run(Buffer.concat(frames), c));
      }),
      { numRuns: 2000 },
    );
  });

  it('mutated streams of valid packets yield only packets or a decode error', () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.nat(255) }),
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
      fc.record({
        kind: fc.constant('insert' as const),
        at: fc.nat(),
        bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }),
      }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    );
    fc.assert(
      fc.property(
        fc.array(arb.packet(), { minLength: 1, maxLength: 4 }),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        cuts,
        (packets, mutations, c) => {
          let bytes = Buffer.concat(packets.map((p) => encode(p)));
          for (const m of mutations) {
            const at = m.at % (bytes.length + 1);
            if (m.kind === 'set' && at < bytes.length) bytes[at] = m.value;
            else if (m.kind === 'flip' && at < bytes.length) bytes[at] = (bytes[at] as number) ^ (1 << m.bit);
            else if (m.kind === 'insert') bytes = Buffer.concat([bytes.subarray(0, at), m.bytes, bytes.subarray(at)]);
            else if (m.kind === 'delete') bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.length)]);
            else if (m.kind === 'truncate') bytes = bytes.subarray(0, at);
          }
          checkPackets(run(bytes, c));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
