import net from 'node:net';
import { LOOPBACK } from './ports.js';

/** `up` = client → target, `down` = target → client. */
export type FaultDirection = 'up' | 'down' | 'both';

/** How {@link FaultProxy.refuse} turns new connections away. */
export type RefuseMode = 'unlisten' | 'rst' | 'fin';

/** Options of {@link FaultProxy.cutMidFrame}. */
export interface CutOptions {
  /**
   * Forward exactly this many more bytes in `dir`, then close both sides. Default: half of the next
   * chunk (at least 1 byte), which cuts an MQTT packet in two when the chunk holds one.
   */
  afterBytes?: number;
  /** Which direction is cut (default `down`: the client receives a partial frame). */
  dir?: FaultDirection;
}

/** A TCP relay with fault injection between a client and a broker (in-process). */
export interface FaultProxy {
  /** Port clients connect to. */
  readonly port: number;
  /** Always 127.0.0.1. */
  readonly host: '127.0.0.1';
  /** Where new connections are relayed to. */
  readonly target: { host: string; port: number };
  /** Live relayed connections. */
  readonly connections: number;
  /** Connections accepted so far (including refused ones). */
  readonly totalConnections: number;
  /** Bytes received from each side so far (`up` from clients, `down` from the target). */
  readonly bytes: { up: number; down: number };
  /** Close every live connection now, both sides: FIN, or TCP RST with `rst: true`. */
  drop(options?: { rst?: boolean }): void;
  /**
   * Refuse new connections (`on`) or accept them again. `unlisten` (default) closes the listening
   * socket so clients get ECONNREFUSED (re-listens on the same port when turned off); `rst` / `fin`
   * accept and close at once. Live connections are not touched.
   */
  refuse(on: boolean, options?: { mode?: RefuseMode }): Promise<void>;
  /** Stop forwarding (`on`) in `dir` (default both); bytes are held and flow again when turned off. */
  stall(on: boolean, dir?: FaultDirection): void;
  /** Delay every chunk in `dir` (default both) by `ms` (order kept); 0 turns it off. */
  delay(ms: number, dir?: FaultDirection): void;
  /** One shot: the next forwarded bytes in `dir` are cut (see {@link CutOptions}) and both sides closed. */
  cutMidFrame(options?: CutOptions): void;
  /** One shot: after `skip` more bytes in `dir` (default down), XOR the next byte with `xor` (default 0xff). */
  corrupt(options?: { dir?: 'up' | 'down'; skip?: number; xor?: number }): void;
  /** Relay new connections to another target (live ones keep theirs). */
  setTarget(target: { host?: string; port: number }): void;
  /** Resolves once `totalConnections >= n`; rejects after `timeoutMs` (default 5000). */
  waitForConnections(n: number, options?: { timeoutMs?: number }): Promise<void>;
  /** Clear every fault (held bytes flow again; refuse off). Live connections stay. */
  reset(): Promise<void>;
  /** Close the listener and every connection (RST). Idempotent. */
  stop(): Promise<void>;
}

const HIGH_WATER = 1 << 20;
type Dir = 'up' | 'down';

function dirs(d: FaultDirection = 'both'): Dir[] {
  if (d === 'both') return ['up', 'down'];
  if (d === 'up' || d === 'down') return [d];
  throw new RangeError(`dir must be up, down or both, not ${String(d)}`);
}

interface Faults {
  stall: Record<Dir, boolean>;
  delay: Record<Dir, number>;
  cut: { dirs: Dir[]; remaining: number | undefined } | undefined;
  corrupt: { dir: Dir; skip: number; xor: number } | undefined;
  refuse: RefuseMode | undefined;
}

function noFaults(): Faults {
  return {
    stall: { up: false, down: false },
    delay: { up: 0, down: 0 },
    cut: undefined,
    corrupt: undefined,
    refuse: undefined,
  };
}

interface Item {
  chunk: Buffer;
  at: number;
  cut: boolean;
}

class Pipe {
  queue: Item[] = [];
  held = 0;
  ended = false;
  #dstEnded = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly conn: Conn,
    readonly dir: Dir,
    readonly src: net.Socket,
    readonly dst: net.Socket,
  ) {
    src.on('data', (c: Buffer) => this.push(c));
    src.on('end', () => {
      this.ended = true;
      this.pump();
    });
  }

  push(input: Buffer): void {
    if (this.conn.closed || this.conn.cutting) return;
    const proxy = this.conn.proxy;
    const chunk = proxy.applyCorrupt(this.dir, input);
    proxy.stats[this.dir] += chunk.length;
    let cut = false;
    let out = chunk;
    const c = proxy.faults.cut;
    if (c && c.dirs.includes(this.dir)) {
      const n = c.remaining ?? Math.max(1, Math.floor(chunk.length / 2));
      if (n < chunk.length || c.remaining === undefined) {
        out = chunk.subarray(0, Math.min(n, chunk.length));
        cut = true;
        proxy.faults.cut = undefined;
      } else {
        c.remaining = n - chunk.length;
        if (c.remaining === 0) {
          cut = true;
          proxy.faults.cut = undefined;
        }
      }
    }
    this.queue.push({ chunk: out, at: Date.now() + proxy.faults.delay[this.dir], cut });
    this.held += out.length;
    if (cut) this.conn.cutting = true;
    if (this.held > HIGH_WATER && !this.src.isPaused()) this.src.pause();
    this.pump();
  }

  pump(): void {
    if (this.conn.closed || this.dst.destroyed) return;
    if (this.conn.proxy.faults.stall[this.dir]) return;
    while (this.queue.length > 0) {
      const item = this.queue[0] as Item;
      const wait = item.at - Date.now();
      if (wait > 0) {
        this.#timer ??= setTimeout(() => {
          this.#timer = undefined;
          this.pump();
        }, wait);
        return;
      }
      this.queue.shift();
      this.held -= item.chunk.length;
      this.dst.write(item.chunk);
      if (item.cut) {
        this.conn.cutNow(this);
        return;
      }
    }
    if (this.src.isPaused() && this.held < HIGH_WATER / 2) this.src.resume();
    if (this.ended && !this.#dstEnded) {
      this.#dstEnded = true;
      this.dst.end();
    }
  }

  dispose(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.queue = [];
    this.held = 0;
  }
}

class Conn {
  closed = false;
  cutting = false;
  readonly upstream: net.Socket;
  readonly pipes: { up: Pipe; down: Pipe };

  constructor(
    readonly proxy: FaultProxyImpl,
    readonly client: net.Socket,
    target: { host: string; port: number },
  ) {
    this.upstream = net.connect(target);
    this.upstream.setNoDelay(true);
    client.setNoDelay(true);
    this.pipes = {
      up: new Pipe(this, 'up', client, this.upstream),
      down: new Pipe(this, 'down', this.upstream, client),
    };
    client.on('error', () => this.close(false));
    this.upstream.on('error', () => this.close(false));
    client.on('close', () => this.#sideClosed(this.pipes.up));
    this.upstream.on('close', () => this.#sideClosed(this.pipes.down));
  }

  // A side closed normally: let what it sent (still held by a delay) reach the other side first.
  #sideClosed(fromClosedSide: Pipe): void {
    if (this.closed || this.cutting) return;
    if (fromClosedSide.ended && fromClosedSide.queue.length > 0 && !fromClosedSide.dst.destroyed) {
      setTimeout(() => this.close(false), 10_000).unref();
      return;
    }
    this.close(false);
  }

  pump(): void {
    if (this.closed) return;
    this.pipes.up.pump();
    this.pipes.down.pump();
  }

  /** The cut chunk was written to `pipe.dst`: FIN it after the flush, destroy the other side now. */
  cutNow(pipe: Pipe): void {
    this.closed = true;
    this.proxy.conns.delete(this);
    this.pipes.up.dispose();
    this.pipes.down.dispose();
    pipe.src.destroy();
    pipe.dst.end();
    setTimeout(() => pipe.dst.destroy(), 1000).unref();
  }

  close(rst: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.proxy.conns.delete(this);
    this.pipes.up.dispose();
    this.pipes.down.dispose();
    for (const s of [this.client, this.upstream]) {
      if (rst && !s.destroyed && s.readyState === 'open') s.resetAndDestroy();
      else s.destroy();
    }
  }
}

class FaultProxyImpl implements FaultProxy {
  readonly host = LOOPBACK;
  port = 0;
  target: { host: string; port: number };
  readonly conns = new Set<Conn>();
  readonly stats = { up: 0, down: 0 };
  faults: Faults = noFaults();
  #accepted = 0;
  #server: net.Server | undefined;
  #servers = new Set<net.Server>();
  #stopped = false;
  #connWaiters = new Set<{ n: number; resolve: () => void }>();

  constructor(target: { host: string; port: number }) {
    this.target = target;
  }

  get connections(): number {
    return this.conns.size;
  }

  get totalConnections(): number {
    return this.#accepted;
  }

  get bytes(): { up: number; down: number } {
    return { ...this.stats };
  }

  async listen(port: number): Promise<void> {
    const server = net.createServer((s) => this.#accept(s));
    server.on('error', () => undefined);
    this.#servers.add(server);
    server.once('close', () => this.#servers.delete(server));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, LOOPBACK, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#server = server;
    this.port = (server.address() as net.AddressInfo).port;
  }

  #accept(sock: net.Socket): void {
    this.#accepted++;
    for (const w of [...this.#connWaiters]) {
      if (this.#accepted >= w.n) {
        this.#connWaiters.delete(w);
        w.resolve();
      }
    }
    sock.on('error', () => undefined);
    const refuse = this.faults.refuse;
    if (this.#stopped || refuse !== undefined) {
      if (refuse === 'rst') sock.resetAndDestroy();
      else sock.destroy();
      return;
    }
    this.conns.add(new Conn(this, sock, this.target));
  }

  applyCorrupt(dir: Dir, chunk: Buffer): Buffer {
    const c = this.faults.corrupt;
    if (!c || c.dir !== dir) return chunk;
    if (c.skip >= chunk.length) {
      c.skip -= chunk.length;
      return chunk;
    }
    const out = Buffer.from(chunk);
    out[c.skip] = (out[c.skip] as number) ^ c.xor;
    this.faults.corrupt = undefined;
    return out;
  }

  #pumpAll(): void {
    for (const c of this.conns) c.pump();
  }

  drop(options: { rst?: boolean } = {}): void {
    for (const c of [...this.conns]) c.close(options.rst ?? false);
  }

  async refuse(on: boolean, options: { mode?: RefuseMode } = {}): Promise<void> {
    if (this.#stopped) return;
    const mode = options.mode ?? 'unlisten';
    const was = this.faults.refuse;
    this.faults.refuse = on ? mode : undefined;
    if (on && mode === 'unlisten' && this.#server) {
      const server = this.#server;
      this.#server = undefined;
      server.close();
      await new Promise((resolve) => setImmediate(resolve));
    } else if (!on && was === 'unlisten' && !this.#server) {
      await this.listen(this.port);
    }
  }

  stall(on: boolean, dir: FaultDirection = 'both'): void {
    for (const d of dirs(dir)) this.faults.stall[d] = on;
    this.#pumpAll();
  }

  delay(ms: number, dir: FaultDirection = 'both'): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`delay must be >= 0, not ${ms}`);
    for (const d of dirs(dir)) this.faults.delay[d] = ms;
    this.#pumpAll();
  }

  cutMidFrame(options: CutOptions = {}): void {
    if (options.afterBytes !== undefined && (!Number.isInteger(options.afterBytes) || options.afterBytes < 0)) {
      throw new RangeError(`afterBytes must be an integer >= 0, not ${options.afterBytes}`);
    }
    this.faults.cut = { dirs: dirs(options.dir ?? 'down'), remaining: options.afterBytes };
  }

  corrupt(options: { dir?: 'up' | 'down'; skip?: number; xor?: number } = {}): void {
    const xor = options.xor ?? 0xff;
    if (!Number.isInteger(xor) || xor < 1 || xor > 255) throw new RangeError('xor must be in [1, 255]');
    this.faults.corrupt = { dir: options.dir ?? 'down', skip: options.skip ?? 0, xor };
  }

  setTarget(target: { host?: string; port: number }): void {
    this.target = { host: target.host ?? LOOPBACK, port: target.port };
  }

  waitForConnections(n: number, options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#accepted >= n) return Promise.resolve();
    const timeoutMs = options.timeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      const w = {
        n,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.#connWaiters.delete(w);
        reject(new Error(`fault proxy: ${this.#accepted} connections after ${timeoutMs} ms, wanted ${n}`));
      }, timeoutMs);
      this.#connWaiters.add(w);
    });
  }

  async reset(): Promise<void> {
    const refusing = this.faults.refuse !== undefined;
    const { refuse: _r, ...rest } = noFaults();
    this.faults = { ...rest, refuse: this.faults.refuse };
    if (refusing) await this.refuse(false);
    this.#pumpAll();
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.drop({ rst: true });
    const servers = [...this.#servers];
    await Promise.all(
      servers.map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))),
    );
  }
}

/**
 * Starts an in-process TCP relay on a free port of 127.0.0.1 that forwards every connection to
 * `target` (host default 127.0.0.1) until a fault is set. Works in front of any TCP peer,
 * including TLS and WebSocket listeners (the bytes pass through).
 */
export async function startFaultProxy(target: { host?: string; port: number }): Promise<FaultProxy> {
  const proxy = new FaultProxyImpl({ host: target.host ?? LOOPBACK, port: target.port });
  await proxy.listen(0);
  return proxy;
}
