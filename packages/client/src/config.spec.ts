import fc from 'fast-check';
import { Mqtt5Error, type Mqtt5ErrorCode } from '@mqtt5/codec';
import { systemClock } from './clock.js';
import {
  ClientExtendedValidationAndFlowControl,
  ClientOperationQueueBehavior,
  ClientSessionBehavior,
  DEFAULTS,
  InboundTopicAliasBehaviorType,
  type Mqtt5ClientConfig,
  OutboundTopicAliasBehaviorType,
  RetryJitterType,
  resolveClientConfig,
} from './config.js';
import { FakeClock } from './testing/index.js';
import type { Connector } from './transport.js';

const connector: Connector = () => Promise.reject(new Error('not used'));

function thrown(fn: () => unknown): Mqtt5Error {
  try {
    fn();
  } catch (e) {
    if (Mqtt5Error.isInstance(e)) return e;
    throw new Error(`expected an Mqtt5Error, got ${String(e)}`);
  }
  throw new Error('expected a throw');
}

function expectInvalid(config: unknown, code: Mqtt5ErrorCode, message?: RegExp): void {
  const error = thrown(() => resolveClientConfig(config as Mqtt5ClientConfig));
  expect(error.code).toBe(code);
  if (message) expect(error.message).toMatch(message);
}

const CLIENT = 'AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION';
const CONNECT = 'AWS_ERROR_MQTT5_CONNECT_OPTIONS_VALIDATION';
const USER_PROPERTY = 'AWS_ERROR_MQTT5_USER_PROPERTY_VALIDATION';

function withConnect(connectProperties: Record<string, unknown>, extra: Partial<Mqtt5ClientConfig> = {}): unknown {
  return { connector, ...extra, connectProperties: { keepAliveIntervalSeconds: 60, ...connectProperties } };
}

describe('enums', () => {
  it('have the reference client values', () => {
    expect([
      ClientSessionBehavior.Default,
      ClientSessionBehavior.Clean,
      ClientSessionBehavior.RejoinPostSuccess,
      ClientSessionBehavior.RejoinAlways,
    ]).toEqual([0, 1, 2, 3]);
    expect([RetryJitterType.Default, RetryJitterType.None, RetryJitterType.Full, RetryJitterType.Decorrelated]).toEqual(
      [0, 1, 2, 3],
    );
    expect([
      ClientOperationQueueBehavior.Default,
      ClientOperationQueueBehavior.FailNonQos1PublishOnDisconnect,
      ClientOperationQueueBehavior.FailQos0PublishOnDisconnect,
      ClientOperationQueueBehavior.FailAllOnDisconnect,
    ]).toEqual([0, 1, 2, 3]);
    expect([
      OutboundTopicAliasBehaviorType.Default,
      OutboundTopicAliasBehaviorType.Manual,
      OutboundTopicAliasBehaviorType.LRU,
      OutboundTopicAliasBehaviorType.Disabled,
    ]).toEqual([0, 1, 2, 3]);
    expect([
      InboundTopicAliasBehaviorType.Default,
      InboundTopicAliasBehaviorType.Enabled,
      InboundTopicAliasBehaviorType.Disabled,
    ]).toEqual([0, 1, 2]);
    expect([
      ClientExtendedValidationAndFlowControl.None,
      ClientExtendedValidationAndFlowControl.AwsIotCoreDefaults,
    ]).toEqual([0, 1]);
  });
});

describe('resolveClientConfig defaults', () => {
  it('applies every default to a minimal config', () => {
    const r = resolveClientConfig({ connector });
    expect(r).toEqual({
      hostName: '',
      port: 0,
      connector,
      sessionBehavior: ClientSessionBehavior.Clean,
      retryJitterMode: RetryJitterType.Full,
      minReconnectDelayMs: 1000,
      maxReconnectDelayMs: 120000,
      minConnectedTimeToResetReconnectDelayMs: 30000,
      pingTimeoutMs: 30000,
      connackTimeoutMs: 20000,
      ackTimeoutSeconds: 60,
      offlineQueueBehavior: ClientOperationQueueBehavior.FailQos0PublishOnDisconnect,
      topicAliasing: {
        outboundBehavior: OutboundTopicAliasBehaviorType.Disabled,
        outboundCacheMaxSize: 25,
        inboundBehavior: InboundTopicAliasBehaviorType.Disabled,
        inboundCacheMaxSize: 25,
      },
      extendedValidationAndFlowControlOptions: ClientExtendedValidationAndFlowControl.None,
      connectProperties: { keepAliveIntervalSeconds: 1200 },
      clock: systemClock,
      random: Math.random,
    });
    expect(DEFAULTS).toEqual({
      minReconnectDelayMs: 1000,
      maxReconnectDelayMs: 120000,
      minConnectedTimeToResetReconnectDelayMs: 30000,
      pingTimeoutMs: 30000,
      connackTimeoutMs: 20000,
      ackTimeoutSeconds: 60,
      keepAliveIntervalSeconds: 1200,
      outboundCacheMaxSize: 25,
      inboundCacheMaxSize: 25,
    });
  });

  it('treats 0 as "use the default" for every numeric option', () => {
    const r = resolveClientConfig({
      connector,
      minReconnectDelayMs: 0,
      maxReconnectDelayMs: 0,
      minConnectedTimeToResetReconnectDelayMs: 0,
      pingTimeoutMs: 0,
      connackTimeoutMs: 0,
      ackTimeoutSeconds: 0,
      topicAliasingOptions: { outboundCacheMaxSize: 0, inboundCacheMaxSize: 0 },
    });
    expect(r.minReconnectDelayMs).toBe(1000);
    expect(r.maxReconnectDelayMs).toBe(120000);
    expect(r.minConnectedTimeToResetReconnectDelayMs).toBe(30000);
    expect(r.pingTimeoutMs).toBe(30000);
    expect(r.connackTimeoutMs).toBe(20000);
    expect(r.ackTimeoutSeconds).toBe(60);
    expect(r.topicAliasing.outboundCacheMaxSize).toBe(25);
    expect(r.topicAliasing.inboundCacheMaxSize).toBe(25);
  });

  it('resolves Default enums and keeps explicit ones', () => {
    const r = resolveClientConfig({
      connector,
      sessionBehavior: ClientSessionBehavior.Default,
      retryJitterMode: RetryJitterType.Default,
      offlineQueueBehavior: ClientOperationQueueBehavior.Default,
      topicAliasingOptions: {
        outboundBehavior: OutboundTopicAliasBehaviorType.Default,
        inboundBehavior: InboundTopicAliasBehaviorType.Default,
      },
    });
    expect(r.sessionBehavior).toBe(ClientSessionBehavior.Clean);
    expect(r.retryJitterMode).toBe(RetryJitterType.Full);
    expect(r.offlineQueueBehavior).toBe(ClientOperationQueueBehavior.FailQos0PublishOnDisconnect);
    expect(r.topicAliasing.outboundBehavior).toBe(OutboundTopicAliasBehaviorType.Disabled);
    expect(r.topicAliasing.inboundBehavior).toBe(InboundTopicAliasBehaviorType.Disabled);

    const clock = new FakeClock();
    const random = (): number => 0.5;
    const s = resolveClientConfig({
      connector,
      hostName: 'broker.local',
      port: 8883,
      sessionBehavior: ClientSessionBehavior.RejoinAlways,
      retryJitterMode: RetryJitterType.Decorrelated,
      offlineQueueBehavior: ClientOperationQueueBehavior.FailAllOnDisconnect,
      minReconnectDelayMs: 500,
      maxReconnectDelayMs: 5000,
      minConnectedTimeToResetReconnectDelayMs: 7,
      pingTimeoutMs: 8,
      connackTimeoutMs: 9,
      ackTimeoutSeconds: 10,
      topicAliasingOptions: {
        outboundBehavior: OutboundTopicAliasBehaviorType.LRU,
        outboundCacheMaxSize: 65535,
        inboundBehavior: InboundTopicAliasBehaviorType.Enabled,
        inboundCacheMaxSize: 1,
      },
      clock,
      random,
    });
    expect(s).toMatchObject({
      hostName: 'broker.local',
      port: 8883,
      sessionBehavior: ClientSessionBehavior.RejoinAlways,
      retryJitterMode: RetryJitterType.Decorrelated,
      offlineQueueBehavior: ClientOperationQueueBehavior.FailAllOnDisconnect,
      minReconnectDelayMs: 500,
      maxReconnectDelayMs: 5000,
      minConnectedTimeToResetReconnectDelayMs: 7,
      pingTimeoutMs: 8,
      connackTimeoutMs: 9,
      ackTimeoutSeconds: 10,
      topicAliasing: { outboundBehavior: 2, outboundCacheMaxSize: 65535, inboundBehavior: 1, inboundCacheMaxSize: 1 },
    });
    expect(s.clock).toBe(clock);
    expect(s.random).toBe(random);
  });

  it('treats null like an absent option', () => {
    const r = resolveClientConfig({
      connector,
      hostName: null,
      sessionBehavior: null,
      connectProperties: null,
    } as unknown as Mqtt5ClientConfig);
    expect(r.hostName).toBe('');
    expect(r.sessionBehavior).toBe(ClientSessionBehavior.Clean);
    expect(r.connectProperties).toEqual({ keepAliveIntervalSeconds: 1200 });
  });
});

describe('resolveClientConfig client option validation', () => {
  it('requires a connector', () => {
    expectInvalid({}, CLIENT, /^no connector: pass `connector` or use @mqtt5\/sdk$/);
    expectInvalid({ connector: 'tcp://x' }, CLIENT, /connector must be a function/);
  });

  it('rejects a config that is not an object', () => {
    for (const bad of [undefined, null, 'x', 5, [connector]]) expectInvalid(bad, CLIENT, /config must be an object/);
  });

  it.each([
    ['sessionBehavior', 'x'],
    ['sessionBehavior', 4],
    ['sessionBehavior', -1],
    ['sessionBehavior', 1.5],
    ['retryJitterMode', 4],
    ['retryJitterMode', true],
    ['offlineQueueBehavior', 4],
    ['offlineQueueBehavior', {}],
    ['extendedValidationAndFlowControlOptions', 2],
    ['extendedValidationAndFlowControlOptions', 'AwsIotCoreDefaults'],
  ])('rejects enum %s = %p', (name, value) => {
    expectInvalid({ connector, [name]: value }, CLIENT, new RegExp(name));
  });

  it.each([
    'minReconnectDelayMs',
    'maxReconnectDelayMs',
    'minConnectedTimeToResetReconnectDelayMs',
    'pingTimeoutMs',
    'connackTimeoutMs',
    'ackTimeoutSeconds',
  ])('rejects a negative, fractional, non-finite or non-number %s', (name) => {
    for (const value of [-1, 1.5, Number.NaN, Infinity, '1000', 2 ** 53])
      expectInvalid({ connector, [name]: value }, CLIENT, new RegExp(name));
  });

  it('bounds ackTimeoutSeconds to u32', () => {
    expect(resolveClientConfig({ connector, ackTimeoutSeconds: 4_294_967_295 }).ackTimeoutSeconds).toBe(4_294_967_295);
    expectInvalid({ connector, ackTimeoutSeconds: 4_294_967_296 }, CLIENT, /ackTimeoutSeconds/);
  });

  it('requires minReconnectDelayMs <= maxReconnectDelayMs, defaults included', () => {
    expect(
      resolveClientConfig({ connector, minReconnectDelayMs: 5000, maxReconnectDelayMs: 5000 }).maxReconnectDelayMs,
    ).toBe(5000);
    expectInvalid(
      { connector, minReconnectDelayMs: 5001, maxReconnectDelayMs: 5000 },
      CLIENT,
      /minReconnectDelayMs \(5001\) must not exceed maxReconnectDelayMs \(5000\)/,
    );
    expectInvalid(
      { connector, minReconnectDelayMs: 200_000 },
      CLIENT,
      /must not exceed maxReconnectDelayMs \(120000\)/,
    );
    expectInvalid({ connector, maxReconnectDelayMs: 999 }, CLIENT, /minReconnectDelayMs \(1000\)/);
  });

  it('checks port and hostName when given', () => {
    expect(resolveClientConfig({ connector, port: 65535 }).port).toBe(65535);
    for (const port of [65536, -1, 1.5, '1883'])
      expectInvalid({ connector, port }, CLIENT, /port must be an integer in 0..65535/);
    expectInvalid({ connector, hostName: 5 }, CLIENT, /hostName must be a string/);
  });

  it('checks topicAliasingOptions', () => {
    expectInvalid({ connector, topicAliasingOptions: 5 }, CLIENT, /topicAliasingOptions must be an object/);
    expectInvalid(
      { connector, topicAliasingOptions: { outboundBehavior: 4 } },
      CLIENT,
      /topicAliasingOptions.outboundBehavior/,
    );
    expectInvalid(
      { connector, topicAliasingOptions: { inboundBehavior: 3 } },
      CLIENT,
      /topicAliasingOptions.inboundBehavior/,
    );
    expectInvalid({ connector, topicAliasingOptions: { outboundCacheMaxSize: 65536 } }, CLIENT, /outboundCacheMaxSize/);
    expectInvalid({ connector, topicAliasingOptions: { inboundCacheMaxSize: -1 } }, CLIENT, /inboundCacheMaxSize/);
  });

  it('checks the testing hooks', () => {
    expectInvalid({ connector, clock: {} }, CLIENT, /clock must have/);
    expectInvalid({ connector, clock: { now: () => 0, setTimeout: () => 0 } }, CLIENT, /clock must have/);
    expectInvalid({ connector, random: 0.5 }, CLIENT, /random must be a function/);
  });

  it('never throws anything but a validation Mqtt5Error, whatever the input', () => {
    const field = fc.oneof(fc.anything(), fc.integer({ min: -2, max: 5 }), fc.constant(undefined));
    fc.assert(
      fc.property(
        fc.record(
          {
            connector: fc.oneof(fc.constant(connector), fc.anything()),
            hostName: fc.anything(),
            port: fc.oneof(fc.integer({ min: -1, max: 70000 }), fc.anything()),
            sessionBehavior: field,
            retryJitterMode: field,
            offlineQueueBehavior: field,
            extendedValidationAndFlowControlOptions: field,
            minReconnectDelayMs: fc.oneof(fc.double(), fc.anything()),
            topicAliasingOptions: fc.oneof(
              fc.anything(),
              fc.record({ outboundBehavior: field, inboundCacheMaxSize: field }),
            ),
            connectProperties: fc.oneof(
              fc.anything(),
              fc.record(
                {
                  keepAliveIntervalSeconds: fc.oneof(fc.integer({ min: -5, max: 70000 }), fc.anything()),
                  clientId: fc.oneof(fc.string(), fc.anything()),
                  password: fc.oneof(fc.string(), fc.uint8Array(), fc.anything()),
                  userProperties: fc.oneof(
                    fc.array(fc.record({ name: fc.string(), value: fc.anything() })),
                    fc.anything(),
                  ),
                  will: fc.oneof(
                    fc.anything(),
                    fc.record({ topicName: fc.string(), qos: field, payload: fc.anything() }, { requiredKeys: [] }),
                  ),
                },
                { requiredKeys: [] },
              ),
            ),
          },
          { requiredKeys: [] },
        ),
        (config) => {
          try {
            resolveClientConfig(config as Mqtt5ClientConfig);
          } catch (e) {
            if (!Mqtt5Error.isInstance(e)) throw e;
            expect([CLIENT, CONNECT, USER_PROPERTY]).toContain(e.code);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('resolveClientConfig connectProperties validation', () => {
  it('requires keepAliveIntervalSeconds in 0..65535 when connectProperties is given', () => {
    expectInvalid(
      { connector, connectProperties: {} },
      CONNECT,
      /^connect: keepAliveIntervalSeconds must be an integer 0..65535, got undefined$/,
    );
    expectInvalid(
      { connector, connectProperties: { keepAliveIntervalSeconds: null } },
      CONNECT,
      /keepAliveIntervalSeconds must be an integer 0..65535, got undefined/,
    );
    for (const keepAliveIntervalSeconds of [-1000, 65536, 1.5, '60']) {
      expectInvalid(
        { connector, connectProperties: { keepAliveIntervalSeconds } },
        CONNECT,
        /keepAliveIntervalSeconds/,
      );
    }
    for (const keepAliveIntervalSeconds of [0, 65535]) {
      expect(
        resolveClientConfig({ connector, connectProperties: { keepAliveIntervalSeconds } }).connectProperties
          .keepAliveIntervalSeconds,
      ).toBe(keepAliveIntervalSeconds);
    }
  });

  it.each([
    ['sessionExpiryIntervalSeconds', [0, 4_294_967_295], [-1000, 4_294_967_296, 0.5]],
    ['receiveMaximum', [1, 65535], [0, -1000, 65536]],
    ['maximumPacketSizeBytes', [1, 4_294_967_295], [0, 4_294_967_296]],
    ['willDelayIntervalSeconds', [0, 4_294_967_295], [-5, 4_294_967_296]],
  ])('bounds %s', (name, good, bad) => {
    for (const value of good)
      expect(
        (
          resolveClientConfig(withConnect({ [name]: value }) as Mqtt5ClientConfig)
            .connectProperties as unknown as Record<string, unknown>
        )[name],
      ).toBe(value);
    for (const value of bad) expectInvalid(withConnect({ [name]: value }), CONNECT, new RegExp(name));
  });

  it('checks the request flags are booleans', () => {
    expectInvalid(
      withConnect({ requestResponseInformation: 1 }),
      CONNECT,
      /requestResponseInformation must be a boolean/,
    );
    expectInvalid(
      withConnect({ requestProblemInformation: 'yes' }),
      CONNECT,
      /requestProblemInformation must be a boolean/,
    );
    const r = resolveClientConfig(
      withConnect({ requestResponseInformation: true, requestProblemInformation: false }) as Mqtt5ClientConfig,
    );
    expect(r.connectProperties).toMatchObject({ requestResponseInformation: true, requestProblemInformation: false });
  });

  it('rejects enhanced authentication', () => {
    expectInvalid(
      withConnect({ authenticationMethod: 'SCRAM-SHA-1' }),
      CONNECT,
      /enhanced authentication \(AUTH\) is not supported yet/,
    );
    expectInvalid(
      withConnect({ authenticationData: Buffer.from('x') }),
      CONNECT,
      /enhanced authentication \(AUTH\) is not supported yet/,
    );
  });

  it('checks client id, username and password', () => {
    expectInvalid(withConnect({ clientId: 5 }), CONNECT, /clientId must be a string/);
    expectInvalid(withConnect({ clientId: 'a\u0000b' }), CONNECT, /clientId is not valid MQTT UTF-8/);
    expectInvalid(withConnect({ clientId: 'a\ud800b' }), CONNECT, /clientId is not valid MQTT UTF-8/);
    expectInvalid(withConnect({ username: '\u007f' }), CONNECT, /username is not valid MQTT UTF-8/);
    expectInvalid(withConnect({ username: '\ufdd0' }), CONNECT, /username/);
    expectInvalid(withConnect({ username: '\ud83f\udffe' }), CONNECT, /username/); // U+1FFFE
    expect(resolveClientConfig(withConnect({ username: 'é😀' }) as Mqtt5ClientConfig).connectProperties.username).toBe(
      'é😀',
    );
    expect(
      resolveClientConfig(withConnect({ clientId: 'x'.repeat(65535) }) as Mqtt5ClientConfig).connectProperties.clientId,
    ).toHaveLength(65535);
    expectInvalid(withConnect({ clientId: 'x'.repeat(65536) }), CONNECT, /clientId must be at most 65535 UTF-8 bytes/);
    expectInvalid(withConnect({ clientId: 'é'.repeat(32768) }), CONNECT, /at most 65535 UTF-8 bytes, got 65536/);
    expectInvalid(withConnect({ password: new Uint8Array(65536) }), CONNECT, /password must be at most 65535 bytes/);
    expectInvalid(withConnect({ password: 42 }), CONNECT, /password must be a string, Uint8Array/);
    expect(
      resolveClientConfig(withConnect({ password: new Uint8Array(65535) }) as Mqtt5ClientConfig).connectProperties
        .password,
    ).toHaveLength(65535);
  });

  it('does not echo a bad secret in the error message', () => {
    const error = thrown(() =>
      resolveClientConfig(withConnect({ password: 'hunter2'.repeat(10_000) }) as Mqtt5ClientConfig),
    );
    expect(error.message).not.toContain('hunter2');
    const error2 = thrown(() => resolveClientConfig(withConnect({ username: 'hunter2\u0000' }) as Mqtt5ClientConfig));
    expect(error2.message).not.toContain('hunter2');
  });

  it('checks user properties', () => {
    const props = (n: number): unknown[] => Array.from({ length: n }, (_, i) => ({ name: `k${i}`, value: 'v' }));
    expect(
      resolveClientConfig(withConnect({ userProperties: props(1024) }) as Mqtt5ClientConfig).connectProperties
        .userProperties,
    ).toHaveLength(1024);
    expectInvalid(
      withConnect({ userProperties: props(1025) }),
      USER_PROPERTY,
      /^connect: userProperties has 1025 entries, at most 1024 are allowed$/,
    );
    expectInvalid(withConnect({ userProperties: {} }), USER_PROPERTY, /userProperties must be an array/);
    expectInvalid(withConnect({ userProperties: ['a'] }), USER_PROPERTY, /userProperties\[0\] must be an object/);
    expectInvalid(
      withConnect({ userProperties: [{ name: 'a', value: 1 }] }),
      USER_PROPERTY,
      /userProperties\[0\].value must be a string/,
    );
    expectInvalid(
      withConnect({ userProperties: [{ name: 2, value: 'x' }] }),
      USER_PROPERTY,
      /userProperties\[0\].name must be a string/,
    );
    expectInvalid(
      withConnect({ userProperties: [{ name: 'a', value: 'x'.repeat(65536) }] }),
      USER_PROPERTY,
      /userProperties\[0\].value must be at most 65535/,
    );
    expectInvalid(
      withConnect({ userProperties: [{ name: '\u0001', value: 'x' }] }),
      USER_PROPERTY,
      /userProperties\[0\].name is not valid/,
    );
  });

  describe('will', () => {
    const will = (w: Record<string, unknown>): unknown =>
      withConnect({ will: { topicName: 'last/will', qos: 1, ...w } });

    it('accepts a full will and copies it', () => {
      const r = resolveClientConfig(
        will({
          payload: 'bye',
          retain: true,
          payloadFormat: 1,
          messageExpiryIntervalSeconds: 10,
          responseTopic: 'reply/here',
          correlationData: new Uint8Array([1, 2]),
          contentType: 'text/plain',
          userProperties: [{ name: 'a', value: 'b' }],
        }) as Mqtt5ClientConfig,
      );
      expect(r.connectProperties.will).toEqual({
        topicName: 'last/will',
        qos: 1,
        payload: 'bye',
        retain: true,
        payloadFormat: 1,
        messageExpiryIntervalSeconds: 10,
        responseTopic: 'reply/here',
        correlationData: Buffer.from([1, 2]),
        contentType: 'text/plain',
        userProperties: [{ name: 'a', value: 'b' }],
      });
    });

    it('validates it as a publish', () => {
      expectInvalid(withConnect({ will: 'x' }), CONNECT, /^connect: will must be an object/);
      expectInvalid(
        will({ topicName: undefined }),
        CONNECT,
        /^connect: will: topicName must be a string, got undefined$/,
      );
      expectInvalid(will({ topicName: '' }), CONNECT, /will: topicName must not be empty/);
      expectInvalid(will({ topicName: 'a/+' }), CONNECT, /will: topicName must not contain the wildcard '\+'/);
      expectInvalid(will({ topicName: 'a/#' }), CONNECT, /will: topicName must not contain the wildcard '#'/);
      expectInvalid(will({ topicName: 'a\u0000' }), CONNECT, /will: topicName is not valid MQTT UTF-8/);
      expectInvalid(will({ qos: 3 }), CONNECT, /will: qos must be 0, 1 or 2/);
      expectInvalid(will({ retain: 'yes' }), CONNECT, /will: retain must be a boolean/);
      expectInvalid(will({ payloadFormat: 2 }), CONNECT, /will: payloadFormat/);
      expectInvalid(
        will({ payloadFormat: 1, payload: new Uint8Array([0xff]) }),
        CONNECT,
        /will: payloadFormat is Utf8 but the payload is not well-formed UTF-8/,
      );
      expectInvalid(
        will({ payloadFormat: 1, payload: 'a\ud800' }),
        CONNECT,
        /will: payloadFormat is Utf8 but the payload string has an unpaired surrogate/,
      );
      expectInvalid(will({ messageExpiryIntervalSeconds: -5 }), CONNECT, /will: messageExpiryIntervalSeconds/);
      expectInvalid(will({ topicAlias: 1 }), CONNECT, /will: topicAlias cannot be used in a will/);
      expectInvalid(will({ responseTopic: 'a/#' }), CONNECT, /will: responseTopic/);
      expectInvalid(will({ subscriptionIdentifiers: [1] }), CONNECT, /will: subscriptionIdentifiers/);
      expectInvalid(will({ contentType: '\u0000' }), CONNECT, /will: contentType/);
      expectInvalid(will({ correlationData: 7 }), CONNECT, /will: correlationData/);
      expectInvalid(
        will({ correlationData: new Uint8Array(65536) }),
        CONNECT,
        /will: correlationData must be at most 65535 bytes/,
      );
      expectInvalid(will({ payload: 5 }), CONNECT, /will: payload must be a string, bytes or an object, got 5/);
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      expectInvalid(will({ payload: cyclic }), CONNECT, /will: payload could not be serialised with JSON.stringify/);
      expectInvalid(
        will({ userProperties: [{ name: 'a', value: '\u0000' }] }),
        USER_PROPERTY,
        /^connect: will: userProperties\[0\].value is not valid MQTT UTF-8/,
      );
    });

    it('defaults qos to 0 and drops the client-managed dup and packetId', () => {
      const r = resolveClientConfig(
        withConnect({ will: { topicName: 't', dup: true, packetId: 7, type: 99 } }) as Mqtt5ClientConfig,
      );
      expect(r.connectProperties.will).toEqual({ topicName: 't', qos: 0 });
    });

    it('accepts a UTF-8 payload with control characters such as newlines', () => {
      const r = resolveClientConfig(
        will({ payloadFormat: 1, payload: Buffer.from('{\n"a": 1\n}') }) as Mqtt5ClientConfig,
      );
      expect(r.connectProperties.will?.payload).toEqual(Buffer.from('{\n"a": 1\n}'));
    });

    it('limits the payload to 65535 bytes', () => {
      expect(
        resolveClientConfig(will({ payload: new Uint8Array(65535) }) as Mqtt5ClientConfig).connectProperties.will
          ?.payload,
      ).toHaveLength(65535);
      expectInvalid(
        will({ payload: new Uint8Array(65536) }),
        CONNECT,
        /payload must be at most 65535 bytes, got 65536/,
      );
      expectInvalid(will({ payload: 'é'.repeat(32768) }), CONNECT, /got 65536/);
    });

    it('serialises an object payload to JSON once', () => {
      const payload = { temperature: 21 };
      const r = resolveClientConfig(will({ payload }) as Mqtt5ClientConfig);
      payload.temperature = 99;
      expect(r.connectProperties.will?.payload).toBe('{"temperature":21}');
    });
  });
});

describe('resolveClientConfig deep copy', () => {
  it('is frozen all the way down, and later changes to the input change nothing', () => {
    const password = new Uint8Array([1, 2, 3]);
    const userProperties = [{ name: 'a', value: 'b' }];
    const willProps = [{ name: 'w', value: 'x' }];
    const input = {
      connector,
      topicAliasingOptions: { outboundBehavior: OutboundTopicAliasBehaviorType.LRU },
      connectProperties: {
        keepAliveIntervalSeconds: 30,
        clientId: 'me',
        password,
        userProperties,
        will: { topicName: 'w', qos: 0, payload: new Uint8Array([9]), userProperties: willProps },
      },
    };
    const r = resolveClientConfig(input);
    expect(Object.isFrozen(r)).toBe(true);
    expect(Object.isFrozen(r.topicAliasing)).toBe(true);
    expect(Object.isFrozen(r.connectProperties)).toBe(true);
    expect(Object.isFrozen(r.connectProperties.userProperties)).toBe(true);
    expect(Object.isFrozen(r.connectProperties.userProperties?.[0])).toBe(true);
    expect(Object.isFrozen(r.connectProperties.will)).toBe(true);
    expect(Object.isFrozen(r.connectProperties.will?.userProperties)).toBe(true);

    password[0] = 42;
    userProperties[0]!.value = 'changed';
    userProperties.push({ name: 'extra', value: 'x' });
    willProps[0]!.value = 'changed';
    (input.connectProperties.will.payload as Uint8Array)[0] = 0;
    input.connectProperties.keepAliveIntervalSeconds = 5;
    input.connectProperties.clientId = 'other';
    input.topicAliasingOptions.outboundBehavior = OutboundTopicAliasBehaviorType.Manual;

    expect(r.connectProperties.password).toEqual(Buffer.from([1, 2, 3]));
    expect(r.connectProperties.userProperties).toEqual([{ name: 'a', value: 'b' }]);
    expect(r.connectProperties.will?.userProperties).toEqual([{ name: 'w', value: 'x' }]);
    expect(r.connectProperties.will?.payload).toEqual(Buffer.from([9]));
    expect(r.connectProperties.keepAliveIntervalSeconds).toBe(30);
    expect(r.connectProperties.clientId).toBe('me');
    expect(r.topicAliasing.outboundBehavior).toBe(OutboundTopicAliasBehaviorType.LRU);
    expect(() => {
      (r as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('copies every kind of binary input into a private Buffer', () => {
    const ab = new Uint8Array([1, 2, 3, 4]).buffer;
    const view = new DataView(ab, 1, 2);
    const r1 = resolveClientConfig(withConnect({ password: ab }) as Mqtt5ClientConfig);
    const r2 = resolveClientConfig(withConnect({ password: view }) as Mqtt5ClientConfig);
    new Uint8Array(ab)[1] = 99;
    expect(r1.connectProperties.password).toEqual(Buffer.from([1, 2, 3, 4]));
    expect(r2.connectProperties.password).toEqual(Buffer.from([2, 3]));
    expect(
      resolveClientConfig(withConnect({ password: 'secret' }) as Mqtt5ClientConfig).connectProperties.password,
    ).toBe('secret');
  });

  it('copies a SharedArrayBuffer too', () => {
    const sab = new SharedArrayBuffer(2);
    new Uint8Array(sab).set([5, 6]);
    const r = resolveClientConfig(withConnect({ password: sab }) as Mqtt5ClientConfig);
    new Uint8Array(sab)[0] = 0;
    expect(r.connectProperties.password).toEqual(Buffer.from([5, 6]));
  });

  it('treats null connectProperties fields like absent ones', () => {
    const r = resolveClientConfig(
      withConnect({
        clientId: null,
        username: null,
        password: null,
        receiveMaximum: null,
        userProperties: null,
        will: null,
      }) as Mqtt5ClientConfig,
    );
    expect(r.connectProperties).toEqual({ keepAliveIntervalSeconds: 60 });
    const w = resolveClientConfig(
      withConnect({ will: { topicName: 't', qos: 1, payload: null, responseTopic: null } }) as Mqtt5ClientConfig,
    );
    expect(w.connectProperties.will).toEqual({ topicName: 't', qos: 1 });
  });

  it('drops the client-managed cleanStart and topicAliasMaximum', () => {
    const r = resolveClientConfig(withConnect({ cleanStart: false, topicAliasMaximum: 10 }) as Mqtt5ClientConfig);
    expect(r.connectProperties).toEqual({ keepAliveIntervalSeconds: 60 });
  });

  it('keeps an empty client id for the server to assign one', () => {
    expect(resolveClientConfig(withConnect({ clientId: '' }) as Mqtt5ClientConfig).connectProperties.clientId).toBe('');
    expect(resolveClientConfig(withConnect({}) as Mqtt5ClientConfig).connectProperties.clientId).toBeUndefined();
  });
});

describe('resolveClientConfig with AwsIotCoreDefaults', () => {
  const iot = { extendedValidationAndFlowControlOptions: ClientExtendedValidationAndFlowControl.AwsIotCoreDefaults };

  it('generates a gen<32 hex> client id when none or an empty one is configured', () => {
    const a = resolveClientConfig({ connector, ...iot }).connectProperties;
    expect(a.keepAliveIntervalSeconds).toBe(1200);
    expect(a.clientId).toMatch(/^gen[0-9a-f]{32}$/);
    const b = resolveClientConfig(withConnect({ clientId: '' }, iot) as Mqtt5ClientConfig).connectProperties;
    expect(b.clientId).toMatch(/^gen[0-9a-f]{32}$/);
    expect(b.clientId).not.toBe(a.clientId);
    const c = resolveClientConfig(withConnect({}, iot) as Mqtt5ClientConfig).connectProperties;
    expect(c.clientId).toHaveLength(35);
  });

  it('keeps a configured client id and limits it to 128 bytes', () => {
    expect(
      resolveClientConfig(withConnect({ clientId: 'x'.repeat(128) }, iot) as Mqtt5ClientConfig).connectProperties
        .clientId,
    ).toHaveLength(128);
    expectInvalid(
      withConnect({ clientId: 'x'.repeat(129) }, iot),
      CONNECT,
      /AWS IoT Core: a client id may be at most 128 bytes/,
    );
    expect(
      resolveClientConfig(withConnect({ clientId: 'x'.repeat(129) }) as Mqtt5ClientConfig).connectProperties.clientId,
    ).toHaveLength(129);
  });
});
