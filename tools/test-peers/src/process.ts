import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';

/** How a managed child process ended. */
export interface ProcessExit {
  /** Exit code, or `null` when a signal ended it. */
  code: number | null;
  /** The signal that ended it, or `null`. */
  signal: NodeJS.Signals | null;
}

/**
 * Whether `pid` is a live process (not a zombie). Reads `/proc/<pid>/stat` on Linux, where an exited
 * but not yet reaped process still answers `kill -0`; falls back to `kill -0` elsewhere.
 */
export function isProcessRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
  const state = /\) ([A-Za-z]) /.exec(stat)?.[1];
  return state !== undefined && state !== 'Z' && state !== 'X';
}

const SETPRIV = '/usr/bin/setpriv';
let setprivUsable: boolean | undefined;

function canUseSetpriv(): boolean {
  if (setprivUsable === undefined) {
    try {
      fs.accessSync(SETPRIV, fs.constants.X_OK);
      setprivUsable = true;
    } catch {
      setprivUsable = false;
    }
  }
  return setprivUsable;
}

// One registry per real process (jest gives every test file its own module registry), so a single
// 'exit' hook kills whatever a test forgot to stop, then runs the other cleanups (temp folders).
const REGISTRY = Symbol.for('@mqtt5/test-peers.exit-cleanups');
interface Registry {
  children: Set<ChildProcess>;
  cleanups: Set<() => void>;
}

function registry(): Registry {
  const holder = process as unknown as Record<symbol, Registry | undefined>;
  let reg = holder[REGISTRY];
  if (!reg) {
    const created: Registry = { children: new Set(), cleanups: new Set() };
    reg = created;
    holder[REGISTRY] = created;
    process.once('exit', () => {
      for (const child of created.children) {
        try {
          child.kill('SIGKILL');
        } catch {
          // already gone
        }
      }
      for (const fn of created.cleanups) {
        try {
          fn();
        } catch {
          // best effort at exit
        }
      }
    });
  }
  return reg;
}

/**
 * Runs `fn` (synchronously) when the test process exits, after every forgotten child has been
 * SIGKILLed. Returns a function that unregisters it.
 */
export function onProcessExit(fn: () => void): () => void {
  const { cleanups } = registry();
  cleanups.add(fn);
  return () => {
    cleanups.delete(fn);
  };
}

/** A child process started by {@link spawnManaged}: signalled only by its own pid. */
export class ManagedProcess {
  readonly pid: number;
  /** Resolves when the process has exited and has been reaped. */
  readonly exited: Promise<ProcessExit>;
  #child: ChildProcess;
  #exit: ProcessExit | undefined;

  constructor(child: ChildProcess) {
    if (child.pid === undefined) throw new Error('child process has no pid');
    this.pid = child.pid;
    this.#child = child;
    const set = registry().children;
    set.add(child);
    this.exited = new Promise<ProcessExit>((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        set.delete(child);
        resolve(this.#exit);
      });
    });
    child.unref();
  }

  /** `true` until the process has exited. */
  get running(): boolean {
    return this.#exit === undefined && isProcessRunning(this.pid);
  }

  /** How it ended, once it has. */
  get exit(): ProcessExit | undefined {
    return this.#exit;
  }

  /** Sends `signal` to this pid unless it has already exited (so a recycled pid is never hit). */
  signal(signal: NodeJS.Signals): void {
    if (this.#exit !== undefined) return;
    try {
      this.#child.kill(signal);
    } catch {
      // raced with its exit
    }
  }

  /** SIGKILL now and wait until the process has been reaped. */
  async kill(): Promise<ProcessExit> {
    this.signal('SIGKILL');
    return this.exited;
  }

  /** SIGTERM, wait up to `graceMs`, then SIGKILL; resolves once the process has been reaped. */
  async stop(graceMs = 3000): Promise<ProcessExit> {
    if (this.#exit !== undefined) return this.#exit;
    this.signal('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), graceMs);
    });
    const first = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (first !== 'timeout') return first;
    return this.kill();
  }
}

/**
 * Spawns `command` with stdout and stderr appended to `outputFile`, stdin closed. On Linux it runs
 * under `setpriv --pdeathsig SIGKILL` (which execs, so the pid is the program's own): if the test
 * process dies, the kernel kills the child too. A child a test forgot to stop is killed when the
 * test process exits.
 */
export async function spawnManaged(
  command: string,
  args: readonly string[],
  options: { outputFile: string; cwd?: string; env?: NodeJS.ProcessEnv },
): Promise<ManagedProcess> {
  const fd = fs.openSync(options.outputFile, 'a');
  try {
    const [file, argv] = canUseSetpriv()
      ? [SETPRIV, ['--pdeathsig', 'SIGKILL', '--', command, ...args]]
      : [command, [...args]];
    const child = spawn(file, argv, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', fd, fd],
      detached: false,
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => {
        child.off('error', reject);
        resolve();
      });
      child.once('error', reject);
    });
    return new ManagedProcess(child);
  } finally {
    fs.closeSync(fd);
  }
}
