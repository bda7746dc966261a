/**
 * The per-file peer lifecycle of an integration test: start the peers once (`beforeAll`), stop them
 * all afterwards (`afterAll`), and leave nothing running when one of them fails to start.
 */

/** A peer a test starts and must stop (every peer of this package). */
export interface StoppablePeer {
  stop(): Promise<unknown>;
}

/** How to start each peer of a set, by name. */
export type PeerStarters = Record<string, () => Promise<StoppablePeer>>;

/** The started peers of a {@link PeerStarters}, by the same names. */
export type StartedPeers<S extends PeerStarters> = { [K in keyof S]: Awaited<ReturnType<S[K]>> };

/**
 * Starts every peer of `starters` concurrently. When one fails to start, the others are stopped
 * once they are up and the first failure is thrown: nothing is left running.
 */
export async function startPeers<S extends PeerStarters>(starters: S): Promise<StartedPeers<S>> {
  const names = Object.keys(starters) as (keyof S & string)[];
  const results = await Promise.allSettled(names.map((name) => starters[name]!()));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await stopPeers(results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])));
    throw failed.reason;
  }
  const peers = {} as StartedPeers<S>;
  names.forEach((name, i) => {
    peers[name] = (results[i] as PromiseFulfilledResult<StartedPeers<S>[typeof name]>).value;
  });
  return peers;
}

/** Stops every peer (those that are `undefined` are skipped); rejects with the first failure once all were tried. */
export async function stopPeers(
  peers: Iterable<StoppablePeer | undefined> | Record<string, StoppablePeer | undefined>,
): Promise<void> {
  const list = Symbol.iterator in peers ? [...peers] : Object.values(peers);
  const results = await Promise.allSettled(list.map(async (peer) => peer?.stop()));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

interface JestHooks {
  beforeAll?: (fn: () => Promise<void>) => void;
  afterAll?: (fn: () => Promise<void>) => void;
}

/**
 * Registers `beforeAll`/`afterAll` hooks (jest) in the calling file or `describe` block that start the
 * peers of `starters` ({@link startPeers}) and stop them all ({@link stopPeers}). Returns the object
 * the started peers are put in, by name: read its properties in tests and hooks, not at module level
 * (they are set in `beforeAll`).
 *
 * ```ts
 * const peers = usePeers({ broker: () => startMosquitto(), proxy: () => startHttpConnectProxy() });
 * it('connects', async () => { await connect(peers.broker.ports.tcp); });
 * ```
 */
export function usePeers<S extends PeerStarters>(starters: S): StartedPeers<S> {
  const { beforeAll, afterAll } = globalThis as JestHooks;
  if (!beforeAll || !afterAll)
    throw new Error('usePeers() registers jest hooks: call it in a test file or describe block');
  const peers = {} as StartedPeers<S>;
  beforeAll(async () => {
    Object.assign(peers, await startPeers(starters));
  });
  afterAll(async () => {
    await stopPeers(peers as Record<string, StoppablePeer | undefined>);
  });
  return peers;
}
