import { startPeers, stopPeers, usePeers, type StoppablePeer } from './use-peers.js';

interface FakePeer extends StoppablePeer {
  readonly name: string;
}

/** A peer that starts after `delayMs` and records its stop in `log`. */
function fake(name: string, log: string[], delayMs = 0): () => Promise<FakePeer> {
  return () =>
    new Promise((resolve) =>
      setTimeout(
        () =>
          resolve({
            name,
            stop: async () => {
              log.push(name);
            },
          }),
        delayMs,
      ),
    );
}

describe('startPeers', () => {
  it('starts every peer and returns them by name', async () => {
    const stopped: string[] = [];
    const peers = await startPeers({ a: fake('a', stopped), b: fake('b', stopped, 5) });
    expect(peers.a.name).toBe('a');
    expect(peers.b.name).toBe('b');
    expect(stopped).toEqual([]);
  });

  it('when one fails, stops the others (also those that come up later) and throws its error', async () => {
    const stopped: string[] = [];
    const failure = new Error('bind failed');
    const started = startPeers({
      a: fake('a', stopped),
      broken: () => Promise.reject(failure),
      slow: fake('slow', stopped, 20),
    });
    await expect(started).rejects.toBe(failure);
    expect(stopped.sort()).toEqual(['a', 'slow']);
  });
});

describe('stopPeers', () => {
  it('stops every peer, skips undefined ones, and rejects with the first failure after trying all', async () => {
    const stopped: string[] = [];
    const failure = new Error('stop failed');
    const broken: StoppablePeer = {
      stop: () => {
        throw failure; // even a synchronous throw does not keep the others running
      },
    };
    const a = await fake('a', stopped)();
    const b = await fake('b', stopped)();
    await expect(stopPeers({ a, broken, none: undefined, b })).rejects.toBe(failure);
    expect(stopped.sort()).toEqual(['a', 'b']);
    await expect(stopPeers([a, undefined])).resolves.toBeUndefined();
    expect(stopped).toHaveLength(3);
  });
});

describe('usePeers', () => {
  const stopped: string[] = [];

  describe('in a describe block', () => {
    const peers = usePeers({ a: fake('a', stopped), b: fake('b', stopped) });

    it('has the peers started before the tests run', () => {
      expect(peers.a.name).toBe('a');
      expect(peers.b.name).toBe('b');
      expect(stopped).toEqual([]);
    });
  });

  it('stopped them after the block', () => {
    expect(stopped.sort()).toEqual(['a', 'b']);
  });

  it('refuses to run outside jest (no hooks to register)', () => {
    const g = globalThis as { beforeAll?: unknown };
    const saved = g.beforeAll;
    g.beforeAll = undefined;
    try {
      expect(() => usePeers({})).toThrow(/jest hooks/);
    } finally {
      g.beforeAll = saved;
    }
  });
});
