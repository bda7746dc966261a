import crypto from 'node:crypto';
import { mosquittoPasswordLine } from './mosquitto.js';

describe('mosquittoPasswordLine', () => {
  it('writes a mosquitto 2.0 $7$ PBKDF2-SHA512 line that verifies the password', () => {
    const line = mosquittoPasswordLine('alice', 'alice-pass');
    const m = /^alice:\$7\$101\$([A-Za-z0-9+/=]{16})\$([A-Za-z0-9+/=]{88})$/.exec(line);
    expect(m).not.toBeNull();
    const salt = Buffer.from(m![1]!, 'base64');
    const hash = Buffer.from(m![2]!, 'base64');
    expect(salt).toHaveLength(12);
    expect(crypto.pbkdf2Sync('alice-pass', salt, 101, 64, 'sha512').equals(hash)).toBe(true);
    expect(crypto.pbkdf2Sync('wrong', salt, 101, 64, 'sha512').equals(hash)).toBe(false);
  });

  it('salts every line differently', () => {
    expect(mosquittoPasswordLine('a', 'p')).not.toBe(mosquittoPasswordLine('a', 'p'));
  });
});
