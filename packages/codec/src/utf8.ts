/**
 * MQTT UTF-8 string rules.
 *
 * Outbound strings follow the reference client's rule (`aws_mqtt_validate_utf8_text`): well-formed
 * UTF-8 (in JavaScript: no unpaired surrogate), and none of U+0000..U+001F, U+007F..U+009F,
 * U+FDD0..U+FDEF, or a code point whose low 16 bits are FFFE or FFFF. Inbound strings are held to
 * the specification's MUSTs only (well-formed, no U+0000, MQTT 5 §1.5.4), see the decoder.
 *
 * @packageDocumentation
 */

/**
 * The UTF-16 index of the first character of `s` that breaks the MQTT UTF-8 rule, or -1 when the
 * whole string is valid.
 */
export function findInvalidMqttUtf8(s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x7f) {
      if (c < 0x20) return i;
      continue;
    }
    if (c <= 0x9f) return i;
    if (c >= 0xd800 && c <= 0xdfff) {
      if (c >= 0xdc00) return i;
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return i;
      const cp = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
      if ((cp & 0xfffe) === 0xfffe) return i;
      i++;
      continue;
    }
    if (c >= 0xfdd0 && (c <= 0xfdef || c >= 0xfffe)) return i;
  }
  return -1;
}

/**
 * True when `s` is a string that may be sent as an MQTT UTF-8 string: well-formed, without control
 * characters (U+0000..U+001F, U+007F..U+009F) and without Unicode non-characters.
 */
export function isValidMqttUtf8(s: unknown): boolean {
  return typeof s === 'string' && findInvalidMqttUtf8(s) === -1;
}

/** @internal Says what is wrong at index `i` of `s` (never echoes the string itself). */
export function describeInvalidUtf8At(s: string, i: number): string {
  const c = s.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdfff) {
    const d = s.charCodeAt(i + 1);
    if (c < 0xdc00 && d >= 0xdc00 && d <= 0xdfff) {
      const cp = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
      return `non-character ${codePoint(cp)} at index ${i}`;
    }
    return `unpaired surrogate ${codePoint(c)} at index ${i}`;
  }
  if (c === 0) return `U+0000 at index ${i}`;
  if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return `control character ${codePoint(c)} at index ${i}`;
  return `non-character ${codePoint(c)} at index ${i}`;
}

function codePoint(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}
