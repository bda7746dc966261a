/**
 * Topic name and topic filter syntax (MQTT 5 §4.7), and shared subscriptions (§4.8.2).
 *
 * @packageDocumentation
 */
import { MAXIMUM_STRING_BYTES } from './constants.js';
import { describeInvalidUtf8At, findInvalidMqttUtf8 } from './utf8.js';

const SLASH = 0x2f;
const PLUS = 0x2b;
const HASH = 0x23;
const SHARE_PREFIX = '$share/';

/** A shared subscription's parts: `$share/<shareName>/<topicFilter>`. */
export interface SharedSubscription {
  /** The share name: non-empty, without `/`, `+` or `#`. */
  shareName: string;
  /** The topic filter after the share name (may itself contain wildcards). */
  topicFilter: string;
}

/**
 * Splits a shared subscription filter `$share/<shareName>/<topicFilter>` into its parts, or returns
 * `undefined` when `filter` is not a well-formed shared subscription (no `$share/` prefix, an empty
 * share name or one containing `+` or `#`, or nothing after the share name).
 */
export function parseSharedSubscription(filter: string): SharedSubscription | undefined {
  if (typeof filter !== 'string' || !filter.startsWith(SHARE_PREFIX)) return undefined;
  const slash = filter.indexOf('/', SHARE_PREFIX.length);
  if (slash <= SHARE_PREFIX.length || slash === filter.length - 1) return undefined;
  const shareName = filter.slice(SHARE_PREFIX.length, slash);
  if (shareName.includes('+') || shareName.includes('#')) return undefined;
  return { shareName, topicFilter: filter.slice(slash + 1) };
}

/** True when `filter` is a well-formed shared subscription filter (`$share/<shareName>/<topicFilter>`). */
export function isSharedSubscription(filter: unknown): boolean {
  return typeof filter === 'string' && parseSharedSubscription(filter) !== undefined;
}

/**
 * True when `topic` may be the topic name of a PUBLISH: a non-empty string of at most 65535 UTF-8
 * bytes, valid MQTT UTF-8, without the wildcards `+` and `#`.
 */
export function isValidTopicName(topic: unknown): boolean {
  return typeof topic === 'string' && topicNameProblem(topic) === undefined;
}

/**
 * True when `filter` may be subscribed to: a non-empty string of at most 65535 UTF-8 bytes, valid
 * MQTT UTF-8, where `+` occupies a whole level, `#` occupies the whole last level, and a filter that
 * starts with `$share/` is a well-formed shared subscription.
 */
export function isValidTopicFilter(filter: unknown): boolean {
  return typeof filter === 'string' && topicFilterProblem(filter) === undefined;
}

/** @internal What is wrong with a string's length and MQTT UTF-8 encoding, or undefined. */
export function stringProblem(s: string): string | undefined {
  // A UTF-16 code unit takes at most 3 UTF-8 bytes: only long strings need measuring.
  if (s.length > MAXIMUM_STRING_BYTES / 3) {
    const bytes = Buffer.byteLength(s);
    if (bytes > MAXIMUM_STRING_BYTES) return `must be at most ${MAXIMUM_STRING_BYTES} UTF-8 bytes, got ${bytes}`;
  }
  const bad = findInvalidMqttUtf8(s);
  if (bad !== -1) return `is not valid MQTT UTF-8 (${describeInvalidUtf8At(s, bad)})`;
  return undefined;
}

/** @internal What is wrong with a topic name (outbound rules), or undefined. */
export function topicNameProblem(topic: string): string | undefined {
  if (topic.length === 0) return 'must not be empty';
  return stringProblem(topic) ?? topicNameSyntaxProblem(topic);
}

/** @internal What is wrong with a topic filter (outbound rules), or undefined. */
export function topicFilterProblem(filter: string): string | undefined {
  if (filter.length === 0) return 'must not be empty';
  return stringProblem(filter) ?? topicFilterSyntaxProblem(filter);
}

/** @internal Wildcards in a topic name, or undefined (the string itself is known to be well-formed). */
export function topicNameSyntaxProblem(topic: string): string | undefined {
  for (let i = 0; i < topic.length; i++) {
    const c = topic.charCodeAt(i);
    if (c === PLUS || c === HASH) {
      return `must not contain the wildcard '${c === PLUS ? '+' : '#'}' (at index ${i}): ${quote(topic)}`;
    }
  }
  return undefined;
}

/**
 * @internal Wildcard placement and shared-subscription structure of a non-empty topic filter, or
 * undefined (the string itself is known to be well-formed).
 */
export function topicFilterSyntaxProblem(filter: string): string | undefined {
  if (filter.length === 0) return 'must not be empty';
  let body = filter;
  if (filter.startsWith(SHARE_PREFIX)) {
    const shared = parseSharedSubscription(filter);
    if (shared === undefined) {
      return `is not a valid shared subscription (expected $share/<ShareName>/<TopicFilter> with a non-empty ShareName without '/', '+' or '#'): ${quote(filter)}`;
    }
    body = shared.topicFilter;
  }
  const n = body.length;
  for (let i = 0; i < n; i++) {
    const c = body.charCodeAt(i);
    if (c === PLUS) {
      if ((i > 0 && body.charCodeAt(i - 1) !== SLASH) || (i + 1 < n && body.charCodeAt(i + 1) !== SLASH)) {
        return `has a '+' that does not occupy a whole level: ${quote(filter)}`;
      }
    } else if (c === HASH) {
      if ((i > 0 && body.charCodeAt(i - 1) !== SLASH) || i !== n - 1) {
        return `has a '#' that is not the whole last level: ${quote(filter)}`;
      }
    }
  }
  return undefined;
}

/** @internal A topic for an error message: JSON-quoted, cut at 80 characters. */
export function quote(s: string): string {
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 80)}…` : s);
}
