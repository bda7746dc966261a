import { isValidReasonCode } from './constants.js';
import { Mqtt5Error } from './errors.js';
import { PacketType } from './packets.js';
import { toBinaryBuffer, toPayloadBuffer } from './payload.js';
import { isSharedSubscription, isValidTopicFilter, isValidTopicName, parseSharedSubscription } from './topics.js';
import { findInvalidMqttUtf8, isValidMqttUtf8 } from './utf8.js';

describe('topic names and filters', () => {
  it.each([
    ['a', true],
    ['/', true],
    ['a//b/', true],
    [' ', true],
    ['$SYS/x', true],
    ['ü/€/😀', true],
    ['a'.repeat(65535), true],
    ['a'.repeat(65536), false],
    ['', false],
    ['a/+', false],
    ['#', false],
    ['a\u0000', false],
    ['a\u0007', false],
    ['\ud800', false],
  ])('isValidTopicName(%j) is %s', (topic, valid) => {
    expect(isValidTopicName(topic)).toBe(valid);
  });

  it.each([
    ['#', true],
    ['+', true],
    ['/', true],
    ['a/#', true],
    ['+/+/#', true],
    ['a/+/b', true],
    ['/+/', true],
    ['$share/g/a/#', true],
    ['$share/g/#', true],
    ['$sharex/a', true],
    ['$share', true],
    ['', false],
    ['a#', false],
    ['#/a', false],
    ['a/#/', false],
    ['a+', false],
    ['+a', false],
    ['a/b+/c', false],
    ['$share/g', false],
    ['$share/g/', false],
    ['$share//a', false],
    ['$share/a+/b', false],
    ['$share/a#/b', false],
    ['$share/g/a#', false],
    ['a\u0000', false],
    ['a'.repeat(65536), false],
  ])('isValidTopicFilter(%j) is %s', (filter, valid) => {
    expect(isValidTopicFilter(filter)).toBe(valid);
  });

  it('treats non-strings as invalid', () => {
    for (const v of [undefined, null, 1, {}, ['a']]) {
      expect(isValidTopicName(v)).toBe(false);
      expect(isValidTopicFilter(v)).toBe(false);
      expect(isSharedSubscription(v)).toBe(false);
      expect(isValidMqttUtf8(v)).toBe(false);
    }
  });

  it('parses shared subscriptions', () => {
    expect(parseSharedSubscription('$share/group/a/+/#')).toEqual({ shareName: 'group', topicFilter: 'a/+/#' });
    expect(parseSharedSubscription('$share/g//')).toEqual({ shareName: 'g', topicFilter: '/' });
    for (const f of ['a/b', '$share/g', '$share/g/', '$share//a', '$share/g+/a', '$SHARE/g/a', '$share']) {
      expect(parseSharedSubscription(f)).toBeUndefined();
      expect(isSharedSubscription(f)).toBe(false);
    }
    expect(isSharedSubscription('$share/g/a')).toBe(true);
  });
});

describe('MQTT UTF-8', () => {
  it.each([
    ['', -1],
    ['plain ASCII ~', -1],
    ['\u00a0\u07ff\u0800\ufdcf\ufdf0\ufffd', -1],
    ['😀\u{10fffd}', -1],
    ['ab\u0000', 2],
    ['\u001f', 0],
    ['a\u007f', 1],
    ['\u0080', 0],
    ['\u009f', 0],
    ['x\ufdd0', 1],
    ['\ufdef', 0],
    ['\ufffe', 0],
    ['\uffff', 0],
    ['😀\u{1fffe}', 2],
    ['\u{10ffff}', 0],
    ['a\ud83d', 1],
    ['\ude00x', 0],
  ])('findInvalidMqttUtf8(%j) is %i', (s, index) => {
    expect(findInvalidMqttUtf8(s)).toBe(index);
    expect(isValidMqttUtf8(s)).toBe(index === -1);
  });
});

describe('reason codes', () => {
  it('knows the valid codes of each packet type', () => {
    expect(isValidReasonCode(PacketType.Puback, 0x10)).toBe(true);
    expect(isValidReasonCode(PacketType.Puback, 0x11)).toBe(false);
    expect(isValidReasonCode(PacketType.Unsuback, 0x11)).toBe(true);
    expect(isValidReasonCode(PacketType.Connack, 5)).toBe(true);
    expect(isValidReasonCode(PacketType.Connack, 6)).toBe(false);
    expect(isValidReasonCode(PacketType.Disconnect, 4)).toBe(true);
    expect(isValidReasonCode(PacketType.Disconnect, 256)).toBe(false);
    expect(isValidReasonCode(PacketType.Disconnect, 1.5)).toBe(false);
    expect(isValidReasonCode(PacketType.Pingreq, 0)).toBe(false);
  });
});

describe('payload normalisation', () => {
  it('views bytes without copying', () => {
    const buf = Buffer.from('abc');
    expect(toPayloadBuffer(buf)).toBe(buf);
    const ab = new ArrayBuffer(8);
    const u16 = new Uint16Array(ab, 2, 2);
    const view = toPayloadBuffer(u16);
    expect(view.buffer).toBe(ab);
    expect([view.byteOffset, view.length]).toEqual([2, 4]);
    expect(toPayloadBuffer(ab).buffer).toBe(ab);
    expect(toPayloadBuffer(new DataView(ab, 1, 3)).length).toBe(3);
    expect(toBinaryBuffer(u16).buffer).toBe(ab);
  });

  it('encodes strings and objects, and empties undefined and null', () => {
    expect(toPayloadBuffer('é')).toEqual(Buffer.from([0xc3, 0xa9]));
    expect(toPayloadBuffer({ a: 1 })).toEqual(Buffer.from('{"a":1}'));
    expect(toPayloadBuffer([1, 2])).toEqual(Buffer.from('[1,2]'));
    expect(toPayloadBuffer(undefined)).toHaveLength(0);
    expect(toPayloadBuffer(null)).toHaveLength(0);
    expect(toBinaryBuffer('pw')).toEqual(Buffer.from('pw'));
  });

  it('refuses what it cannot send, with a validation error', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const [payload, message] of [
      [5, 'publish: payload must be a string, bytes or an object, got number'],
      [true, 'publish: payload must be a string, bytes or an object, got boolean'],
      [cyclic, 'publish: payload could not be serialised with JSON.stringify: Converting circular structure to JSON'],
      [
        { toJSON: () => undefined },
        'publish: payload object serialised to nothing (JSON.stringify returned undefined)',
      ],
    ] as const) {
      let error: unknown;
      try {
        toPayloadBuffer(payload as object);
      } catch (e) {
        error = e;
      }
      expect(Mqtt5Error.isInstance(error)).toBe(true);
      expect((error as Mqtt5Error).code).toBe('AWS_ERROR_MQTT5_PUBLISH_OPTIONS_VALIDATION');
      expect((error as Mqtt5Error).message.startsWith(message)).toBe(true);
    }
    expect(() => toBinaryBuffer(5 as unknown as string)).toThrow(
      'binary data must be a string, Uint8Array, ArrayBufferView or ArrayBuffer, got number',
    );
  });
});
