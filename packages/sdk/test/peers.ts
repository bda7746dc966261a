import { startHttpConnectProxy, startMosquitto, usePeers } from '@mqtt5/test-peers';

/** The Basic credentials `authProxy` of {@link useBrokerAndProxies} requires. */
export const proxyAuth = { username: 'proxyuser', password: 'proxy-pass' };

/**
 * Mosquitto, an open CONNECT proxy and one requiring {@link proxyAuth}, started once for the calling
 * file (`beforeAll`) and stopped after it (`afterAll`): every way the facade reaches a broker.
 */
export function useBrokerAndProxies() {
  return usePeers({
    broker: () => startMosquitto(),
    proxy: () => startHttpConnectProxy(),
    authProxy: () => startHttpConnectProxy({ auth: proxyAuth }),
  });
}
