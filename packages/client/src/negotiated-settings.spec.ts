import { type ConnackPacket, ConnectReasonCode, PacketType, QoS } from '@mqtt5/codec';
import { computeNegotiatedSettings } from './negotiated-settings.js';

const connack = (fields: Partial<ConnackPacket> = {}): ConnackPacket => ({
  type: PacketType.Connack,
  sessionPresent: false,
  reasonCode: ConnectReasonCode.Success,
  ...fields,
});

describe('computeNegotiatedSettings', () => {
  it('uses the client defaults and the CONNECT as sent when the CONNACK has no properties', () => {
    const settings = computeNegotiatedSettings(
      { keepAliveIntervalSeconds: 600, sessionExpiryIntervalSeconds: 3600, topicAliasMaximum: 25 },
      connack(),
      'client-1',
    );
    expect(settings).toEqual({
      maximumQos: QoS.AtLeastOnce,
      sessionExpiryInterval: 3600,
      receiveMaximumFromServer: 65535,
      maximumPacketSizeToServer: 268435460,
      topicAliasMaximumToServer: 0,
      topicAliasMaximumToClient: 25,
      serverKeepAlive: 600,
      retainAvailable: true,
      wildcardSubscriptionsAvailable: true,
      subscriptionIdentifiersAvailable: true,
      sharedSubscriptionsAvailable: true,
      rejoinedSession: false,
      clientId: 'client-1',
    });
  });

  it('defaults absent CONNECT properties to 0', () => {
    const settings = computeNegotiatedSettings({ keepAliveIntervalSeconds: 0 }, connack(), 'c');
    expect(settings.sessionExpiryInterval).toBe(0);
    expect(settings.topicAliasMaximumToClient).toBe(0);
    expect(settings.serverKeepAlive).toBe(0);
  });

  it('applies every CONNACK override', () => {
    const settings = computeNegotiatedSettings(
      { keepAliveIntervalSeconds: 1200, sessionExpiryIntervalSeconds: 10, topicAliasMaximum: 5 },
      connack({
        sessionPresent: true,
        maximumQos: QoS.AtMostOnce,
        sessionExpiryInterval: 0,
        receiveMaximum: 3,
        maximumPacketSize: 50,
        topicAliasMaximum: 7,
        serverKeepAlive: 30,
        retainAvailable: false,
        wildcardSubscriptionsAvailable: false,
        subscriptionIdentifiersAvailable: false,
        sharedSubscriptionsAvailable: false,
        assignedClientIdentifier: 'ignored-when-an-id-was-sent',
      }),
      'mine',
    );
    expect(settings).toEqual({
      maximumQos: QoS.AtMostOnce,
      sessionExpiryInterval: 0,
      receiveMaximumFromServer: 3,
      maximumPacketSizeToServer: 50,
      topicAliasMaximumToServer: 7,
      topicAliasMaximumToClient: 5, // not changed by the CONNACK
      serverKeepAlive: 30,
      retainAvailable: false,
      wildcardSubscriptionsAvailable: false,
      subscriptionIdentifiersAvailable: false,
      sharedSubscriptionsAvailable: false,
      rejoinedSession: true,
      clientId: 'mine',
    });
  });

  it('never raises maximumQos above the client cap of 1', () => {
    expect(
      computeNegotiatedSettings({ keepAliveIntervalSeconds: 1 }, connack({ maximumQos: QoS.ExactlyOnce }), 'c')
        .maximumQos,
    ).toBe(QoS.AtLeastOnce);
    expect(
      computeNegotiatedSettings({ keepAliveIntervalSeconds: 1 }, connack({ maximumQos: QoS.AtLeastOnce }), 'c')
        .maximumQos,
    ).toBe(QoS.AtLeastOnce);
  });

  it('takes the assigned client id when the CONNECT sent none', () => {
    expect(
      computeNegotiatedSettings({ keepAliveIntervalSeconds: 1 }, connack({ assignedClientIdentifier: 'auto-42' }), '')
        .clientId,
    ).toBe('auto-42');
    expect(computeNegotiatedSettings({ keepAliveIntervalSeconds: 1 }, connack(), '').clientId).toBe('');
  });
});
