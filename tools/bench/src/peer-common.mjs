// Pieces shared by the helper processes (minimal peer, mosquitto subscriber and publisher):
// counting and checking received PUBLISH frames, blasting pre-encoded PUBLISH frames with
// backpressure, and the IPC conversation with the cell that started them.
import { PUBLISH, bytesEqual, encodePublish, readVarint, u16 } from './mqtt-raw.mjs';

/** Counts PUBLISH frames and checks topic, QoS and payload length of each. */
export class PublishCounter {
  constructor({ topic, payloadLength, qos }) {
    this.topic = Buffer.from(topic, 'utf8');
    this.payloadLength = payloadLength;
    this.qos = qos;
    this.count = 0;
    this.bad = 0;
    this.firstBad = null;
  }

  /** Counts one PUBLISH; returns its packet id for QoS > 0, else -1. */
  onPublish(header, buf, start, end) {
    this.count++;
    const qos = (header >> 1) & 3;
    let off = start;
    const topicLength = u16(buf, off);
    off += 2;
    const topicOk = topicLength === this.topic.length && bytesEqual(buf, off, this.topic);
    off += topicLength;
    let packetId = -1;
    if (qos > 0) {
      packetId = u16(buf, off);
      off += 2;
    }
    if (buf[off] === 0) off += 1;
    else {
      const v = readVarint(buf, off, end);
      off = v === null ? end + 1 : v[1] + v[0];
    }
    const payloadLength = end - off;
    if (!topicOk || qos !== this.qos || payloadLength !== this.payloadLength) {
      this.bad++;
      if (this.firstBad === null) {
        this.firstBad = {
          topic: buf.toString('utf8', start + 2, start + 2 + topicLength),
          qos,
          payloadLength,
        };
      }
    }
    return packetId;
  }

  stats() {
    return { count: this.count, bad: this.bad, firstBad: this.firstBad };
  }
}

/** Writes pre-encoded QoS 0 PUBLISH frames to a socket, respecting backpressure. */
export class Blaster {
  constructor({ topic, payloadLength, chunkBytes = 256 * 1024 }) {
    const frame = encodePublish(topic, Buffer.alloc(payloadLength, 0x78), 0);
    this.frameLength = frame.length;
    this.framesPerChunk = Math.max(1, Math.floor(chunkBytes / frame.length));
    this.chunk = Buffer.allocUnsafe(this.framesPerChunk * frame.length);
    for (let i = 0; i < this.framesPerChunk; i++) frame.copy(this.chunk, i * frame.length);
  }

  /** Writes `n` frames to `socket`; `done(err)` once all are handed to the socket. */
  blast(socket, n, done) {
    let left = n;
    const pump = () => {
      while (left > 0) {
        if (socket.destroyed) {
          done(new Error(`socket closed with ${left} frames unsent`));
          return;
        }
        const k = Math.min(left, this.framesPerChunk);
        const ok = socket.write(k === this.framesPerChunk ? this.chunk : this.chunk.subarray(0, k * this.frameLength));
        left -= k;
        if (!ok) {
          socket.once('drain', pump);
          return;
        }
      }
      done(null);
    };
    pump();
  }
}

export { PUBLISH };

/**
 * Child side of the IPC conversation. Exits when the parent goes away (so a killed cell never
 * leaves helpers behind) and answers `target` and `stats` requests from a counter.
 */
export function serveIpc({ counter, onMessage }) {
  process.on('disconnect', () => process.exit(0));
  let target = null;
  const send = (msg) => {
    if (process.connected) process.send(msg);
  };
  process.on('message', (msg) => {
    switch (msg.type) {
      case 'target':
        target = msg;
        check();
        break;
      case 'stats':
        send({ type: 'stats', id: msg.id, cpuUs: cpuMicros(), ...(counter ? counter.stats() : {}) });
        break;
      case 'exit':
        process.exit(0);
        break;
      default:
        onMessage?.(msg, send);
    }
  });
  // Called by the owner after each processed chunk: reports once the target count is reached.
  function check() {
    if (target !== null && counter.count >= target.count) {
      send({ type: 'reached', id: target.id, ...counter.stats() });
      target = null;
    }
  }
  return { send, check };
}

/** CPU time (user + system, µs) this process has used: lets the cell see whether a peer was saturated. */
function cpuMicros() {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Parses `--name value` pairs of a helper's argv into an object (values JSON-parsed when possible). */
export function helperArgs(argv = process.argv.slice(2)) {
  const out = {};
  for (let i = 0; i + 1 < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    const raw = argv[i + 1];
    try {
      out[key] = JSON.parse(raw);
    } catch {
      out[key] = raw;
    }
  }
  return out;
}
