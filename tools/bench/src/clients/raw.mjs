// The raw-socket client: hand-encoded MQTT 5 on a net.Socket, the ceiling of what a Node client
// can do. Publishes queued in one tick go out in one write; QoS 0 completes once written, QoS 1
// on its PUBACK. Keep alive is honoured (PINGREQ on an unref'd timer) so idle-memory compares like
// with like; no reconnect, no validation, no properties.
import net from 'node:net';
import {
  CONNACK,
  DISCONNECT,
  DISCONNECT_FRAME,
  PINGREQ_FRAME,
  PUBACK,
  PUBLISH,
  SUBACK,
  FrameSplitter,
  encodeConnect,
  encodeSubscribe,
  publishFrameLength,
  readVarint,
  u16,
  writePublish,
} from '../mqtt-raw.mjs';

export const name = 'raw';
export const label = 'raw socket';

export async function load() {}

class RawClient {
  constructor({ host, port, clientId, keepAlive, onMessage }) {
    this.host = host;
    this.port = port;
    this.clientId = clientId;
    this.keepAlive = keepAlive;
    this.onMessage = onMessage;
    this.socket = null;
    this.splitter = new FrameSplitter((h, buf, s, e) => this.onFrame(h, buf, s, e));
    this.pendingConnect = null;
    this.pendingSubs = new Map();
    this.acks = null; // QoS 1 callbacks by packet id (65536 slots, allocated on first use)
    this.nextPacketId = 1;
    this.queue = []; // [topicBytes, payload, qos, packetId, cb] × n, flattened
    this.queueBytes = 0;
    this.flushScheduled = false;
    this.flush = () => this.flushQueue();
    this.pingTimer = null;
    this.closed = false;
  }

  connect() {
    return new Promise((resolve, reject) => {
      this.pendingConnect = { resolve, reject };
      const socket = net.connect({ host: this.host, port: this.port, noDelay: true });
      this.socket = socket;
      socket.on('connect', () => socket.write(encodeConnect({ clientId: this.clientId, keepAlive: this.keepAlive })));
      socket.on('data', (chunk) => this.splitter.push(chunk));
      socket.on('error', (err) => this.onClose(err));
      socket.on('close', () => this.onClose(new Error('connection closed')));
    });
  }

  onClose(err) {
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
    if (this.closed) return;
    this.closed = true;
    if (this.pendingConnect) this.pendingConnect.reject(err);
    this.pendingConnect = null;
    for (const p of this.pendingSubs.values()) p.reject(err);
    this.pendingSubs.clear();
    for (let i = 0; this.acks !== null && i < this.acks.length; i++) {
      const cb = this.acks[i];
      if (cb !== null) {
        this.acks[i] = null;
        cb(err);
      }
    }
  }

  onFrame(header, buf, start, end) {
    switch (header >> 4) {
      case PUBLISH: {
        const qos = (header >> 1) & 3;
        let off = start;
        const topicLength = u16(buf, off);
        const topic = buf.toString('utf8', off + 2, off + 2 + topicLength);
        off += 2 + topicLength;
        if (qos > 0) off += 2;
        if (buf[off] === 0) off += 1;
        else {
          const v = readVarint(buf, off, end);
          off = v[1] + v[0];
        }
        this.onMessage(topic, buf.subarray(off, end), qos);
        break;
      }
      case PUBACK: {
        const id = u16(buf, start);
        const cb = this.acks === null ? undefined : this.acks[id];
        if (cb !== null && cb !== undefined) {
          this.acks[id] = null;
          const reason = end - start > 2 ? buf[start + 2] : 0;
          cb(reason < 0x80 ? null : new Error(`PUBACK reason ${reason}`));
        }
        break;
      }
      case CONNACK: {
        const p = this.pendingConnect;
        this.pendingConnect = null;
        if (buf[start + 1] !== 0) p?.reject(new Error(`CONNACK reason ${buf[start + 1]}`));
        else {
          if (this.keepAlive > 0) {
            this.pingTimer = setInterval(() => this.socket.write(PINGREQ_FRAME), this.keepAlive * 1000);
            this.pingTimer.unref();
          }
          p?.resolve();
        }
        break;
      }
      case SUBACK: {
        const id = u16(buf, start);
        const p = this.pendingSubs.get(id);
        this.pendingSubs.delete(id);
        if (buf[end - 1] >= 0x80) p?.reject(new Error(`SUBACK reason ${buf[end - 1]}`));
        else p?.resolve();
        break;
      }
      case DISCONNECT:
        this.onClose(new Error(`DISCONNECT reason ${end > start ? buf[start] : 0}`));
        this.socket.destroy();
        break;
      default:
        break;
    }
  }

  allocPacketId() {
    for (let i = 0; i < 65_535; i++) {
      const id = this.nextPacketId;
      this.nextPacketId = id === 65_535 ? 1 : id + 1;
      if ((this.acks === null || this.acks[id] === null) && !this.pendingSubs.has(id)) return id;
    }
    throw new Error('no free packet id');
  }

  subscribe(topic, qos) {
    return new Promise((resolve, reject) => {
      const id = this.allocPacketId();
      this.pendingSubs.set(id, { resolve, reject });
      this.socket.write(encodeSubscribe(id, topic, qos));
    });
  }

  /** Queues one PUBLISH for this tick's write; `cb(err)` when written (QoS 0) or acknowledged (QoS 1). */
  publish(topicBytes, payload, qos, cb) {
    if (this.closed) {
      cb(new Error('client closed'));
      return;
    }
    let packetId = 0;
    if (qos > 0) {
      this.acks ??= new Array(65_536).fill(null);
      packetId = this.allocPacketId();
      this.acks[packetId] = cb;
    }
    this.queue.push(topicBytes, payload, qos, packetId, cb);
    this.queueBytes += publishFrameLength(topicBytes.length, payload.length, qos);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      process.nextTick(this.flush);
    }
  }

  flushQueue() {
    this.flushScheduled = false;
    const q = this.queue;
    this.queue = [];
    const out = Buffer.allocUnsafe(this.queueBytes);
    this.queueBytes = 0;
    let off = 0;
    for (let i = 0; i < q.length; i += 5) off = writePublish(out, off, q[i], q[i + 1], q[i + 2], q[i + 3]);
    this.socket.write(out);
    for (let i = 0; i < q.length; i += 5) if (q[i + 2] === 0) q[i + 4](null);
  }

  close() {
    return new Promise((resolve) => {
      if (this.pingTimer) clearInterval(this.pingTimer);
      const s = this.socket;
      if (s === null || s.destroyed) return resolve();
      s.once('close', () => resolve());
      s.end(DISCONNECT_FRAME);
      setTimeout(() => s.destroy(), 2000).unref();
    });
  }
}

export function createClient(options) {
  const client = new RawClient(options);
  const topicCache = new Map();
  const topicBytes = (t) => {
    let b = topicCache.get(t);
    if (b === undefined) topicCache.set(t, (b = Buffer.from(t, 'utf8')));
    return b;
  };
  return {
    connect: () => client.connect(),
    subscribe: (topic, qos) => client.subscribe(topic, qos),
    makePublisher(topic, payload, qos, done) {
      const t = topicBytes(topic);
      return () => client.publish(t, payload, qos, done);
    },
    close: () => client.close(),
  };
}
