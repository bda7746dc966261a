import { Mqtt5Error } from '@mqtt5/codec';
import { OutboundTopicAliasBehaviorType } from './config.js';
import {
  type OutboundTopicAliasResolver,
  InboundTopicAliasResolver,
  createOutboundTopicAliasResolver,
} from './topic-alias.js';

function errorOf(fn: () => unknown): Mqtt5Error {
  try {
    fn();
  } catch (e) {
    if (Mqtt5Error.isInstance(e)) return e;
    throw e;
  }
  throw new Error('expected a throw');
}

/** Runs a sequence of publishes, rendering each result as crt's tests do: `a1` = topic + alias 1, `b2r` = alias 2 reused (no topic), `a` = no alias. */
function run(resolver: OutboundTopicAliasResolver, topics: string[], aliases: (number | undefined)[] = []): string[] {
  return topics.map((topic, i) => {
    const r = resolver.resolve(topic, aliases[i]);
    return r === 0 ? topic : r > 0 ? `${topic}${r}` : `${topic}${-r}r`;
  });
}

describe('InboundTopicAliasResolver', () => {
  it('binds, resolves and rebinds aliases (reference test 47)', () => {
    const inbound = new InboundTopicAliasResolver(10);
    expect(inbound.resolve('topic1', 1)).toBe('topic1');
    expect(inbound.resolve('', 1)).toBe('topic1');
    expect(inbound.resolve('topic2', 1)).toBe('topic2');
    expect(inbound.resolve('', 1)).toBe('topic2');
    expect(inbound.resolve('plain', undefined)).toBe('plain');
    expect(inbound.resolve('t10', 10)).toBe('t10');
  });

  it.each([
    ['alias 0', 10, 0, 'x', /topic alias 0, outside 1..10/],
    ['alias above the maximum', 10, 11, 'x', /topic alias 11, outside 1..10/],
    ['unbound alias with an empty topic', 10, 3, '', /topic alias 3, which is not bound/],
    ['any alias while the maximum is 0', 0, 1, 'x', /allows none \(topic alias maximum 0\)/],
    ['an empty topic without an alias', 10, undefined, '', /empty topic and no topic alias/],
  ])('rejects %s as a decode protocol error', (_what, maximum, alias, topic, message) => {
    const error = errorOf(() => new InboundTopicAliasResolver(maximum).resolve(topic, alias));
    expect(error.code).toBe('AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR');
    expect(error.message).toMatch(message);
  });

  it('reset forgets bindings and takes the new maximum', () => {
    const inbound = new InboundTopicAliasResolver(2);
    inbound.resolve('a', 2);
    inbound.reset(5);
    expect(() => inbound.resolve('', 2)).toThrow(/not bound/);
    expect(inbound.resolve('b', 5)).toBe('b');
    inbound.reset(0);
    expect(() => inbound.resolve('b', 1)).toThrow(/allows none/);
  });
});

describe('outbound resolvers', () => {
  it('Disabled (and Default) never alias', () => {
    for (const behavior of [OutboundTopicAliasBehaviorType.Disabled, OutboundTopicAliasBehaviorType.Default]) {
      const resolver = createOutboundTopicAliasResolver(behavior, 25);
      resolver.reset(10);
      expect(run(resolver, ['a', 'a', 'b'], [1, 1, 2])).toEqual(['a', 'a', 'b']);
    }
  });

  describe('Manual', () => {
    it('a(1) b(2) a(1) b(2) with server maximum 2 → aliases 1,2,1,2; 3rd and 4th without topic (reference test 53)', () => {
      const resolver = createOutboundTopicAliasResolver(OutboundTopicAliasBehaviorType.Manual, 25);
      resolver.reset(2);
      expect(run(resolver, ['a', 'b', 'a', 'b'], [1, 2, 1, 2])).toEqual(['a1', 'b2', 'a1r', 'b2r']);
    });

    it('rebinds an alias used for another topic, and sends the topic without an alias when none is given', () => {
      const resolver = createOutboundTopicAliasResolver(OutboundTopicAliasBehaviorType.Manual, 25);
      resolver.reset(5);
      expect(run(resolver, ['a', 'b', 'b', 'a', 'c'], [1, 1, 1, 1, undefined])).toEqual(['a1', 'b1', 'b1r', 'a1', 'c']);
    });

    it('rejects alias 0, an alias above the maximum, any alias when the maximum is 0, and an empty topic', () => {
      const resolver = createOutboundTopicAliasResolver(OutboundTopicAliasBehaviorType.Manual, 25);
      resolver.reset(10);
      for (const alias of [0, 11, 1.5, -1]) {
        const error = errorOf(() => resolver.resolve('a', alias));
        expect(error.code).toBe('AWS_ERROR_MQTT5_INVALID_OUTBOUND_TOPIC_ALIAS');
        expect(error.message).toMatch(/outside 1..10/);
      }
      expect(resolver.resolve('a', 10)).toBe(10);
      expect(errorOf(() => resolver.resolve('', 10)).message).toMatch(/needs the full topic/);
      resolver.reset(0);
      expect(errorOf(() => resolver.resolve('a', 1)).message).toMatch(/allows no topic aliases/);
    });

    it('forgets bindings on reset (new connection)', () => {
      const resolver = createOutboundTopicAliasResolver(OutboundTopicAliasBehaviorType.Manual, 25);
      resolver.reset(2);
      expect(run(resolver, ['a', 'a'], [1, 1])).toEqual(['a1', 'a1r']);
      resolver.reset(2);
      expect(run(resolver, ['a'], [1])).toEqual(['a1']);
    });

    it('allows no alias before the first reset', () => {
      const resolver = createOutboundTopicAliasResolver(OutboundTopicAliasBehaviorType.Manual, 25);
      expect(() => resolver.resolve('a', 1)).toThrow(Mqtt5Error);
      expect(resolver.resolve('a', undefined)).toBe(0);
    });
  });

  describe('LRU', () => {
    const lru = (cacheMaxSize: number, maximumToServer: number): OutboundTopicAliasResolver => {
      const resolver = createOutboundTopicAliasResolver(OutboundTopicAliasBehaviorType.LRU, cacheMaxSize);
      resolver.reset(maximumToServer);
      return resolver;
    };

    it('size 2: a b c b c a → a1 b2 c1 b2r c1r a2 (reference §3.8 and test 54)', () => {
      expect(run(lru(2, 2), ['a', 'b', 'c', 'b', 'c', 'a'])).toEqual(['a1', 'b2', 'c1', 'b2r', 'c1r', 'a2']);
    });

    it('size 2: a1 b2 c1 b2r c1r b2r c1r a2', () => {
      expect(run(lru(2, 2), ['a', 'b', 'c', 'b', 'c', 'b', 'c', 'a'])).toEqual([
        'a1',
        'b2',
        'c1',
        'b2r',
        'c1r',
        'b2r',
        'c1r',
        'a2',
      ]);
    });

    it('size 2: a1 b2 c1 a2 c1r b2', () => {
      expect(run(lru(2, 2), ['a', 'b', 'c', 'a', 'c', 'b'])).toEqual(['a1', 'b2', 'c1', 'a2', 'c1r', 'b2']);
    });

    it('a hit promotes the topic to most recently used', () => {
      // a is used again before c arrives, so b (not a) is evicted
      expect(run(lru(2, 2), ['a', 'b', 'a', 'c', 'a', 'b'])).toEqual(['a1', 'b2', 'a1r', 'c2', 'a1r', 'b2']);
    });

    it('uses min(cacheMaxSize, server maximum) entries', () => {
      expect(run(lru(2, 100), ['a', 'b', 'c', 'a'])).toEqual(['a1', 'b2', 'c1', 'a2']);
      expect(run(lru(100, 2), ['a', 'b', 'c', 'a'])).toEqual(['a1', 'b2', 'c1', 'a2']);
      expect(run(lru(3, 3), ['a', 'b', 'c', 'a'])).toEqual(['a1', 'b2', 'c3', 'a1r']);
    });

    it('size 0 (server allows none, or before the first reset) never aliases', () => {
      expect(run(lru(25, 0), ['a', 'a'])).toEqual(['a', 'a']);
      const fresh = createOutboundTopicAliasResolver(OutboundTopicAliasBehaviorType.LRU, 25);
      expect(run(fresh, ['a', 'a'])).toEqual(['a', 'a']);
    });

    it('ignores the user alias and never aliases an empty topic', () => {
      expect(run(lru(2, 2), ['a', 'a', ''], [7, 9, 1])).toEqual(['a1', 'a1r', '']);
    });

    it('forgets everything on reset and takes the new maximum', () => {
      const resolver = lru(2, 2);
      run(resolver, ['a', 'b']);
      resolver.reset(1);
      expect(run(resolver, ['b', 'a', 'a'])).toEqual(['b1', 'a1', 'a1r']);
    });

    it('matches a reference model over a long random sequence', () => {
      let seed = 3;
      const rand = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
      const size = 8;
      const resolver = lru(size, size);
      const model: Array<{ topic: string; alias: number }> = []; // most recent last
      for (let i = 0; i < 20_000; i++) {
        const topic = `t/${Math.floor(rand() * 20)}`;
        const got = resolver.resolve(topic, undefined);
        const at = model.findIndex((e) => e.topic === topic);
        let want: number;
        if (at >= 0) {
          const [entry] = model.splice(at, 1);
          model.push(entry!);
          want = -entry!.alias;
        } else if (model.length < size) {
          model.push({ topic, alias: model.length + 1 });
          want = model.length;
        } else {
          const evicted = model.shift()!;
          model.push({ topic, alias: evicted.alias });
          want = evicted.alias;
        }
        if (got !== want) throw new Error(`step ${i}: ${topic} got ${got}, want ${want}`);
      }
    });
  });
});
