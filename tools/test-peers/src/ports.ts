import net from 'node:net';

/** The loopback address every peer of this package listens on. */
export const LOOPBACK = '127.0.0.1';

/**
 * Returns `count` distinct TCP ports that were free on 127.0.0.1 a moment ago.
 *
 * All sockets are held open together and then released, so the ports are distinct. Another process
 * can still take one before the caller binds it; callers that start a child process retry on a bind
 * failure.
 */
export async function getFreePorts(count: number): Promise<number[]> {
  if (!Number.isInteger(count) || count < 1 || count > 64) {
    throw new RangeError(`count must be an integer in [1, 64], not ${count}`);
  }
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, LOOPBACK, () => {
          server.off('error', reject);
          resolve();
        });
      });
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(
      servers.map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))),
    );
  }
}

/** Returns one TCP port that was free on 127.0.0.1 a moment ago (see {@link getFreePorts}). */
export async function getFreePort(): Promise<number> {
  const [port] = await getFreePorts(1);
  return port as number;
}

/**
 * Resolves once `host:port` accepts a TCP connection, or rejects after `timeoutMs`.
 * `abort` is polled between attempts; when it returns a string the wait fails at once with it.
 */
export async function waitForPort(
  port: number,
  options: { host?: string; timeoutMs?: number; intervalMs?: number; abort?: () => string | undefined } = {},
): Promise<void> {
  const { host = LOOPBACK, timeoutMs = 10_000, intervalMs = 25 } = options;
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    const reason = options.abort?.();
    if (reason !== undefined) throw new Error(reason);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host, port });
      const done = (result: boolean): void => {
        socket.removeAllListeners();
        socket.on('error', () => undefined);
        socket.destroy();
        resolve(result);
      };
      socket.setTimeout(1000, () => done(false));
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
    });
    if (ok) return;
    if (Date.now() >= deadline)
      throw new Error(`port ${host}:${port} did not accept connections within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs * (attempt < 4 ? 1 : 2), 100)));
  }
}
