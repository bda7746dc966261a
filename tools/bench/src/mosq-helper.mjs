// Helper process for the scenarios that run through mosquitto (raw sockets, no client library):
//   --role sub   subscribes to the topic at QoS 0 and counts/checks what mosquitto delivers
//                (verifies the publish scenarios: exactly N delivered);
//   --role pub   on `blast`, publishes N pre-encoded QoS 0 frames (feeds recv-qos0).
// Reports `ready` over IPC once connected (and subscribed); exits when its parent goes away.
import net from 'node:net';
import {
  CONNACK,
  DISCONNECT,
  PUBLISH,
  SUBACK,
  FrameSplitter,
  encodeConnect,
  encodeSubscribe,
} from './mqtt-raw.mjs';
import { Blaster, PublishCounter, helperArgs, serveIpc } from './peer-common.mjs';

const args = helperArgs();
const role = args.role;
const counter = role === 'sub' ? new PublishCounter({ topic: args.topic, payloadLength: args.payloadLength, qos: 0 }) : null;
const blaster = role === 'pub' ? new Blaster({ topic: args.topic, payloadLength: args.payloadLength }) : null;
let socket;

const ipc = serveIpc({
  counter,
  onMessage(msg, send) {
    if (msg.type === 'blast' && blaster) {
      blaster.blast(socket, msg.n, (err) =>
        send(err ? { type: 'error', id: msg.id, message: err.message } : { type: 'sent', id: msg.id, n: msg.n }),
      );
    }
  },
});

function fail(message) {
  ipc.send({ type: 'error', message });
  setTimeout(() => process.exit(1), 50);
}

socket = net.connect({ host: '127.0.0.1', port: args.port, noDelay: true });
const splitter = new FrameSplitter((header, buf, start, end) => {
  switch (header >> 4) {
    case PUBLISH:
      if (counter) counter.onPublish(header, buf, start, end);
      break;
    case CONNACK:
      if (buf[start + 1] !== 0) return fail(`CONNACK reason ${buf[start + 1]}`);
      if (role === 'sub') socket.write(encodeSubscribe(1, args.topic, 0));
      else ipc.send({ type: 'ready', pid: process.pid });
      break;
    case SUBACK:
      if (buf[end - 1] > 2) return fail(`SUBACK reason ${buf[end - 1]}`);
      ipc.send({ type: 'ready', pid: process.pid });
      break;
    case DISCONNECT:
      fail(`DISCONNECT from broker, reason ${buf[start] ?? 0}`);
      break;
    default:
      break;
  }
});
socket.on('connect', () => {
  socket.write(encodeConnect({ clientId: `bench-${role}-${process.pid}`, keepAlive: 0 }));
});
socket.on('data', (chunk) => {
  splitter.push(chunk);
  ipc.check();
});
socket.on('error', (err) => fail(`socket: ${err.message}`));
socket.on('close', () => fail('connection closed by broker'));
