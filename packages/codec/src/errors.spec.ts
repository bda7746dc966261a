import { ERROR_CODES, Mqtt5Error, describeError } from './errors.js';

describe('Mqtt5Error', () => {
  it('carries a stable code, a message and the cause', () => {
    const cause = new Error('ECONNREFUSED');
    const e = new Mqtt5Error('AWS_IO_SOCKET_CONNECTION_REFUSED', 'connect to 127.0.0.1:1 refused', { cause });
    expect(e.code).toBe('AWS_IO_SOCKET_CONNECTION_REFUSED');
    expect(e.message).toBe('connect to 127.0.0.1:1 refused');
    expect(e.cause).toBe(cause);
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(Mqtt5Error);
    expect(Mqtt5Error.isInstance(e)).toBe(true);
  });

  it('defaults the message to the description of its code', () => {
    expect(new Mqtt5Error('AWS_ERROR_MQTT_TIMEOUT').message).toBe(describeError('AWS_ERROR_MQTT_TIMEOUT'));
  });

  it('recognises an error made by another copy of the package', () => {
    const foreign = Object.create({ [Symbol.for('mqtt5.error')]: true }) as object;
    expect(Mqtt5Error.isInstance(foreign)).toBe(true);
    expect(Mqtt5Error.isInstance(new Error('x'))).toBe(false);
    expect(Mqtt5Error.isInstance(null)).toBe(false);
  });

  it('has one sentence for every code', () => {
    for (const code of ERROR_CODES) expect(describeError(code)).toMatch(/^[A-Z].*\.$/);
    expect(describeError('NOPE')).toMatch(/Unknown error code/);
  });
});
