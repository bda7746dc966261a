import { QoS } from '@mqtt5/codec';
import {
  IOT_CORE_LIMITS,
  generateIotCoreClientId,
  stripTopicPrefixes,
  topicLevelCount,
  validateConnectForIotCore,
  validatePublishForIotCore,
  validateSubscribeForIotCore,
  validateUnsubscribeForIotCore,
} from './iot-core.js';

const levels = (n: number): string => Array.from({ length: n }, (_, i) => String.fromCharCode(97 + i)).join('/');

describe('IOT_CORE_LIMITS', () => {
  it('holds IoT Core message broker limits', () => {
    expect(IOT_CORE_LIMITS).toEqual({
      maxSubscriptionsPerSubscribe: 8,
      maxTopicLevels: 8,
      maxTopicBytes: 256,
      maxClientIdBytes: 128,
      maxPayloadBytes: 131072,
      publishesPerSecond: 100,
      bytesPerSecond: 524288,
    });
    expect(Object.isFrozen(IOT_CORE_LIMITS)).toBe(true);
  });
});

describe('stripTopicPrefixes', () => {
  it.each([
    ['dont/skip/anything', 'dont/skip/anything'],
    ['', ''],
    ['/', '/'],
    ['$aws', '$aws'],
    ['$aws/rules', '$aws/rules'],
    ['$aws/rules/', '$aws/rules/'],
    ['$aws/rules/rulename', '$aws/rules/rulename'],
    ['$share', '$share'],
    ['$share/', '$share/'],
    ['$share/share-name', '$share/share-name'],
    ['$share//x', '$share//x'],
    ['$share/a+/x', '$share/a+/x'],
    ['$aws/rules/rulename/', ''],
    ['$aws/rules/some-rule/segment1/segment2', 'segment1/segment2'],
    ['$AWS/Rules/some-rule/segment1', 'segment1'],
    ['$share/share-name/segment1/segment2', 'segment1/segment2'],
    ['$share/share-name/$aws/rules/some-rule/segment1/segment2', 'segment1/segment2'],
    ['$aws/rules/r/$share/n/x', '$share/n/x'],
  ])('%p → %p', (topic, stripped) => {
    expect(stripTopicPrefixes(topic)).toBe(stripped);
  });
});

describe('topicLevelCount', () => {
  it.each([
    ['', 1],
    ['hello', 1],
    ['hello/', 2],
    ['hello/world', 2],
    ['a/b/c', 3],
    ['//', 3],
    ['$SYS/bad/no/', 4],
    ['//a//b/c//', 8],
  ])('%p has %p levels', (topic, count) => {
    expect(topicLevelCount(topic)).toBe(count);
  });
});

describe('validatePublishForIotCore', () => {
  const publish = (topicName: string): { topicName: string; qos: QoS } => ({ topicName, qos: QoS.AtLeastOnce });

  it('allows 8 levels and rejects 9, naming the limit', () => {
    expect(validatePublishForIotCore(publish(levels(8)), 0)).toBeUndefined();
    const error = validatePublishForIotCore(publish('a/b/c/d/e/f/g/h/i'), 0);
    expect(error?.code).toBe('AWS_ERROR_MQTT5_PUBLISH_OPTIONS_VALIDATION');
    expect(error?.message).toBe('AWS IoT Core: a topic may have at most 8 levels ("a/b/c/d/e/f/g/h/i" has 9)');
  });

  it('does not count a rules prefix', () => {
    expect(validatePublishForIotCore(publish(`$aws/rules/my-rule/${levels(8)}`), 0)).toBeUndefined();
    expect(validatePublishForIotCore(publish(`$aws/rules/my-rule/${levels(9)}`), 0)?.message).toMatch(/has 9\)/);
  });

  it('allows 256 bytes and rejects 257 (UTF-8 bytes, after the prefix)', () => {
    expect(validatePublishForIotCore(publish('x'.repeat(256)), 0)).toBeUndefined();
    expect(validatePublishForIotCore(publish(`$aws/rules/r/${'x'.repeat(256)}`), 0)).toBeUndefined();
    const error = validatePublishForIotCore(publish('x'.repeat(257)), 0);
    expect(error?.code).toBe('AWS_ERROR_MQTT5_PUBLISH_OPTIONS_VALIDATION');
    expect(error?.message).toBe('AWS IoT Core: a topic may be at most 256 bytes (this one has 257)');
    expect(validatePublishForIotCore(publish('é'.repeat(129)), 0)?.message).toMatch(/has 258/);
  });

  it('allows a 128 KiB payload and rejects one byte more', () => {
    expect(validatePublishForIotCore(publish('t'), 131072)).toBeUndefined();
    const error = validatePublishForIotCore(publish('t'), 131073);
    expect(error?.code).toBe('AWS_ERROR_MQTT5_PUBLISH_OPTIONS_VALIDATION');
    expect(error?.message).toBe('AWS IoT Core: a payload may be at most 131072 bytes (this one has 131073)');
  });
});

describe('validateSubscribeForIotCore', () => {
  const subscribe = (...filters: string[]): { subscriptions: { topicFilter: string; qos: QoS }[] } => ({
    subscriptions: filters.map((topicFilter) => ({ topicFilter, qos: QoS.AtMostOnce })),
  });

  it('allows 8 subscriptions and rejects 9', () => {
    expect(validateSubscribeForIotCore(subscribe(...Array.from({ length: 8 }, (_, i) => `t/${i}`)))).toBeUndefined();
    const error = validateSubscribeForIotCore(subscribe(...Array.from({ length: 9 }, (_, i) => `t/${i}`)));
    expect(error?.code).toBe('AWS_ERROR_MQTT5_SUBSCRIBE_OPTIONS_VALIDATION');
    expect(error?.message).toBe('AWS IoT Core: a SUBSCRIBE may carry at most 8 subscriptions (this one has 9)');
  });

  it('allows filters of 8 levels (after a $share prefix) and rejects 9', () => {
    expect(validateSubscribeForIotCore(subscribe('a/+/c/d/e/f/g/#'))).toBeUndefined();
    expect(validateSubscribeForIotCore(subscribe(`$share/group/${levels(8)}`))).toBeUndefined();
    const error = validateSubscribeForIotCore(subscribe('ok', `$share/group/${levels(9)}`));
    expect(error?.code).toBe('AWS_ERROR_MQTT5_SUBSCRIBE_OPTIONS_VALIDATION');
    expect(error?.message).toMatch(/AWS IoT Core: a topic filter may have at most 8 levels \(.* has 9\)/);
  });

  it('allows filters of 256 bytes and rejects 257', () => {
    expect(validateSubscribeForIotCore(subscribe('x'.repeat(256)))).toBeUndefined();
    expect(validateSubscribeForIotCore(subscribe('x'.repeat(257)))?.message).toBe(
      'AWS IoT Core: a topic filter may be at most 256 bytes (this one has 257)',
    );
  });
});

describe('validateUnsubscribeForIotCore', () => {
  it('allows filters of 8 levels and rejects 9', () => {
    expect(validateUnsubscribeForIotCore({ topicFilters: [levels(8), `$aws/rules/r/${levels(8)}`] })).toBeUndefined();
    const error = validateUnsubscribeForIotCore({ topicFilters: ['a', levels(9)] });
    expect(error?.code).toBe('AWS_ERROR_MQTT5_UNSUBSCRIBE_OPTIONS_VALIDATION');
    expect(error?.message).toMatch(/at most 8 levels \("a\/b\/c\/d\/e\/f\/g\/h\/i" has 9\)/);
  });
});

describe('validateConnectForIotCore', () => {
  it('allows a 128-byte client id and rejects 129 bytes', () => {
    expect(validateConnectForIotCore({ keepAliveIntervalSeconds: 1, clientId: 'x'.repeat(128) })).toBeUndefined();
    expect(validateConnectForIotCore({ keepAliveIntervalSeconds: 1 })).toBeUndefined();
    const error = validateConnectForIotCore({ keepAliveIntervalSeconds: 1, clientId: `${'x'.repeat(127)}é` });
    expect(error?.code).toBe('AWS_ERROR_MQTT5_CONNECT_OPTIONS_VALIDATION');
    expect(error?.message).toBe('AWS IoT Core: a client id may be at most 128 bytes (this one has 129)');
  });
});

describe('generateIotCoreClientId', () => {
  it('is "gen" + 32 lowercase hex digits, different each time', () => {
    const ids = new Set(Array.from({ length: 100 }, () => generateIotCoreClientId()));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^gen[0-9a-f]{32}$/);
  });
});
