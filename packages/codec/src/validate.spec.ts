import fc from 'fast-check';
import { type Mqtt5ErrorCode, Mqtt5Error } from './errors.js';
import {
  validateConnect,
  validateDisconnect,
  validatePublish,
  validateSubscribe,
  validateUnsubscribe,
  validateUserProperties,
} from './validate.js';

type Validator = (packet: unknown) => Mqtt5Error | undefined;
/** [rule, validator, packet, undefined when valid | [code, exact message]] */
type Case = [string, Validator, unknown, undefined | [Mqtt5ErrorCode, string]];

const PUB: Mqtt5ErrorCode = 'AWS_ERROR_MQTT5_PUBLISH_OPTIONS_VALIDATION';
const SUB: Mqtt5ErrorCode = 'AWS_ERROR_MQTT5_SUBSCRIBE_OPTIONS_VALIDATION';
const UNSUB: Mqtt5ErrorCode = 'AWS_ERROR_MQTT5_UNSUBSCRIBE_OPTIONS_VALIDATION';
const DISC: Mqtt5ErrorCode = 'AWS_ERROR_MQTT5_DISCONNECT_OPTIONS_VALIDATION';
const CONN: Mqtt5ErrorCode = 'AWS_ERROR_MQTT5_CONNECT_OPTIONS_VALIDATION';
const UP: Mqtt5ErrorCode = 'AWS_ERROR_MQTT5_USER_PROPERTY_VALIDATION';

const s = (n: number, c = 'a'): string => c.repeat(n);
const pub = (o: object = {}): object => ({ topicName: 'a/b', qos: 1, ...o });
const sub = (o: object = {}, first: object = {}): object => ({
  subscriptions: [{ topicFilter: 'a/+', qos: 1, ...first }],
  ...o,
});
const unsub = (o: object = {}): object => ({ topicFilters: ['a/#'], ...o });
const disc = (o: object = {}): object => ({ reasonCode: 0, ...o });
const conn = (o: object = {}): object => ({ keepAliveIntervalSeconds: 60, ...o });
const ups = (n: number): object[] => Array.from({ length: n }, (_, i) => ({ name: `n${i}`, value: 'v' }));

const P = validatePublish as Validator;
const S = validateSubscribe as Validator;
const U = validateUnsubscribe as Validator;
const D = validateDisconnect as Validator;
const C = validateConnect as Validator;

const CASES: Case[] = [
  // ---- PUBLISH
  ['publish: a plain object', P, pub(), undefined],
  ['publish: null', P, null, [PUB, 'publish: packet must be an object, got null']],
  ['publish: a string', P, 'a/b', [PUB, 'publish: packet must be an object, got string "a/b"']],
  ['publish: type 3', P, pub({ type: 3 }), undefined],
  ['publish: type 4', P, pub({ type: 4 }), [PUB, 'publish: type must be PacketType.Publish (3) or unset, got 4']],
  ['publish: qos 2', P, pub({ qos: 2 }), undefined],
  ['publish: qos 3', P, pub({ qos: 3 }), [PUB, 'publish: qos must be 0, 1 or 2, got 3']],
  ['publish: qos "1"', P, pub({ qos: '1' }), [PUB, 'publish: qos must be 0, 1 or 2, got string "1"']],
  ['publish: qos missing', P, { topicName: 'a' }, [PUB, 'publish: qos must be 0, 1 or 2, got undefined']],
  ['publish: topic of 65535 bytes', P, pub({ topicName: s(65535) }), undefined],
  [
    'publish: topic of 65536 bytes',
    P,
    pub({ topicName: s(65536) }),
    [PUB, 'publish: topicName must be at most 65535 UTF-8 bytes, got 65536'],
  ],
  [
    'publish: topic of 21846 3-byte characters',
    P,
    pub({ topicName: s(21846, '€') }),
    [PUB, 'publish: topicName must be at most 65535 UTF-8 bytes, got 65538'],
  ],
  ['publish: empty topic', P, pub({ topicName: '' }), [PUB, 'publish: topicName must not be empty']],
  [
    'publish: empty topic with a topic alias',
    P,
    pub({ topicName: '', topicAlias: 1 }),
    [PUB, 'publish: topicName must not be empty'],
  ],
  ['publish: topic not a string', P, pub({ topicName: 5 }), [PUB, 'publish: topicName must be a string, got 5']],
  [
    'publish: topic with +',
    P,
    pub({ topicName: 'a/+' }),
    [PUB, `publish: topicName must not contain the wildcard '+' (at index 2): "a/+"`],
  ],
  [
    'publish: topic with #',
    P,
    pub({ topicName: '#' }),
    [PUB, `publish: topicName must not contain the wildcard '#' (at index 0): "#"`],
  ],
  [
    'publish: topic with U+0000',
    P,
    pub({ topicName: 'a\u0000' }),
    [PUB, 'publish: topicName is not valid MQTT UTF-8 (U+0000 at index 1)'],
  ],
  [
    'publish: topic with U+001F',
    P,
    pub({ topicName: 'a\u001f' }),
    [PUB, 'publish: topicName is not valid MQTT UTF-8 (control character U+001F at index 1)'],
  ],
  ['publish: topic with U+0020 and U+007E', P, pub({ topicName: ' ~' }), undefined],
  [
    'publish: topic with U+007F',
    P,
    pub({ topicName: '\u007f' }),
    [PUB, 'publish: topicName is not valid MQTT UTF-8 (control character U+007F at index 0)'],
  ],
  [
    'publish: topic with U+009F',
    P,
    pub({ topicName: '\u009f' }),
    [PUB, 'publish: topicName is not valid MQTT UTF-8 (control character U+009F at index 0)'],
  ],
  ['publish: topic with U+00A0 and U+FDCF', P, pub({ topicName: '\u00a0\ufdcf' }), undefined],
  [
    'publish: topic with U+FDD0',
    P,
    pub({ topicName: '\ufdd0' }),
    [PUB, 'publish: topicName is not valid MQTT UTF-8 (non-character U+FDD0 at index 0)'],
  ],
  [
    'publish: topic with U+FDEF',
    P,
    pub({ topicName: '\ufdef' }),
    [PUB, 'publish: topicName is not valid MQTT UTF-8 (non-character U+FDEF at index 0)'],
  ],
  ['publish: topic with U+FDF0 and U+FFFD', P, pub({ topicName: '\ufdf0\ufffd' }), undefined],
  [
    'publish: topic with U+FFFE',
    P,
    pub({ topicName: '\ufffe' }),
    [PUB, 'publish: topicName is not valid MQTT UTF-8 (non-character U+FFFE at index 0)'],
  ],
  [
    'publish: topic with U+1FFFF',
    P,
    pub({ topicName: 'a\u{1ffff}' }),
    [PUB, 'publish: topicName is not valid MQTT UTF-8 (non-character U+1FFFF at index 1)'],
  ],
  ['publish: topic with U+1FFFD (an emoji-range pair)', P, pub({ topicName: '\u{1fffd}😀' }), undefined],
  [
    'publish: topic with an unpaired high surrogate',
    P,
    pub({ topicName: 'a\ud800b' }),
    [PUB, 'publish: topicName is not valid MQTT UTF-8 (unpaired surrogate U+D800 at index 1)'],
  ],
  [
    'publish: topic with an unpaired low surrogate',
    P,
    pub({ topicName: '\udc00' }),
    [PUB, 'publish: topicName is not valid MQTT UTF-8 (unpaired surrogate U+DC00 at index 0)'],
  ],
  ['publish: retain true', P, pub({ retain: true }), undefined],
  ['publish: retain "yes"', P, pub({ retain: 'yes' }), [PUB, 'publish: retain must be a boolean, got string "yes"']],
  ['publish: dup on QoS 1', P, pub({ dup: true }), undefined],
  ['publish: dup on QoS 0', P, pub({ qos: 0, dup: true }), [PUB, 'publish: dup must not be set on a QoS 0 publish']],
  ['publish: dup 1', P, pub({ dup: 1 }), [PUB, 'publish: dup must be a boolean, got 1']],
  ['publish: packetId 0', P, pub({ packetId: 0 }), undefined],
  [
    'publish: packetId 1',
    P,
    pub({ packetId: 1 }),
    [PUB, 'publish: packetId is managed by the client and must be left unset, got 1'],
  ],
  ['publish: payload null', P, pub({ payload: null }), undefined],
  [
    'publish: payload number',
    P,
    pub({ payload: 5 }),
    [PUB, 'publish: payload must be a string, bytes or an object, got 5'],
  ],
  [
    'publish: payload boolean',
    P,
    pub({ payload: true }),
    [PUB, 'publish: payload must be a string, bytes or an object, got true'],
  ],
  [
    'publish: payload function',
    P,
    pub({ payload: () => 1 }),
    [PUB, 'publish: payload must be a string, bytes or an object, got a function'],
  ],
  [
    'publish: payloadFormat 1 with a UTF-8 string (newlines allowed)',
    P,
    pub({ payloadFormat: 1, payload: '{\n "é": 1\n}' }),
    undefined,
  ],
  ['publish: payloadFormat 1 with UTF-8 bytes', P, pub({ payloadFormat: 1, payload: Buffer.from('€') }), undefined],
  [
    'publish: payloadFormat 2',
    P,
    pub({ payloadFormat: 2 }),
    [PUB, 'publish: payloadFormat must be 0 (Bytes) or 1 (Utf8), got 2'],
  ],
  [
    'publish: payloadFormat 1 with invalid UTF-8 bytes',
    P,
    pub({ payloadFormat: 1, payload: Buffer.from([0xc3, 0x28]) }),
    [PUB, 'publish: payloadFormat is Utf8 but the payload is not well-formed UTF-8'],
  ],
  [
    'publish: payloadFormat 1 with an ArrayBuffer of invalid UTF-8',
    P,
    pub({ payloadFormat: 1, payload: new Uint8Array([0xff]).buffer }),
    [PUB, 'publish: payloadFormat is Utf8 but the payload is not well-formed UTF-8'],
  ],
  [
    'publish: payloadFormat 1 with an unpaired surrogate',
    P,
    pub({ payloadFormat: 1, payload: 'a\udfff' }),
    [PUB, 'publish: payloadFormat is Utf8 but the payload string has an unpaired surrogate'],
  ],
  [
    'publish: payloadFormat 0 with invalid UTF-8 bytes',
    P,
    pub({ payloadFormat: 0, payload: Buffer.from([0xff]) }),
    undefined,
  ],
  ['publish: messageExpiryIntervalSeconds 4294967295', P, pub({ messageExpiryIntervalSeconds: 4294967295 }), undefined],
  [
    'publish: messageExpiryIntervalSeconds 4294967296',
    P,
    pub({ messageExpiryIntervalSeconds: 4294967296 }),
    [PUB, 'publish: messageExpiryIntervalSeconds must be an integer 0..4294967295, got 4294967296'],
  ],
  [
    'publish: messageExpiryIntervalSeconds -5',
    P,
    pub({ messageExpiryIntervalSeconds: -5 }),
    [PUB, 'publish: messageExpiryIntervalSeconds must be an integer 0..4294967295, got -5'],
  ],
  [
    'publish: messageExpiryIntervalSeconds 1.5',
    P,
    pub({ messageExpiryIntervalSeconds: 1.5 }),
    [PUB, 'publish: messageExpiryIntervalSeconds must be an integer 0..4294967295, got 1.5'],
  ],
  ['publish: topicAlias 1 and 65535', P, pub({ topicAlias: 65535 }), undefined],
  ['publish: topicAlias 0', P, pub({ topicAlias: 0 }), [PUB, 'publish: topicAlias must be an integer 1..65535, got 0']],
  [
    'publish: topicAlias 65536',
    P,
    pub({ topicAlias: 65536 }),
    [PUB, 'publish: topicAlias must be an integer 1..65535, got 65536'],
  ],
  ['publish: responseTopic', P, pub({ responseTopic: 'reply/x' }), undefined],
  [
    'publish: responseTopic with a wildcard',
    P,
    pub({ responseTopic: 'reply/#' }),
    [PUB, `publish: responseTopic must not contain the wildcard '#' (at index 6): "reply/#"`],
  ],
  ['publish: empty responseTopic', P, pub({ responseTopic: '' }), [PUB, 'publish: responseTopic must not be empty']],
  [
    'publish: responseTopic of 65536 bytes',
    P,
    pub({ responseTopic: s(65536) }),
    [PUB, 'publish: responseTopic must be at most 65535 UTF-8 bytes, got 65536'],
  ],
  ['publish: correlationData of 65535 bytes', P, pub({ correlationData: Buffer.alloc(65535) }), undefined],
  [
    'publish: correlationData of 65536 bytes',
    P,
    pub({ correlationData: Buffer.alloc(65536) }),
    [PUB, 'publish: correlationData must be at most 65535 bytes, got 65536'],
  ],
  [
    'publish: correlationData string of 65536 bytes',
    P,
    pub({ correlationData: s(32768, 'é') }),
    [PUB, 'publish: correlationData must be at most 65535 bytes, got 65536'],
  ],
  [
    'publish: correlationData number',
    P,
    pub({ correlationData: 7 }),
    [PUB, 'publish: correlationData must be a string, Uint8Array, ArrayBufferView or ArrayBuffer, got number'],
  ],
  ['publish: contentType of 65535 bytes', P, pub({ contentType: s(65535) }), undefined],
  [
    'publish: contentType of 65536 bytes',
    P,
    pub({ contentType: s(65536) }),
    [PUB, 'publish: contentType must be at most 65535 UTF-8 bytes, got 65536'],
  ],
  [
    'publish: contentType with U+0000',
    P,
    pub({ contentType: '\u0000' }),
    [PUB, 'publish: contentType is not valid MQTT UTF-8 (U+0000 at index 0)'],
  ],
  ['publish: subscriptionIdentifiers empty', P, pub({ subscriptionIdentifiers: [] }), undefined],
  [
    'publish: subscriptionIdentifiers [1]',
    P,
    pub({ subscriptionIdentifiers: [1] }),
    [PUB, 'publish: subscriptionIdentifiers are set by the server on delivery and must not be sent'],
  ],
  ['publish: 1024 user properties', P, pub({ userProperties: ups(1024) }), undefined],
  [
    'publish: 1025 user properties',
    P,
    pub({ userProperties: ups(1025) }),
    [UP, 'publish: userProperties has 1025 entries, at most 1024 are allowed'],
  ],
  [
    'publish: userProperties not an array',
    P,
    pub({ userProperties: { a: 'b' } }),
    [UP, 'publish: userProperties must be an array, got an object'],
  ],
  [
    'publish: a user property null',
    P,
    pub({ userProperties: [null] }),
    [UP, 'publish: userProperties[0] must be an object, got null'],
  ],
  [
    'publish: a user property name number',
    P,
    pub({ userProperties: [{ name: 1, value: 'v' }] }),
    [UP, 'publish: userProperties[0].name must be a string, got number'],
  ],
  [
    'publish: a user property value of 65535 bytes',
    P,
    pub({ userProperties: [{ name: '', value: s(65535) }] }),
    undefined,
  ],
  [
    'publish: a user property value of 65536 bytes',
    P,
    pub({ userProperties: [{ name: '', value: s(65536) }] }),
    [UP, 'publish: userProperties[0].value must be at most 65535 UTF-8 bytes, got 65536'],
  ],
  [
    'publish: a user property value with a control character (value not echoed)',
    P,
    pub({ userProperties: [{ name: 'k', value: 'secret\u0001' }] }),
    [UP, 'publish: userProperties[0].value is not valid MQTT UTF-8 (control character U+0001 at index 6)'],
  ],
  // ---- SUBSCRIBE
  ['subscribe: a plain object', S, sub(), undefined],
  ['subscribe: undefined', S, undefined, [SUB, 'subscribe: packet must be an object, got undefined']],
  [
    'subscribe: type 10',
    S,
    sub({ type: 10 }),
    [SUB, 'subscribe: type must be PacketType.Subscribe (8) or unset, got 10'],
  ],
  ['subscribe: no subscriptions', S, {}, [SUB, 'subscribe: subscriptions must be an array, got undefined']],
  ['subscribe: empty subscriptions', S, { subscriptions: [] }, [SUB, 'subscribe: subscriptions must not be empty']],
  [
    'subscribe: 1024 subscriptions',
    S,
    { subscriptions: Array.from({ length: 1024 }, () => ({ topicFilter: 'a', qos: 0 })) },
    undefined,
  ],
  [
    'subscribe: 1025 subscriptions',
    S,
    { subscriptions: Array.from({ length: 1025 }, () => ({ topicFilter: 'a', qos: 0 })) },
    [SUB, 'subscribe: subscriptions has 1025 entries, at most 1024 are allowed'],
  ],
  [
    'subscribe: a subscription that is a string',
    S,
    { subscriptions: ['a'] },
    [SUB, 'subscribe: subscriptions[0] must be an object, got string "a"'],
  ],
  [
    'subscribe: filters #, +, a/+/#, /, $share/g/#',
    S,
    { subscriptions: ['#', '+', 'a/+/#', '/', '$share/g/#', '+/+'].map((topicFilter) => ({ topicFilter, qos: 0 })) },
    undefined,
  ],
  [
    'subscribe: an empty filter',
    S,
    sub({}, { topicFilter: '' }),
    [SUB, 'subscribe: subscriptions[0].topicFilter must not be empty'],
  ],
  [
    'subscribe: filter a/#/b',
    S,
    sub({}, { topicFilter: 'a/#/b' }),
    [SUB, `subscribe: subscriptions[0].topicFilter has a '#' that is not the whole last level: "a/#/b"`],
  ],
  [
    'subscribe: filter a#',
    S,
    sub({}, { topicFilter: 'a#' }),
    [SUB, `subscribe: subscriptions[0].topicFilter has a '#' that is not the whole last level: "a#"`],
  ],
  [
    'subscribe: filter a+/b',
    S,
    sub({}, { topicFilter: 'a+/b' }),
    [SUB, `subscribe: subscriptions[0].topicFilter has a '+' that does not occupy a whole level: "a+/b"`],
  ],
  [
    'subscribe: filter +a',
    S,
    sub({}, { topicFilter: '+a' }),
    [SUB, `subscribe: subscriptions[0].topicFilter has a '+' that does not occupy a whole level: "+a"`],
  ],
  [
    'subscribe: filter of 65536 bytes',
    S,
    sub({}, { topicFilter: s(65536) }),
    [SUB, 'subscribe: subscriptions[0].topicFilter must be at most 65535 UTF-8 bytes, got 65536'],
  ],
  [
    'subscribe: filter with U+0000',
    S,
    sub({}, { topicFilter: 'a\u0000' }),
    [SUB, 'subscribe: subscriptions[0].topicFilter is not valid MQTT UTF-8 (U+0000 at index 1)'],
  ],
  [
    'subscribe: filter not a string',
    S,
    sub({}, { topicFilter: null }),
    [SUB, 'subscribe: subscriptions[0].topicFilter must be a string, got null'],
  ],
  [
    'subscribe: shared filter without a filter',
    S,
    sub({}, { topicFilter: '$share/g' }),
    [
      SUB,
      `subscribe: subscriptions[0].topicFilter is not a valid shared subscription (expected $share/<ShareName>/<TopicFilter> with a non-empty ShareName without '/', '+' or '#'): "$share/g"`,
    ],
  ],
  [
    'subscribe: shared filter with an empty share name',
    S,
    sub({}, { topicFilter: '$share//a' }),
    [
      SUB,
      `subscribe: subscriptions[0].topicFilter is not a valid shared subscription (expected $share/<ShareName>/<TopicFilter> with a non-empty ShareName without '/', '+' or '#'): "$share//a"`,
    ],
  ],
  [
    'subscribe: shared filter with a wildcard share name',
    S,
    sub({}, { topicFilter: '$share/g+/a' }),
    [
      SUB,
      `subscribe: subscriptions[0].topicFilter is not a valid shared subscription (expected $share/<ShareName>/<TopicFilter> with a non-empty ShareName without '/', '+' or '#'): "$share/g+/a"`,
    ],
  ],
  [
    'subscribe: shared filter with a bad wildcard in its filter',
    S,
    sub({}, { topicFilter: '$share/g/a#' }),
    [SUB, `subscribe: subscriptions[0].topicFilter has a '#' that is not the whole last level: "$share/g/a#"`],
  ],
  ['subscribe: filter $sharefoo/x is not shared', S, sub({}, { topicFilter: '$sharefoo/x', noLocal: true }), undefined],
  ['subscribe: qos 2', S, sub({}, { qos: 2 }), undefined],
  ['subscribe: qos 3', S, sub({}, { qos: 3 }), [SUB, 'subscribe: subscriptions[0].qos must be 0, 1 or 2, got 3']],
  ['subscribe: noLocal true', S, sub({}, { noLocal: true }), undefined],
  [
    'subscribe: noLocal 1',
    S,
    sub({}, { noLocal: 1 }),
    [SUB, 'subscribe: subscriptions[0].noLocal must be a boolean, got 1'],
  ],
  [
    'subscribe: noLocal false on a shared subscription',
    S,
    sub({}, { topicFilter: '$share/g/a', noLocal: false }),
    undefined,
  ],
  [
    'subscribe: noLocal on a shared subscription',
    S,
    sub({}, { topicFilter: '$share/g/a', noLocal: true }),
    [SUB, 'subscribe: subscriptions[0].noLocal must not be set on a shared subscription: "$share/g/a"'],
  ],
  [
    'subscribe: retainAsPublished "true"',
    S,
    sub({}, { retainAsPublished: 'true' }),
    [SUB, 'subscribe: subscriptions[0].retainAsPublished must be a boolean, got string "true"'],
  ],
  ['subscribe: retainHandlingType 2', S, sub({}, { retainHandlingType: 2 }), undefined],
  [
    'subscribe: retainHandlingType 3',
    S,
    sub({}, { retainHandlingType: 3 }),
    [SUB, 'subscribe: subscriptions[0].retainHandlingType must be an integer 0..2, got 3'],
  ],
  ['subscribe: subscriptionIdentifier 1 and 268435455', S, sub({ subscriptionIdentifier: 268435455 }), undefined],
  [
    'subscribe: subscriptionIdentifier 0',
    S,
    sub({ subscriptionIdentifier: 0 }),
    [SUB, 'subscribe: subscriptionIdentifier must be an integer 1..268435455, got 0'],
  ],
  [
    'subscribe: subscriptionIdentifier 268435456',
    S,
    sub({ subscriptionIdentifier: 268435456 }),
    [SUB, 'subscribe: subscriptionIdentifier must be an integer 1..268435455, got 268435456'],
  ],
  [
    'subscribe: subscriptionIdentifier -5',
    S,
    sub({ subscriptionIdentifier: -5 }),
    [SUB, 'subscribe: subscriptionIdentifier must be an integer 1..268435455, got -5'],
  ],
  [
    'subscribe: subscriptionIdentifier 4294967297',
    S,
    sub({ subscriptionIdentifier: 4294967297 }),
    [SUB, 'subscribe: subscriptionIdentifier must be an integer 1..268435455, got 4294967297'],
  ],
  [
    'subscribe: packetId 7',
    S,
    sub({ packetId: 7 }),
    [SUB, 'subscribe: packetId is managed by the client and must be left unset, got 7'],
  ],
  [
    'subscribe: a bad user property',
    S,
    sub({ userProperties: [{ name: 'a' }] }),
    [UP, 'subscribe: userProperties[0].value must be a string, got undefined'],
  ],
  // ---- UNSUBSCRIBE
  ['unsubscribe: a plain object', U, unsub(), undefined],
  ['unsubscribe: an array', U, [], [UNSUB, 'unsubscribe: packet must be an object, got an array']],
  [
    'unsubscribe: type 8',
    U,
    unsub({ type: 8 }),
    [UNSUB, 'unsubscribe: type must be PacketType.Unsubscribe (10) or unset, got 8'],
  ],
  ['unsubscribe: no topicFilters', U, {}, [UNSUB, 'unsubscribe: topicFilters must be an array, got undefined']],
  ['unsubscribe: empty topicFilters', U, { topicFilters: [] }, [UNSUB, 'unsubscribe: topicFilters must not be empty']],
  ['unsubscribe: 1024 filters', U, { topicFilters: Array.from({ length: 1024 }, () => 'a') }, undefined],
  [
    'unsubscribe: 1025 filters',
    U,
    { topicFilters: Array.from({ length: 1025 }, () => 'a') },
    [UNSUB, 'unsubscribe: topicFilters has 1025 entries, at most 1024 are allowed'],
  ],
  [
    'unsubscribe: a filter that is a number',
    U,
    { topicFilters: [1] },
    [UNSUB, 'unsubscribe: topicFilters[0] must be a string, got 1'],
  ],
  [
    'unsubscribe: an invalid filter',
    U,
    { topicFilters: ['a', 'b/#/c'] },
    [UNSUB, `unsubscribe: topicFilters[1] has a '#' that is not the whole last level: "b/#/c"`],
  ],
  [
    'unsubscribe: a filter with invalid UTF-8',
    U,
    { topicFilters: ['\ud800'] },
    [UNSUB, 'unsubscribe: topicFilters[0] is not valid MQTT UTF-8 (unpaired surrogate U+D800 at index 0)'],
  ],
  [
    'unsubscribe: packetId 3',
    U,
    unsub({ packetId: 3 }),
    [UNSUB, 'unsubscribe: packetId is managed by the client and must be left unset, got 3'],
  ],
  [
    'unsubscribe: 1025 user properties',
    U,
    unsub({ userProperties: ups(1025) }),
    [UP, 'unsubscribe: userProperties has 1025 entries, at most 1024 are allowed'],
  ],
  // ---- DISCONNECT
  ['disconnect: reason 0', D, disc(), undefined],
  ['disconnect: reason 4 and 162', D, disc({ reasonCode: 162 }), undefined],
  ['disconnect: false', D, false, [DISC, 'disconnect: packet must be an object, got false']],
  [
    'disconnect: type 12',
    D,
    disc({ type: 12 }),
    [DISC, 'disconnect: type must be PacketType.Disconnect (14) or unset, got 12'],
  ],
  [
    'disconnect: reason 3',
    D,
    disc({ reasonCode: 3 }),
    [DISC, 'disconnect: reasonCode must be a DISCONNECT reason code (DisconnectReasonCode), got 3'],
  ],
  [
    'disconnect: reason 163',
    D,
    disc({ reasonCode: 163 }),
    [DISC, 'disconnect: reasonCode must be a DISCONNECT reason code (DisconnectReasonCode), got 163'],
  ],
  [
    'disconnect: reason missing',
    D,
    {},
    [DISC, 'disconnect: reasonCode must be a DISCONNECT reason code (DisconnectReasonCode), got undefined'],
  ],
  [
    'disconnect: sessionExpiryIntervalSeconds 4294967295',
    D,
    disc({ sessionExpiryIntervalSeconds: 4294967295 }),
    undefined,
  ],
  [
    'disconnect: sessionExpiryIntervalSeconds 4294967296',
    D,
    disc({ sessionExpiryIntervalSeconds: 4294967296 }),
    [DISC, 'disconnect: sessionExpiryIntervalSeconds must be an integer 0..4294967295, got 4294967296'],
  ],
  [
    'disconnect: sessionExpiryIntervalSeconds -5',
    D,
    disc({ sessionExpiryIntervalSeconds: -5 }),
    [DISC, 'disconnect: sessionExpiryIntervalSeconds must be an integer 0..4294967295, got -5'],
  ],
  ['disconnect: reasonString of 65535 bytes', D, disc({ reasonString: s(65535) }), undefined],
  [
    'disconnect: reasonString of 65536 bytes',
    D,
    disc({ reasonString: s(65536) }),
    [DISC, 'disconnect: reasonString must be at most 65535 UTF-8 bytes, got 65536'],
  ],
  [
    'disconnect: reasonString with U+0085',
    D,
    disc({ reasonString: '\u0085' }),
    [DISC, 'disconnect: reasonString is not valid MQTT UTF-8 (control character U+0085 at index 0)'],
  ],
  [
    'disconnect: serverReference',
    D,
    disc({ serverReference: 'x' }),
    [DISC, 'disconnect: serverReference must not be set: only a server sends it'],
  ],
  [
    'disconnect: a bad user property',
    D,
    disc({ userProperties: [{ name: '\ufffe', value: '' }] }),
    [UP, 'disconnect: userProperties[0].name is not valid MQTT UTF-8 (non-character U+FFFE at index 0)'],
  ],
  // ---- CONNECT
  ['connect: keep alive only', C, conn(), undefined],
  ['connect: a number', C, 42, [CONN, 'connect: packet must be an object, got 42']],
  ['connect: type 2', C, conn({ type: 2 }), [CONN, 'connect: type must be PacketType.Connect (1) or unset, got 2']],
  ['connect: keepAliveIntervalSeconds 0 and 65535', C, conn({ keepAliveIntervalSeconds: 65535 }), undefined],
  [
    'connect: keepAliveIntervalSeconds 65536',
    C,
    conn({ keepAliveIntervalSeconds: 65536 }),
    [CONN, 'connect: keepAliveIntervalSeconds must be an integer 0..65535, got 65536'],
  ],
  [
    'connect: keepAliveIntervalSeconds -1000',
    C,
    conn({ keepAliveIntervalSeconds: -1000 }),
    [CONN, 'connect: keepAliveIntervalSeconds must be an integer 0..65535, got -1000'],
  ],
  [
    'connect: keepAliveIntervalSeconds missing',
    C,
    {},
    [CONN, 'connect: keepAliveIntervalSeconds must be an integer 0..65535, got undefined'],
  ],
  ['connect: clientId of 65535 bytes', C, conn({ clientId: s(65535) }), undefined],
  [
    'connect: clientId of 65536 bytes',
    C,
    conn({ clientId: s(65536) }),
    [CONN, 'connect: clientId must be at most 65535 UTF-8 bytes, got 65536'],
  ],
  [
    'connect: clientId with invalid UTF-8',
    C,
    conn({ clientId: 'a\ud800' }),
    [CONN, 'connect: clientId is not valid MQTT UTF-8 (unpaired surrogate U+D800 at index 1)'],
  ],
  [
    'connect: username of 65536 bytes',
    C,
    conn({ username: s(65536) }),
    [CONN, 'connect: username must be at most 65535 UTF-8 bytes, got 65536'],
  ],
  [
    'connect: username with U+0000',
    C,
    conn({ username: '\u0000' }),
    [CONN, 'connect: username is not valid MQTT UTF-8 (U+0000 at index 0)'],
  ],
  ['connect: password of 65535 bytes', C, conn({ password: Buffer.alloc(65535) }), undefined],
  [
    'connect: password of 65536 bytes (value not echoed)',
    C,
    conn({ password: s(65536) }),
    [CONN, 'connect: password must be at most 65535 bytes, got 65536'],
  ],
  [
    'connect: password number',
    C,
    conn({ password: 1234 }),
    [CONN, 'connect: password must be a string, Uint8Array, ArrayBufferView or ArrayBuffer, got number'],
  ],
  [
    'connect: sessionExpiryIntervalSeconds 4294967295',
    C,
    conn({ sessionExpiryIntervalSeconds: 4294967295 }),
    undefined,
  ],
  [
    'connect: sessionExpiryIntervalSeconds 4294967296',
    C,
    conn({ sessionExpiryIntervalSeconds: 4294967296 }),
    [CONN, 'connect: sessionExpiryIntervalSeconds must be an integer 0..4294967295, got 4294967296'],
  ],
  [
    'connect: sessionExpiryIntervalSeconds -1000',
    C,
    conn({ sessionExpiryIntervalSeconds: -1000 }),
    [CONN, 'connect: sessionExpiryIntervalSeconds must be an integer 0..4294967295, got -1000'],
  ],
  [
    'connect: request flags true',
    C,
    conn({ requestResponseInformation: true, requestProblemInformation: false }),
    undefined,
  ],
  [
    'connect: requestResponseInformation 2',
    C,
    conn({ requestResponseInformation: 2 }),
    [CONN, 'connect: requestResponseInformation must be a boolean, got 2'],
  ],
  [
    'connect: requestProblemInformation 1',
    C,
    conn({ requestProblemInformation: 1 }),
    [CONN, 'connect: requestProblemInformation must be a boolean, got 1'],
  ],
  ['connect: receiveMaximum 1 and 65535', C, conn({ receiveMaximum: 1 }), undefined],
  [
    'connect: receiveMaximum 0',
    C,
    conn({ receiveMaximum: 0 }),
    [CONN, 'connect: receiveMaximum must be an integer 1..65535, got 0'],
  ],
  [
    'connect: receiveMaximum 65536',
    C,
    conn({ receiveMaximum: 65536 }),
    [CONN, 'connect: receiveMaximum must be an integer 1..65535, got 65536'],
  ],
  [
    'connect: receiveMaximum -1000',
    C,
    conn({ receiveMaximum: -1000 }),
    [CONN, 'connect: receiveMaximum must be an integer 1..65535, got -1000'],
  ],
  ['connect: maximumPacketSizeBytes 1 and 4294967295', C, conn({ maximumPacketSizeBytes: 4294967295 }), undefined],
  [
    'connect: maximumPacketSizeBytes 0',
    C,
    conn({ maximumPacketSizeBytes: 0 }),
    [CONN, 'connect: maximumPacketSizeBytes must be an integer 1..4294967295, got 0'],
  ],
  [
    'connect: maximumPacketSizeBytes 4294967296',
    C,
    conn({ maximumPacketSizeBytes: 4294967296 }),
    [CONN, 'connect: maximumPacketSizeBytes must be an integer 1..4294967295, got 4294967296'],
  ],
  [
    'connect: willDelayIntervalSeconds 4294967295',
    C,
    conn({ willDelayIntervalSeconds: 4294967295, will: pub() }),
    undefined,
  ],
  [
    'connect: willDelayIntervalSeconds -5',
    C,
    conn({ willDelayIntervalSeconds: -5, will: pub() }),
    [CONN, 'connect: willDelayIntervalSeconds must be an integer 0..4294967295, got -5'],
  ],
  [
    'connect: willDelayIntervalSeconds 4294967296',
    C,
    conn({ willDelayIntervalSeconds: 4294967296, will: pub() }),
    [CONN, 'connect: willDelayIntervalSeconds must be an integer 0..4294967295, got 4294967296'],
  ],
  ['connect: topicAliasMaximum 65535', C, conn({ topicAliasMaximum: 65535 }), undefined],
  [
    'connect: topicAliasMaximum 65536',
    C,
    conn({ topicAliasMaximum: 65536 }),
    [CONN, 'connect: topicAliasMaximum must be an integer 0..65535, got 65536'],
  ],
  [
    'connect: cleanStart "yes"',
    C,
    conn({ cleanStart: 'yes' }),
    [CONN, 'connect: cleanStart must be a boolean, got string "yes"'],
  ],
  [
    'connect: authentication method and data',
    C,
    conn({ authenticationMethod: 'SCRAM', authenticationData: Buffer.alloc(65535) }),
    undefined,
  ],
  [
    'connect: authenticationData of 65536 bytes',
    C,
    conn({ authenticationMethod: 'SCRAM', authenticationData: Buffer.alloc(65536) }),
    [CONN, 'connect: authenticationData must be at most 65535 bytes, got 65536'],
  ],
  [
    'connect: authenticationData without a method',
    C,
    conn({ authenticationData: Buffer.from('x') }),
    [CONN, 'connect: authenticationData requires an authenticationMethod'],
  ],
  [
    'connect: authenticationMethod with a control character',
    C,
    conn({ authenticationMethod: '\n' }),
    [CONN, 'connect: authenticationMethod is not valid MQTT UTF-8 (control character U+000A at index 0)'],
  ],
  [
    'connect: a will that is a valid publish',
    C,
    conn({ will: pub({ qos: 2, retain: true, payload: 'bye', contentType: 'text' }) }),
    undefined,
  ],
  [
    'connect: a will that is a string',
    C,
    conn({ will: 'bye' }),
    [CONN, 'connect: will must be an object, got string "bye"'],
  ],
  [
    'connect: a will with a wildcard topic',
    C,
    conn({ will: pub({ topicName: 'a/#' }) }),
    [CONN, `connect: will: topicName must not contain the wildcard '#' (at index 2): "a/#"`],
  ],
  [
    'connect: a will with a topic alias',
    C,
    conn({ will: pub({ topicAlias: 1 }) }),
    [CONN, 'connect: will: topicAlias cannot be used in a will'],
  ],
  [
    'connect: a will with dup',
    C,
    conn({ will: pub({ dup: true }) }),
    [CONN, 'connect: will: dup cannot be set in a will'],
  ],
  ['connect: a will payload of 65535 bytes', C, conn({ will: pub({ payload: Buffer.alloc(65535) }) }), undefined],
  [
    'connect: a will payload of 65536 bytes',
    C,
    conn({ will: pub({ payload: s(65536) }) }),
    [CONN, 'connect: will: payload must be at most 65535 bytes, got 65536'],
  ],
  [
    'connect: a will payload object that cannot be serialised',
    C,
    conn({ will: pub({ payload: { n: BigInt(1) } }) }),
    [CONN, 'connect: will: payload could not be serialised with JSON.stringify: Do not know how to serialize a BigInt'],
  ],
  [
    'connect: a will with a bad user property',
    C,
    conn({ will: pub({ userProperties: [{ name: 'a', value: 7 }] }) }),
    [UP, 'connect: will: userProperties[0].value must be a string, got number'],
  ],
  [
    'connect: 1025 user properties',
    C,
    conn({ userProperties: ups(1025) }),
    [UP, 'connect: userProperties has 1025 entries, at most 1024 are allowed'],
  ],
];

describe('validation rules', () => {
  it.each(CASES)('%s', (_rule, validate, packet, expected) => {
    const result = validate(packet);
    if (expected === undefined) {
      expect(result).toBeUndefined();
    } else {
      expect(result).toBeInstanceOf(Mqtt5Error);
      expect(result?.code).toBe(expected[0]);
      expect(result?.message).toBe(expected[1]);
    }
  });

  it('accepts every payload type a publish may carry', () => {
    for (const payload of [
      'x',
      Buffer.from('x'),
      new Uint8Array(1),
      new Uint8Array(2).buffer,
      new DataView(new ArrayBuffer(1)),
      { a: 1 },
      [1],
      null,
      undefined,
    ]) {
      expect(validatePublish({ topicName: 't', qos: 0, payload })).toBeUndefined();
    }
  });

  it('never echoes user property values or passwords', () => {
    const upError = validateUserProperties([{ name: 'token', value: 'hunter2\u0000' }]);
    expect(upError?.message).toBe('packet: userProperties[0].value is not valid MQTT UTF-8 (U+0000 at index 7)');
    expect(validateConnect({ keepAliveIntervalSeconds: 1, password: 'hunter2'.repeat(10000) })?.message).not.toContain(
      'hunter2',
    );
  });

  it('never throws, whatever it is given', () => {
    const validators = [
      validatePublish,
      validateSubscribe,
      validateUnsubscribe,
      validateDisconnect,
      validateConnect,
      validateUserProperties,
    ];
    const garbage = fc.oneof(
      fc.anything(),
      fc.record({
        topicName: fc.anything(),
        qos: fc.anything(),
        subscriptions: fc.oneof(fc.anything(), fc.array(fc.anything())),
        topicFilters: fc.oneof(fc.anything(), fc.array(fc.anything())),
        reasonCode: fc.anything(),
        keepAliveIntervalSeconds: fc.anything(),
        userProperties: fc.oneof(fc.anything(), fc.array(fc.record({ name: fc.anything(), value: fc.anything() }))),
        will: fc.anything(),
        payload: fc.anything(),
        payloadFormat: fc.anything(),
      }),
    );
    fc.assert(
      fc.property(garbage, (value) => {
        for (const validate of validators) {
          const result = validate(value);
          expect(result === undefined || Mqtt5Error.isInstance(result)).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
