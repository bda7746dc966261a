/**
 * `@mqtt5/codec`: the MQTT 5 packet model, encoder, streaming decoder and validation.
 *
 * @packageDocumentation
 */
export * from './packets.js';
export * from './errors.js';
export {
  MAXIMUM_PACKET_SIZE,
  MAXIMUM_STRING_BYTES,
  MAXIMUM_TOPIC_FILTERS,
  MAXIMUM_USER_PROPERTIES,
  MAXIMUM_VARIABLE_BYTE_INTEGER,
  isValidReasonCode,
} from './constants.js';
export { encode, encodeInto, encodedSize, variableByteIntegerLength } from './encoder.js';
export { Decoder, type DecoderOptions, decodePacket } from './decoder.js';
export { toBinaryBuffer, toPayloadBuffer } from './payload.js';
export {
  type SharedSubscription,
  isSharedSubscription,
  isValidTopicFilter,
  isValidTopicName,
  parseSharedSubscription,
} from './topics.js';
export { findInvalidMqttUtf8, isValidMqttUtf8 } from './utf8.js';
export {
  validateConnect,
  validateDisconnect,
  validatePublish,
  validateSubscribe,
  validateUnsubscribe,
  validateUserProperties,
} from './validate.js';
