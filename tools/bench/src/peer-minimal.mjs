// The minimal MQTT 5 peer: a separate process that does almost nothing, so that the client under
// test is the bottleneck. Listens on 127.0.0.1:0 and reports its port over IPC; answers CONNACK
// (Receive Maximum 65535), SUBACK, UNSUBACK, PUBACK (coalesced: one write per event loop turn) and
// PINGRESP; counts and checks every PUBLISH it receives; on `blast` writes N pre-encoded QoS 0
// PUBLISH frames to the last subscribed connection.
//
// Started by cell.mjs: node peer-minimal.mjs --topic bench/t --payloadLength 64 --qos 1
import net from 'node:net';
import {
  CONNECT,
  DISCONNECT,
  PINGREQ,
  PINGRESP_FRAME,
  PUBLISH,
  SUBSCRIBE,
  UNSUBSCRIBE,
  UNSUBACK,
  FrameSplitter,
  encodeConnack,
  encodeSuback,
  u16,
} from './mqtt-raw.mjs';
import { Blaster, PublishCounter, helperArgs, serveIpc } from './peer-common.mjs';

const args = helperArgs();
const counter = new PublishCounter({ topic: args.topic, payloadLength: args.payloadLength, qos: args.qos });
const blaster = new Blaster({ topic: args.topic, payloadLength: args.payloadLength });
const CONNACK_FRAME = encodeConnack({ receiveMaximum: 65_535 });
let subscriber = null;
let connections = 0;
const sockets = new Set();

const ipc = serveIpc({
  counter,
  onMessage(msg, send) {
    if (msg.type === 'blast') {
      if (subscriber === null || subscriber.destroyed) {
        send({ type: 'error', id: msg.id, message: 'blast: no subscribed connection' });
        return;
      }
      blaster.blast(subscriber, msg.n, (err) =>
        send(err ? { type: 'error', id: msg.id, message: err.message } : { type: 'sent', id: msg.id, n: msg.n }),
      );
    } else if (msg.type === 'connections') {
      send({ type: 'connections', id: msg.id, total: connections, open: sockets.size });
    }
  },
});

function subackFor(buf, start, end) {
  const packetId = u16(buf, start);
  let off = start + 2;
  off += 1 + buf[off]; // properties (always short here)
  const granted = [];
  while (off + 2 < end) {
    const len = u16(buf, off);
    off += 2 + len;
    granted.push(buf[off] & 3);
    off += 1;
  }
  return encodeSuback(packetId, granted);
}

const server = net.createServer({ noDelay: true }, (socket) => {
  connections++;
  sockets.add(socket);
  let acks = [];
  let ackScheduled = false;
  // PUBACKs are coalesced: one write for everything read in one event loop iteration
  const flushAcks = () => {
    ackScheduled = false;
    const out = Buffer.allocUnsafe(acks.length * 4);
    for (let i = 0, o = 0; i < acks.length; i++, o += 4) {
      const id = acks[i];
      out[o] = 0x40;
      out[o + 1] = 2;
      out[o + 2] = id >> 8;
      out[o + 3] = id & 0xff;
    }
    acks = [];
    if (!socket.destroyed) socket.write(out);
  };
  const splitter = new FrameSplitter((header, buf, start, end) => {
    switch (header >> 4) {
      case PUBLISH: {
        const packetId = counter.onPublish(header, buf, start, end);
        if (packetId >= 0) acks.push(packetId);
        break;
      }
      case CONNECT:
        socket.write(CONNACK_FRAME);
        break;
      case SUBSCRIBE:
        socket.write(subackFor(buf, start, end));
        subscriber = socket;
        break;
      case UNSUBSCRIBE: {
        const packetId = u16(buf, start);
        socket.write(Buffer.from([UNSUBACK << 4, 4, packetId >> 8, packetId & 0xff, 0, 0]));
        break;
      }
      case PINGREQ:
        socket.write(PINGRESP_FRAME);
        break;
      case DISCONNECT:
        socket.end();
        break;
      default:
        break;
    }
  });
  socket.on('data', (chunk) => {
    splitter.push(chunk);
    if (acks.length > 0 && !ackScheduled) {
      ackScheduled = true;
      setImmediate(flushAcks);
    }
    ipc.check();
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    sockets.delete(socket);
    if (subscriber === socket) subscriber = null;
  });
});
server.maxConnections = 20_000;
server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => {
  ipc.send({ type: 'ready', port: server.address().port, pid: process.pid });
});
server.on('error', (err) => {
  ipc.send({ type: 'error', message: `listen: ${err.message}` });
  process.exit(1);
});
