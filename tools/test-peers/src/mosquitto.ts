import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getTestCertificates, type TestCertificates } from './certs.js';
import { getFreePorts, LOOPBACK, waitForPort } from './ports.js';
import { isProcessRunning, onProcessExit, spawnManaged, type ManagedProcess } from './process.js';

/** Username/password of a user on the `auth` listener. */
export interface MosquittoUser<Name extends string = string> {
  username: Name;
  password: string;
}

/** Controls shared by every mosquitto instance started by this package. */
export interface MosquittoProcessControl {
  /** Pid of the current mosquitto process (changes on {@link restart}). */
  readonly pid: number;
  /** Always `'127.0.0.1'`. */
  readonly host: '127.0.0.1';
  /** mosquitto's log (`log_type all`), appended to across restarts. Removed by {@link stop}. */
  readonly logFile: string;
  /** Folder of the generated config, password file, ACL and log. Removed by {@link stop}. */
  readonly dir: string;
  /** `true` while the mosquitto process runs. */
  readonly running: boolean;
  /** SIGTERM by pid, SIGKILL after 3 s, wait until reaped, remove {@link dir}. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL now (simulates a crash) and wait until reaped. The ports are kept for {@link restart}. */
  kill(): Promise<void>;
  /**
   * Start mosquitto again on the SAME ports (stopping it first with SIGTERM if it still runs) and
   * wait until every listener accepts connections. Sessions survive only with `persistence: true`.
   */
  restart(): Promise<void>;
  /** The last `lines` lines of the log (for failure messages). */
  readLog(lines?: number): string;
}

/** The "main" mosquitto instance: one listener per transport / security setup. */
export interface MosquittoInstance extends MosquittoProcessControl {
  /**
   * - `tcp`: plain TCP, anonymous.
   * - `tls`: TLS with `serverCert` (valid for `localhost`/`127.0.0.1`), anonymous.
   * - `mtls`: TLS + `require_certificate` against the test CA; the client CN (`mtls-client`)
   *   becomes the username; no anonymous access.
   * - `badHost`: TLS with `badHostCert` (valid only for `wrong-host.invalid`), anonymous.
   * - `ws`: WebSocket (`ws://127.0.0.1:PORT/`, any path, subprotocol `mqtt`), anonymous.
   * - `wss`: WebSocket over TLS with `serverCert`, anonymous.
   * - `auth`: plain TCP, password file + ACL (see `users`), no anonymous access.
   */
  readonly ports: { tcp: number; tls: number; mtls: number; badHost: number; ws: number; wss: number; auth: number };
  /** The test PKI the TLS listeners use. */
  readonly certs: TestCertificates;
  /**
   * Users of the `auth` listener. `alice`: read+write `test/#` and `alice/#`, read-only `ro/#`.
   * `bob`: write-only `bob/#`, read-only `test/#`. Wrong password → CONNACK 0x87 (mosquitto 2.0).
   */
  readonly users: { alice: MosquittoUser<'alice'>; bob: MosquittoUser<'bob'> };
}

/**
 * The "limits" mosquitto instance (plain TCP, anonymous). Both listeners share Receive Maximum 3,
 * Maximum Packet Size 2048, Retain Available false and Server Keep Alive 10 (sent when the client
 * asks for 0 or more than 10).
 * - `limits`: Topic Alias Maximum 2, QoS up to 2.
 * - `limitsQos1`: Maximum QoS 1, no topic aliases, empty client id refused (CONNACK 0x80).
 */
export interface MosquittoLimitsInstance extends MosquittoProcessControl {
  /** Listener ports. */
  readonly ports: { limits: number; limitsQos1: number };
}

/** A mosquitto instance with caller-defined listeners (see {@link startMosquittoCustom}). */
export interface MosquittoCustomInstance<K extends string> extends MosquittoProcessControl {
  /** Port of each listener, by the name given in `listeners`. */
  readonly ports: Readonly<Record<K, number>>;
  /** The test PKI (available to listener configs). */
  readonly certs: TestCertificates;
}

/** What a config fragment can refer to. */
export interface MosquittoConfigContext {
  /** The instance folder (write extra files there through `files`). */
  dir: string;
  /** The test PKI. */
  certs: TestCertificates;
}

/** Options of {@link startMosquittoCustom}. */
export interface MosquittoCustomOptions<K extends string> {
  /**
   * One listener per key, each bound to 127.0.0.1 on a free port. The value is the body written
   * after `listener PORT 127.0.0.1` (e.g. `protocol mqtt\nallow_anonymous true`).
   */
  listeners: Record<K, string | ((ctx: MosquittoConfigContext) => string)>;
  /** Global options, written before the first listener. */
  globalConfig?: string | ((ctx: MosquittoConfigContext) => string);
  /** Extra files written into the instance folder before start (name → content). */
  files?: Record<string, string>;
  /** Label used in file names and errors. Default `custom`. */
  name?: string;
  /**
   * Keep sessions and retained messages across {@link MosquittoProcessControl.restart} (and
   * {@link MosquittoProcessControl.kill}): persistence in the instance folder, saved after every
   * change. Default `false`.
   */
  persistence?: boolean;
}

/** The path of the mosquitto binary: `MOSQUITTO_BIN` or `/usr/sbin/mosquitto`. */
export function mosquittoBinary(): string {
  return process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto';
}

function assertMosquittoInstalled(): string {
  const bin = mosquittoBinary();
  try {
    fs.accessSync(bin, fs.constants.X_OK);
  } catch {
    throw new Error(
      `mosquitto not found at ${bin}: install it with \`apt-get install -y mosquitto\` (or point MOSQUITTO_BIN at the binary)`,
    );
  }
  return bin;
}

/** A mosquitto 2.0 password-file line (`$7$` = PBKDF2-HMAC-SHA512, 101 iterations, 12-byte salt). */
export function mosquittoPasswordLine(username: string, password: string): string {
  const salt = crypto.randomBytes(12);
  const hash = crypto.pbkdf2Sync(password, salt, 101, 64, 'sha512');
  return `${username}:$7$101$${salt.toString('base64')}$${hash.toString('base64')}`;
}

const ACL = `# ACL of the auth listener (test only)
user alice
topic readwrite test/#
topic readwrite alice/#
topic read ro/#

user bob
topic write bob/#
topic read test/#
`;

const USERS = {
  alice: { username: 'alice', password: 'alice-pass' },
  bob: { username: 'bob', password: 'bob-pass' },
} as const satisfies Record<string, MosquittoUser>;

function globalHeader(logFile: string, dir: string, persistence: boolean): string {
  return [
    `user ${os.userInfo().username}`,
    ...(persistence
      ? ['persistence true', `persistence_location ${dir}/`, 'autosave_interval 1', 'autosave_on_changes true']
      : ['persistence false']),
    `log_dest file ${logFile}`,
    'log_type all',
    'log_timestamp_format %Y-%m-%dT%H:%M:%S',
    'connection_messages true',
    'per_listener_settings true',
  ].join('\n');
}

function tail(file: string, lines: number): string {
  try {
    return fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  } catch {
    return '';
  }
}

class MosquittoRunner<K extends string> implements MosquittoProcessControl {
  readonly host = LOOPBACK;
  readonly dir: string;
  readonly logFile: string;
  readonly certs: TestCertificates;
  ports!: Record<K, number>;
  readonly #bin: string;
  readonly #name: string;
  readonly #options: MosquittoCustomOptions<K>;
  readonly #confFile: string;
  readonly #outFile: string;
  #proc: ManagedProcess | undefined;
  #stopped = false;
  #unregister: () => void;

  constructor(bin: string, dir: string, certs: TestCertificates, options: MosquittoCustomOptions<K>) {
    this.#bin = bin;
    this.dir = dir;
    this.certs = certs;
    this.#options = options;
    this.#name = options.name ?? 'custom';
    this.logFile = path.join(dir, `${this.#name}.log`);
    this.#confFile = path.join(dir, `${this.#name}.conf`);
    this.#outFile = path.join(dir, `${this.#name}.stdout`);
    this.#unregister = onProcessExit(() => fs.rmSync(dir, { recursive: true, force: true }));
  }

  get pid(): number {
    if (!this.#proc) throw new Error('mosquitto has not been started');
    return this.#proc.pid;
  }

  get running(): boolean {
    return this.#proc?.running ?? false;
  }

  readLog(lines = 40): string {
    return [tail(this.logFile, lines), tail(this.#outFile, 10)].filter((s) => s.trim() !== '').join('\n');
  }

  #render(): string {
    const ctx: MosquittoConfigContext = { dir: this.dir, certs: this.certs };
    const text = (v: string | ((c: MosquittoConfigContext) => string) | undefined): string =>
      v === undefined ? '' : typeof v === 'function' ? v(ctx) : v;
    const parts = [
      `# generated by @mqtt5/test-peers (${this.#name}); test only`,
      globalHeader(this.logFile, this.dir, this.#options.persistence ?? false),
      text(this.#options.globalConfig),
    ];
    for (const key of Object.keys(this.#options.listeners) as K[]) {
      parts.push(
        `\n# --- ${key}\nlistener ${this.ports[key]} ${LOOPBACK}\nsocket_domain ipv4\n${text(this.#options.listeners[key])}`,
      );
    }
    return parts.join('\n') + '\n';
  }

  /** Spawn on the current ports and wait for every listener; kill and throw on failure. */
  async #launch(): Promise<void> {
    fs.writeFileSync(this.#confFile, this.#render());
    const proc = await spawnManaged(this.#bin, ['-c', this.#confFile], { outputFile: this.#outFile, cwd: this.dir });
    this.#proc = proc;
    try {
      for (const port of Object.values<number>(this.ports)) {
        await waitForPort(port, {
          timeoutMs: 10_000,
          abort: () =>
            proc.exit
              ? `mosquitto exited (${proc.exit.code ?? proc.exit.signal}) before port ${port} opened`
              : undefined,
        });
      }
    } catch (err) {
      await proc.kill();
      throw new Error(`mosquitto (${this.#name}) did not start: ${(err as Error).message}\n${this.readLog(15)}`, {
        cause: err,
      });
    }
  }

  async start(): Promise<void> {
    const keys = Object.keys(this.#options.listeners) as K[];
    let last: unknown;
    for (let attempt = 1; attempt <= 3; attempt++) {
      const free = await getFreePorts(keys.length);
      this.ports = Object.fromEntries(keys.map((k, i) => [k, free[i]])) as Record<K, number>;
      try {
        await this.#launch();
        return;
      } catch (err) {
        last = err; // most likely a port taken between picking and binding: pick new ones
      }
    }
    throw last;
  }

  async kill(): Promise<void> {
    await this.#proc?.kill();
  }

  async restart(): Promise<void> {
    if (this.#stopped) throw new Error('mosquitto instance was stopped; start a new one');
    if (this.#proc?.running) await this.#proc.stop();
    let last: unknown;
    for (let attempt = 1; attempt <= 5; attempt++) {
      try {
        await this.#launch();
        return;
      } catch (err) {
        last = err;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
    throw last;
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    try {
      await this.#proc?.stop(3000);
    } finally {
      this.#unregister();
      fs.rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

const DIR_PREFIX = 'mqtt5-mosquitto-';
const OWNER_FILE = 'owner.pid';

/** Removes instance folders left by test processes that were killed (their owner pid is gone). */
function sweepStaleDirs(): void {
  let names: string[];
  try {
    names = fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith(DIR_PREFIX));
  } catch {
    return;
  }
  for (const name of names) {
    const dir = path.join(os.tmpdir(), name);
    try {
      const owner = Number(fs.readFileSync(path.join(dir, OWNER_FILE), 'utf8'));
      if (!isProcessRunning(owner)) fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // not ours, or being created right now: leave it
    }
  }
}

async function startRunner<K extends string>(options: MosquittoCustomOptions<K>): Promise<MosquittoRunner<K>> {
  const bin = assertMosquittoInstalled();
  if (Object.keys(options.listeners).length === 0) throw new RangeError('at least one listener is needed');
  const certs = await getTestCertificates();
  sweepStaleDirs();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${DIR_PREFIX}${options.name ?? 'custom'}-`));
  try {
    fs.writeFileSync(path.join(dir, OWNER_FILE), String(process.pid));
    for (const [name, content] of Object.entries(options.files ?? {})) {
      if (name.includes('/') || name.startsWith('.')) throw new RangeError(`bad file name ${name}`);
      fs.writeFileSync(path.join(dir, name), content, { mode: 0o644 });
    }
    const runner = new MosquittoRunner(bin, dir, certs, options);
    try {
      await runner.start();
    } catch (err) {
      await runner.stop();
      throw err;
    }
    return runner;
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Starts mosquitto with caller-defined listeners on free ports of 127.0.0.1 (for setups the main
 * and limits instances don't cover). Resolves once every listener accepts TCP connections.
 *
 * @example
 * const b = await startMosquittoCustom({
 *   name: 'tiny',
 *   globalConfig: 'max_packet_size 512',
 *   listeners: { plain: 'protocol mqtt\nallow_anonymous true' },
 * });
 * // b.ports.plain ... await b.stop();
 */
export async function startMosquittoCustom<K extends string>(
  options: MosquittoCustomOptions<K>,
): Promise<MosquittoCustomInstance<K>> {
  return startRunner(options);
}

/**
 * Starts the "main" mosquitto instance (see {@link MosquittoInstance} for the listeners).
 * Throws a clear error when mosquitto is not installed. `extraConfig` is written into the global
 * section, before the first listener (global options only, e.g. `max_inflight_messages 5`);
 * `persistence: true` keeps sessions across restart/kill.
 */
export async function startMosquitto(
  options: { extraConfig?: string; persistence?: boolean } = {},
): Promise<MosquittoInstance> {
  const users = USERS;
  const runner = await startRunner({
    name: 'main',
    persistence: options.persistence ?? false,
    files: {
      passwd: `${mosquittoPasswordLine(users.alice.username, users.alice.password)}\n${mosquittoPasswordLine(users.bob.username, users.bob.password)}\n`,
      acl: ACL,
    },
    globalConfig: options.extraConfig ?? '',
    listeners: {
      tcp: 'protocol mqtt\nallow_anonymous true',
      tls: ({ certs }) =>
        `protocol mqtt\nallow_anonymous true\ncertfile ${certs.serverCert}\nkeyfile ${certs.serverKey}`,
      mtls: ({ certs }) =>
        [
          'protocol mqtt',
          'allow_anonymous false',
          `cafile ${certs.caCert}`,
          `certfile ${certs.serverCert}`,
          `keyfile ${certs.serverKey}`,
          'require_certificate true',
          'use_identity_as_username true',
        ].join('\n'),
      badHost: ({ certs }) =>
        `protocol mqtt\nallow_anonymous true\ncertfile ${certs.badHostCert}\nkeyfile ${certs.badHostKey}`,
      ws: 'protocol websockets\nallow_anonymous true',
      wss: ({ certs }) =>
        `protocol websockets\nallow_anonymous true\ncertfile ${certs.serverCert}\nkeyfile ${certs.serverKey}`,
      auth: ({ dir }) => `protocol mqtt\nallow_anonymous false\npassword_file ${dir}/passwd\nacl_file ${dir}/acl`,
    },
  });
  return Object.assign(runner, { users }) as unknown as MosquittoInstance;
}

/**
 * Starts the "limits" mosquitto instance (see {@link MosquittoLimitsInstance}). `extraConfig` is
 * written into the global section; `persistence` as for {@link startMosquitto}.
 */
export async function startMosquittoLimits(
  options: { extraConfig?: string; persistence?: boolean } = {},
): Promise<MosquittoLimitsInstance> {
  const runner = await startRunner({
    name: 'limits',
    persistence: options.persistence ?? false,
    globalConfig: [
      'max_packet_size 2048',
      'max_inflight_messages 3',
      'max_keepalive 10',
      'retain_available false',
      'max_queued_messages 10',
      options.extraConfig ?? '',
    ].join('\n'),
    listeners: {
      limits: 'protocol mqtt\nallow_anonymous true\nmax_topic_alias 2',
      limitsQos1: 'protocol mqtt\nallow_anonymous true\nmax_qos 1\nmax_topic_alias 0\nallow_zero_length_clientid false',
    },
  });
  return runner as unknown as MosquittoLimitsInstance;
}
