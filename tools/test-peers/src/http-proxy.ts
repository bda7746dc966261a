import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { getTestCertificates } from './certs.js';
import { LOOPBACK } from './ports.js';

/** One CONNECT request the proxy saw. */
export interface ConnectRequestRecord {
  /** The request target, e.g. `127.0.0.1:1883`. */
  target: string;
  /** Whether the credentials were accepted (always `true` without `auth`). */
  authorized: boolean;
  /** The status the proxy answered with (200 on success). */
  status: number;
  /** The request headers (lower-case names). */
  headers: http.IncomingHttpHeaders;
}

/** Options of {@link startHttpConnectProxy}. */
export interface HttpConnectProxyOptions {
  /** Require `Proxy-Authorization: Basic …` with these credentials (missing or wrong → 407). */
  auth?: { username: string; password: string };
  /**
   * Serve the proxy itself over TLS (an "HTTPS proxy"). `true` uses the test PKI server cert
   * (valid for localhost / 127.0.0.1); otherwise PEM text or file paths.
   */
  tls?: true | { cert: string; key: string };
  /** Return a status (e.g. 403, 502) to refuse a target, `undefined` to allow it. */
  refuseTargets?: (target: string) => number | undefined;
  /** HTTP version of the status line (default `1.1`; tinyproxy answers 200/407 with `1.0`). */
  httpVersion?: '1.0' | '1.1';
}

/** A running HTTP CONNECT proxy fixture (node:http). */
export interface HttpConnectProxy {
  /** Listening port. */
  readonly port: number;
  /** Always 127.0.0.1. */
  readonly host: '127.0.0.1';
  /** Whether clients must speak TLS to the proxy. */
  readonly tls: boolean;
  /** The credentials it requires, if any. */
  readonly auth?: { username: string; password: string };
  /** Every CONNECT request, in order. */
  readonly connectRequests: ConnectRequestRecord[];
  /** Live tunnels. */
  readonly tunnels: number;
  /** Close every live tunnel (both sides). */
  dropAll(): void;
  /** Close the listener and every connection. Idempotent. */
  stop(): Promise<void>;
}

const REASONS: Record<number, string> = {
  200: 'Connection established',
  400: 'Bad Request',
  403: 'Forbidden',
  405: 'Method Not Allowed',
  407: 'Proxy Authentication Required',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

function pem(value: string): string {
  return value.includes('-----BEGIN') ? value : fs.readFileSync(value, 'utf8');
}

/** Parses `host:port` / `[v6]:port`; undefined when malformed. */
function parseTarget(target: string): { host: string; port: number } | undefined {
  const m = /^(\[[^\]]+\]|[^:[\]]+):(\d{1,5})$/.exec(target);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  const host = (m[1] as string).replace(/^\[|\]$/g, '');
  return { host, port };
}

class Proxy implements HttpConnectProxy {
  readonly host = LOOPBACK;
  port = 0;
  readonly tls: boolean;
  readonly auth?: { username: string; password: string };
  readonly connectRequests: ConnectRequestRecord[] = [];
  readonly #options: HttpConnectProxyOptions;
  readonly #sockets = new Set<Duplex>();
  readonly #tunnels = new Set<{ a: Duplex; b: net.Socket }>();
  #server: http.Server | undefined;
  #stopped = false;

  constructor(options: HttpConnectProxyOptions) {
    this.#options = options;
    this.tls = options.tls !== undefined;
    if (options.auth) this.auth = { ...options.auth };
  }

  get tunnels(): number {
    return this.#tunnels.size;
  }

  async listen(): Promise<void> {
    let server: http.Server;
    const t = this.#options.tls;
    if (t) {
      const creds =
        t === true ? await getTestCertificates().then((c) => ({ cert: c.serverCert, key: c.serverKey })) : t;
      server = https.createServer({ cert: pem(creds.cert), key: pem(creds.key) });
      server.on('tlsClientError', () => undefined);
    } else {
      server = http.createServer();
    }
    server.on('connection', (s: net.Socket) => {
      this.#sockets.add(s);
      s.once('close', () => this.#sockets.delete(s));
    });
    server.on('clientError', (_err, socket: Duplex) => socket.destroy());
    server.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
      res.writeHead(405, { 'content-type': 'text/plain', connection: 'close' });
      res.end('CONNECT only\n');
    });
    server.on('connect', (req: http.IncomingMessage, socket: Duplex, head: Buffer) =>
      this.#onConnect(req, socket, head),
    );
    server.on('error', () => undefined);
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, LOOPBACK, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as net.AddressInfo).port;
  }

  #respond(socket: Duplex, status: number, headers: Record<string, string> = {}): void {
    const v = this.#options.httpVersion ?? '1.1';
    const lines = [`HTTP/${v} ${status} ${REASONS[status] ?? 'Error'}`];
    for (const [k, val] of Object.entries(headers)) lines.push(`${k}: ${val}`);
    if (status !== 200) lines.push('Content-Length: 0', 'Connection: close');
    socket.write(lines.join('\r\n') + '\r\n\r\n');
    if (status !== 200) socket.end();
  }

  #authorized(req: http.IncomingMessage): boolean {
    const auth = this.#options.auth;
    if (!auth) return true;
    const header = req.headers['proxy-authorization'];
    if (typeof header !== 'string') return false;
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (!m) return false;
    return Buffer.from(m[1] as string, 'base64').toString('utf8') === `${auth.username}:${auth.password}`;
  }

  #onConnect(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    const target = req.url ?? '';
    const record: ConnectRequestRecord = { target, authorized: this.#authorized(req), status: 0, headers: req.headers };
    this.connectRequests.push(record);
    const answer = (status: number, headers?: Record<string, string>): void => {
      record.status = status;
      this.#respond(socket, status, headers);
    };
    if (!record.authorized) {
      answer(407, { 'Proxy-Authenticate': 'Basic realm="mqtt5-test-proxy"' });
      return;
    }
    const parsed = parseTarget(target);
    if (!parsed) {
      answer(400);
      return;
    }
    // Loopback only: this fixture must never reach the outside network.
    if (!LOOPBACK_HOSTS.has(parsed.host)) {
      answer(403);
      return;
    }
    const refused = this.#options.refuseTargets?.(target);
    if (refused !== undefined) {
      answer(refused);
      return;
    }
    const upstream = net.connect({ host: parsed.host === 'localhost' ? LOOPBACK : parsed.host, port: parsed.port });
    upstream.setNoDelay(true);
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      if (socket.destroyed) {
        upstream.destroy();
        return;
      }
      answer(200);
      const tunnel = { a: socket, b: upstream };
      this.#tunnels.add(tunnel);
      const close = (): void => {
        this.#tunnels.delete(tunnel);
        socket.destroy();
        upstream.destroy();
      };
      socket.once('close', close);
      upstream.once('close', close);
      if (head.length > 0) upstream.write(head);
      socket.pipe(upstream);
      upstream.pipe(socket);
    });
    upstream.on('error', () => {
      if (!connected) answer(502);
      else socket.destroy();
    });
  }

  dropAll(): void {
    for (const t of [...this.#tunnels]) {
      t.a.destroy();
      t.b.destroy();
    }
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.dropAll();
    for (const s of this.#sockets) s.destroy();
    const server = this.#server;
    if (server) {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    }
  }
}

/**
 * Starts an HTTP CONNECT proxy on a free port of 127.0.0.1 (optionally over TLS, optionally with
 * Basic auth). Answers: 200 and a tunnel; 407 + `Proxy-Authenticate` for missing or wrong
 * credentials; 502 when the target does not accept the connection; 403 for a non-loopback target
 * or whatever `refuseTargets` returns; 400 for a malformed target; 405 for non-CONNECT requests.
 */
export async function startHttpConnectProxy(options: HttpConnectProxyOptions = {}): Promise<HttpConnectProxy> {
  const proxy = new Proxy(options);
  await proxy.listen();
  return proxy;
}
