/**
 * Topic alias resolution (reference §3.8): inbound, the server's aliases back to topics; outbound,
 * which alias (if any) a PUBLISH uses on the wire.
 *
 * @packageDocumentation
 */
import { Mqtt5Error } from '@mqtt5/codec';
import { OutboundTopicAliasBehaviorType } from './config.js';

/**
 * Resolves the topic aliases of inbound PUBLISHes for one connection. `maximum` is the Topic Alias
 * Maximum the client advertised in its CONNECT (0: the server may not use aliases at all).
 */
export class InboundTopicAliasResolver {
  #maximum = 0;
  readonly #topics = new Map<number, string>();

  /** @param maximum the advertised Topic Alias Maximum (0 → any alias is an error). */
  constructor(maximum: number) {
    this.reset(maximum);
  }

  /** New connection: forgets every binding and takes the newly advertised maximum. */
  reset(maximum: number): void {
    this.#maximum = Number.isInteger(maximum) && maximum > 0 ? maximum : 0;
    this.#topics.clear();
  }

  /**
   * The topic to deliver for a PUBLISH with `topicName` and Topic Alias `alias`. A non-empty topic
   * with an alias (re)binds the alias; an empty topic with an alias uses the bound topic.
   *
   * @throws Mqtt5Error `AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR` saying what was wrong: alias 0, alias
   *   above the maximum, any alias when the maximum is 0, an unbound alias with an empty topic, or an
   *   empty topic without an alias.
   */
  resolve(topicName: string, alias: number | undefined): string {
    if (alias === undefined) {
      if (topicName === '') throw protocolError('inbound PUBLISH has an empty topic and no topic alias');
      return topicName;
    }
    if (this.#maximum === 0) {
      throw protocolError(
        `inbound PUBLISH uses topic alias ${alias} but the client allows none (topic alias maximum 0)`,
      );
    }
    if (!Number.isInteger(alias) || alias < 1 || alias > this.#maximum) {
      throw protocolError(`inbound PUBLISH uses topic alias ${alias}, outside 1..${this.#maximum}`);
    }
    if (topicName !== '') {
      this.#topics.set(alias, topicName);
      return topicName;
    }
    const bound = this.#topics.get(alias);
    if (bound === undefined)
      throw protocolError(`inbound PUBLISH uses topic alias ${alias}, which is not bound to a topic`);
    return bound;
  }
}

function protocolError(message: string): Mqtt5Error {
  return new Mqtt5Error('AWS_ERROR_MQTT5_DECODE_PROTOCOL_ERROR', message);
}

/**
 * Chooses the topic alias of each outbound PUBLISH for one connection.
 *
 * The result of {@link OutboundTopicAliasResolver.resolve} is a number so that the hot path
 * allocates nothing: `0` = no alias (send the topic), `+A` = send the topic AND alias A (binding
 * it), `-A` = send alias A only, with an empty topic.
 */
export interface OutboundTopicAliasResolver {
  /** New connection: forget every binding; `maximumToServer` is the CONNACK topicAliasMaximum (0 → no aliasing). */
  reset(maximumToServer: number): void;
  /**
   * What goes on the wire for a PUBLISH to `topicName` with the user's `userAlias` (used by Manual
   * only): 0 = no alias, +A = topic and alias A, -A = alias A alone.
   *
   * @throws Mqtt5Error `AWS_ERROR_MQTT5_INVALID_OUTBOUND_TOPIC_ALIAS` (Manual) for an alias that is
   *   not an integer in 1..maximum, or an empty topic.
   */
  resolve(topicName: string, userAlias: number | undefined): number;
}

/** Outbound aliasing off: always the full topic. */
class DisabledOutboundResolver implements OutboundTopicAliasResolver {
  reset(_maximumToServer: number): void {}
  resolve(_topicName: string, _userAlias: number | undefined): number {
    return 0;
  }
}

/** Stateless: one for every client. */
const DISABLED_OUTBOUND_RESOLVER: OutboundTopicAliasResolver = new DisabledOutboundResolver();

/**
 * Manual: the user picks the alias. Alias A already bound to this very topic → alias only; otherwise
 * topic + alias, rebinding A. The user always passes the full topic, since bindings are lost on reconnect.
 */
class ManualOutboundResolver implements OutboundTopicAliasResolver {
  #maximum = 0;
  #topics: (string | undefined)[] = [];

  reset(maximumToServer: number): void {
    this.#maximum = sanitizeMaximum(maximumToServer);
    this.#topics = [];
  }

  resolve(topicName: string, userAlias: number | undefined): number {
    if (userAlias === undefined) return 0;
    if (!Number.isInteger(userAlias) || userAlias < 1 || userAlias > this.#maximum) {
      throw new Mqtt5Error(
        'AWS_ERROR_MQTT5_INVALID_OUTBOUND_TOPIC_ALIAS',
        this.#maximum === 0
          ? `topic alias ${userAlias} cannot be used: the server allows no topic aliases on this connection`
          : `topic alias ${userAlias} is outside 1..${this.#maximum}, the server's topic alias maximum`,
      );
    }
    if (topicName === '') {
      throw new Mqtt5Error(
        'AWS_ERROR_MQTT5_INVALID_OUTBOUND_TOPIC_ALIAS',
        'manual topic aliasing needs the full topic on every PUBLISH (bindings do not survive a reconnect)',
      );
    }
    if (this.#topics[userAlias] === topicName) return -userAlias;
    this.#topics[userAlias] = topicName;
    return userAlias;
  }
}

/** A node of the LRU list; reused on eviction, so a hit or an eviction allocates no node. */
interface LruEntry {
  topic: string;
  readonly alias: number;
  newer: LruEntry | undefined;
  older: LruEntry | undefined;
}

/**
 * LRU: the client assigns aliases from a cache of `min(cacheMaxSize, maximumToServer)` entries.
 * Hit → alias only (and the topic becomes most recent). Miss → topic + alias: the next free alias
 * (count + 1) while the cache fills, afterwards the least recently used entry's alias.
 *
 * The size follows the documented formula `min(cacheMaxSize, CONNACK topicAliasMaximum)`; the
 * reference client ignores `outboundCacheMaxSize` and uses the CONNACK value alone.
 */
class LruOutboundResolver implements OutboundTopicAliasResolver {
  readonly #cacheMaxSize: number;
  #size = 0;
  readonly #entries = new Map<string, LruEntry>();
  #newest: LruEntry | undefined;
  #oldest: LruEntry | undefined;

  constructor(cacheMaxSize: number) {
    this.#cacheMaxSize = sanitizeMaximum(cacheMaxSize);
  }

  reset(maximumToServer: number): void {
    this.#size = Math.min(this.#cacheMaxSize, sanitizeMaximum(maximumToServer));
    this.#entries.clear();
    this.#newest = undefined;
    this.#oldest = undefined;
  }

  resolve(topicName: string, _userAlias: number | undefined): number {
    if (this.#size === 0 || topicName === '') return 0;
    const hit = this.#entries.get(topicName);
    if (hit !== undefined) {
      this.#touch(hit);
      return -hit.alias;
    }
    if (this.#entries.size < this.#size) {
      const entry: LruEntry = { topic: topicName, alias: this.#entries.size + 1, newer: undefined, older: undefined };
      this.#entries.set(topicName, entry);
      this.#pushNewest(entry);
      return entry.alias;
    }
    const evicted = this.#oldest as LruEntry;
    this.#entries.delete(evicted.topic);
    evicted.topic = topicName;
    this.#entries.set(topicName, evicted);
    this.#touch(evicted);
    return evicted.alias;
  }

  /** Makes `entry` (already in the list) the most recently used. */
  #touch(entry: LruEntry): void {
    if (this.#newest === entry) return;
    // unlink: entry is not the newest, so it has a newer neighbour
    (entry.newer as LruEntry).older = entry.older;
    if (entry.older !== undefined) entry.older.newer = entry.newer;
    else this.#oldest = entry.newer;
    entry.newer = undefined;
    entry.older = undefined;
    this.#pushNewest(entry);
  }

  #pushNewest(entry: LruEntry): void {
    entry.older = this.#newest;
    if (this.#newest !== undefined) this.#newest.newer = entry;
    this.#newest = entry;
    if (this.#oldest === undefined) this.#oldest = entry;
  }
}

/** Topic alias maxima are u16; anything else (negative, NaN, fractional) means no aliasing. */
function sanitizeMaximum(value: number): number {
  return Number.isInteger(value) && value > 0 ? Math.min(value, 65_535) : 0;
}

/**
 * The outbound resolver of a behaviour (`Default` behaves as `Disabled`). It starts with no aliases
 * allowed; call `reset(CONNACK topicAliasMaximum)` on each connection.
 *
 * @param cacheMaxSize LRU only: upper bound of the cache (effective size `min(cacheMaxSize, CONNACK maximum)`).
 */
export function createOutboundTopicAliasResolver(
  behavior: OutboundTopicAliasBehaviorType,
  cacheMaxSize: number,
): OutboundTopicAliasResolver {
  switch (behavior) {
    case OutboundTopicAliasBehaviorType.Manual:
      return new ManualOutboundResolver();
    case OutboundTopicAliasBehaviorType.LRU:
      return new LruOutboundResolver(cacheMaxSize);
    default:
      return DISABLED_OUTBOUND_RESOLVER;
  }
}
