/**
 * Whether topic `name` matches subscription `filter` (MQTT 5 §4.7: `+` one level, `#` the rest
 * including the parent; wildcards at the first level do not match topics starting with `$`).
 * A `$share/<group>/` prefix is ignored.
 */
export function topicMatches(filter: string, name: string): boolean {
  let f = filter;
  if (f.startsWith('$share/')) f = f.split('/').slice(2).join('/');
  const fl = f.split('/');
  const nl = name.split('/');
  if (name.startsWith('$') && (fl[0] === '+' || fl[0] === '#')) return false;
  for (let i = 0; i < fl.length; i++) {
    const level = fl[i];
    if (level === '#') return true;
    if (i >= nl.length) return false;
    if (level !== '+' && level !== nl[i]) return false;
  }
  return fl.length === nl.length;
}
