/**
 * `@mqtt5/sdk`: the MQTT 5 client SDK in one import. `new Mqtt5Client({ hostName, port, tls?,
 * websocket?, httpProxyOptions?, socketOptions?, … })` builds the connector from these plain options;
 * everything public of `@mqtt5/codec`, `@mqtt5/client` and the transports is re-exported.
 *
 * @packageDocumentation
 */
export * from '@mqtt5/codec';
export * from '@mqtt5/client';
export * from '@mqtt5/transport-tcp';
export * from '@mqtt5/transport-websocket';
export * from '@mqtt5/transport-http-proxy';
export { Mqtt5Client, type Mqtt5ClientConfig } from './client.js';
export { createConnector, defaultPort, type TransportOptions, type WebsocketOptions } from './connector.js';
