/**
 * AWS IoT Core limits applied with `ClientExtendedValidationAndFlowControl.AwsIotCoreDefaults`
 * (https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits).
 *
 * @packageDocumentation
 */
import { randomUUID } from 'node:crypto';
import {
  type ConnectPacket,
  type PublishPacket,
  type SubscribePacket,
  type UnsubscribePacket,
  Mqtt5Error,
} from '@mqtt5/codec';

/** AWS IoT Core message broker limits the client enforces with `AwsIotCoreDefaults`. */
export const IOT_CORE_LIMITS = Object.freeze({
  /** Subscriptions in one SUBSCRIBE. */
  maxSubscriptionsPerSubscribe: 8,
  /** Levels of a topic or topic filter, not counting a `$share/<name>/` or `$aws/rules/<rule>/` prefix. */
  maxTopicLevels: 8,
  /** UTF-8 bytes of a topic or topic filter, not counting those prefixes. */
  maxTopicBytes: 256,
  /** UTF-8 bytes of a client id. */
  maxClientIdBytes: 128,
  /** Bytes of a PUBLISH payload (128 KiB). */
  maxPayloadBytes: 131072,
  /** Outbound PUBLISHes per second and connection. */
  publishesPerSecond: 100,
  /** Outbound bytes per second and connection (512 KiB). */
  bytesPerSecond: 524288,
} as const);

const RULES_PREFIX = '$aws/rules/';
const SHARE_PREFIX = '$share/';

/**
 * The part of a topic or filter IoT Core counts against its limits: strips a `$share/<name>/`
 * prefix (share name non-empty, without `+`/`#`), then a case-insensitive `$aws/rules/<rule-name>/`
 * prefix. A prefix with nothing after its name (`$share/name`, `$aws/rules/rule`) is not stripped.
 */
export function stripTopicPrefixes(topic: string): string {
  let rest = topic;
  if (rest.startsWith(SHARE_PREFIX)) {
    const end = rest.indexOf('/', SHARE_PREFIX.length);
    const shareName = end < 0 ? '' : rest.slice(SHARE_PREFIX.length, end);
    if (shareName.length > 0 && !shareName.includes('+') && !shareName.includes('#')) rest = rest.slice(end + 1);
  }
  if (rest.length > RULES_PREFIX.length && rest.slice(0, RULES_PREFIX.length).toLowerCase() === RULES_PREFIX) {
    const end = rest.indexOf('/', RULES_PREFIX.length);
    if (end >= 0) rest = rest.slice(end + 1);
  }
  return rest;
}

/** Number of `/`-separated levels, empty levels included: `""` → 1, `"//a//b/c//"` → 8. */
export function topicLevelCount(topic: string): number {
  let count = 1;
  for (let i = topic.indexOf('/'); i >= 0; i = topic.indexOf('/', i + 1)) count++;
  return count;
}

function checkTopic(topic: string, what: string, checkBytes: boolean): string | undefined {
  const counted = stripTopicPrefixes(topic);
  const levels = topicLevelCount(counted);
  if (levels > IOT_CORE_LIMITS.maxTopicLevels) {
    return `AWS IoT Core: a ${what} may have at most ${IOT_CORE_LIMITS.maxTopicLevels} levels (${JSON.stringify(topic)} has ${levels})`;
  }
  if (checkBytes) {
    const bytes = Buffer.byteLength(counted, 'utf8');
    if (bytes > IOT_CORE_LIMITS.maxTopicBytes) {
      return `AWS IoT Core: a ${what} may be at most ${IOT_CORE_LIMITS.maxTopicBytes} bytes (this one has ${bytes})`;
    }
  }
  return undefined;
}

/**
 * Checks a PUBLISH against IoT Core's limits: topic at most 8 levels and 256 bytes (after
 * {@link stripTopicPrefixes}), payload at most 128 KiB.
 *
 * @param payloadByteLength the encoded payload size in bytes.
 * @returns an `AWS_ERROR_MQTT5_PUBLISH_OPTIONS_VALIDATION` error naming the limit, or undefined.
 */
export function validatePublishForIotCore(packet: PublishPacket, payloadByteLength: number): Mqtt5Error | undefined {
  const topicError = checkTopic(packet.topicName, 'topic', true);
  if (topicError !== undefined) return new Mqtt5Error('AWS_ERROR_MQTT5_PUBLISH_OPTIONS_VALIDATION', topicError);
  if (payloadByteLength > IOT_CORE_LIMITS.maxPayloadBytes) {
    return new Mqtt5Error(
      'AWS_ERROR_MQTT5_PUBLISH_OPTIONS_VALIDATION',
      `AWS IoT Core: a payload may be at most ${IOT_CORE_LIMITS.maxPayloadBytes} bytes (this one has ${payloadByteLength})`,
    );
  }
  return undefined;
}

/**
 * Checks a SUBSCRIBE against IoT Core's limits: at most 8 subscriptions, each filter at most 8 levels
 * and 256 bytes (after {@link stripTopicPrefixes}).
 *
 * @returns an `AWS_ERROR_MQTT5_SUBSCRIBE_OPTIONS_VALIDATION` error naming the limit, or undefined.
 */
export function validateSubscribeForIotCore(packet: SubscribePacket): Mqtt5Error | undefined {
  const count = packet.subscriptions.length;
  if (count > IOT_CORE_LIMITS.maxSubscriptionsPerSubscribe) {
    return new Mqtt5Error(
      'AWS_ERROR_MQTT5_SUBSCRIBE_OPTIONS_VALIDATION',
      `AWS IoT Core: a SUBSCRIBE may carry at most ${IOT_CORE_LIMITS.maxSubscriptionsPerSubscribe} subscriptions (this one has ${count})`,
    );
  }
  for (const subscription of packet.subscriptions) {
    const error = checkTopic(subscription.topicFilter, 'topic filter', true);
    if (error !== undefined) return new Mqtt5Error('AWS_ERROR_MQTT5_SUBSCRIBE_OPTIONS_VALIDATION', error);
  }
  return undefined;
}

/**
 * Checks an UNSUBSCRIBE against IoT Core's limits: each filter at most 8 levels (after
 * {@link stripTopicPrefixes}).
 *
 * @returns an `AWS_ERROR_MQTT5_UNSUBSCRIBE_OPTIONS_VALIDATION` error naming the limit, or undefined.
 */
export function validateUnsubscribeForIotCore(packet: UnsubscribePacket): Mqtt5Error | undefined {
  for (const filter of packet.topicFilters) {
    const error = checkTopic(filter, 'topic filter', false);
    if (error !== undefined) return new Mqtt5Error('AWS_ERROR_MQTT5_UNSUBSCRIBE_OPTIONS_VALIDATION', error);
  }
  return undefined;
}

/**
 * Checks a CONNECT against IoT Core's limits: client id at most 128 bytes.
 *
 * @returns an `AWS_ERROR_MQTT5_CONNECT_OPTIONS_VALIDATION` error naming the limit, or undefined.
 */
export function validateConnectForIotCore(connect: ConnectPacket): Mqtt5Error | undefined {
  const bytes = connect.clientId === undefined ? 0 : Buffer.byteLength(connect.clientId, 'utf8');
  if (bytes > IOT_CORE_LIMITS.maxClientIdBytes) {
    return new Mqtt5Error(
      'AWS_ERROR_MQTT5_CONNECT_OPTIONS_VALIDATION',
      `AWS IoT Core: a client id may be at most ${IOT_CORE_LIMITS.maxClientIdBytes} bytes (this one has ${bytes})`,
    );
  }
  return undefined;
}

/**
 * A client id for IoT Core when none is configured: `"gen"` + 32 lowercase hex digits (35 chars).
 * IoT Core's own assigned ids (`$GEN/…`) cannot be reused on reconnect, so the client makes one up
 * once, at construction, and keeps it.
 */
export function generateIotCoreClientId(): string {
  return `gen${randomUUID().replaceAll('-', '')}`;
}
