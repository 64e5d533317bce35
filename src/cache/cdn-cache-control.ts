/**
 * @module CDN-Cache-Control (RFC 9213): a Cache-Control meant for CDNs and reverse proxies like ferry. When present
 * and valid, ferry takes its caching directives from it instead of Cache-Control and Expires (§2.1) — and forwards
 * it unchanged. It is a Structured Field Dictionary (RFC 8941 §3.2); an invalid one is ignored as a whole. Pure.
 */

const KEY = /^[a-z*][a-z0-9_.*-]*$/;
const BARE_ITEM = [
  /^-?\d{1,15}$/, // integer
  /^-?\d{1,12}\.\d{1,3}$/, // decimal
  /^"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*"$/, // string
  /^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*$/, // token
  /^:[A-Za-z0-9+/=]*:$/, // byte sequence
  /^\?[01]$/, // boolean
];
/** Directives whose value must be an Integer (RFC 9213 §2.1 uses the Cache-Control semantics). */
const INTEGER_DIRECTIVES = new Set(['max-age', 's-maxage', 'stale-while-revalidate', 'stale-if-error']);

function splitMembers(value: string): string[] | null {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (quoted && c === '\\') { cur += c + (value[++i] ?? ''); continue; }
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) { out.push(cur.trim()); cur = ''; continue; }
    cur += c;
  }
  if (quoted) return null;
  out.push(cur.trim());
  return out.some((m) => m === '') ? null : out;
}

const isBareItem = (v: string): boolean => BARE_ITEM.some((re) => re.test(v));

/**
 * The Cache-Control value ferry should obey, or null when the field is absent or not a valid Dictionary (or a
 * known directive has the wrong type, e.g. `max-age="60"`), in which case Cache-Control applies as usual.
 */
export function parseCdnCacheControl(value: string | undefined): string | null {
  if (value === undefined) return null;
  const members = splitMembers(value.trim());
  if (members === null) return null;
  const out: string[] = [];
  for (const member of members) {
    const [item, ...params] = member.split(';').map((s) => s.trim());
    for (const p of params) {
      const [k, v] = p.split('=');
      if (!KEY.test(k ?? '') || (v !== undefined && !isBareItem(v))) return null;
    }
    const eq = item!.indexOf('=');
    const key = eq < 0 ? item! : item!.slice(0, eq);
    const val = eq < 0 ? undefined : item!.slice(eq + 1);
    if (!KEY.test(key) || (val !== undefined && !isBareItem(val))) return null;
    if (INTEGER_DIRECTIVES.has(key)) {
      if (val === undefined || !/^\d{1,15}$/.test(val)) return null;
      out.push(`${key}=${val}`);
    } else if (val === undefined || val === '?1') {
      out.push(key);
    } else if (val !== '?0') {
      out.push(`${key}=${val}`);
    }
  }
  return out.join(', ');
}
