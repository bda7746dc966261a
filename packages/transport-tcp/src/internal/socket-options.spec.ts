import { resolveSocketOptions, validateEndpoint } from './socket-options.js';

describe('resolveSocketOptions', () => {
  it('applies the defaults', () => {
    expect(resolveSocketOptions(undefined)).toEqual({ connectTimeoutMs: 10_000, keepAlive: false, keepAliveDelayMs: 0 });
    expect(resolveSocketOptions({ keepAlive: true, keepAliveDelayMs: 30_000, connectTimeoutMs: 5000 })).toEqual({
      connectTimeoutMs: 5000,
      keepAlive: true,
      keepAliveDelayMs: 30_000,
    });
  });

  it.each([
    [{ connectTimeoutMs: 0 }],
    [{ connectTimeoutMs: -1 }],
    [{ connectTimeoutMs: 1.5 }],
    [{ connectTimeoutMs: 2 ** 31 }],
    [{ keepAlive: 'yes' }],
    [{ keepAliveDelayMs: -5 }],
    [{ nodelay: true }],
    ['fast'],
  ])('rejects %p', (options) => {
    expect(() => resolveSocketOptions(options)).toThrow(expect.objectContaining({ code: 'AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION' }));
  });
});

describe('validateEndpoint', () => {
  it.each([
    ['', 1883],
    [undefined, 1883],
    ['h', 0],
    ['h', 65536],
    ['h', 1.5],
    ['h', '1883'],
  ])('rejects host %p port %p', (host, port) => {
    expect(() => validateEndpoint(host, port, '')).toThrow(expect.objectContaining({ code: 'AWS_ERROR_MQTT5_CLIENT_OPTIONS_VALIDATION' }));
  });

  it('accepts a host and a port', () => {
    expect(() => validateEndpoint('localhost', 1, '')).not.toThrow();
    expect(() => validateEndpoint('::1', 65535, '')).not.toThrow();
  });
});
