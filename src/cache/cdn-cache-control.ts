/**
 * @module CDN-Cache-Control (RFC 9213): a Cache-Control meant for CDNs and reverse proxies like ferry. When present
 * and valid, ferry takes its caching directives from it instead of Cache-Control and Expires (§2.1) — and forwards
 * it unchanged. It is a Structured Field Dictionary (RFC 8941 §3.2, parsed by http/structured-fields.ts); an
 * invalid one is ignored as a whole. Pure.
 */
import { isItem, parseDictionaryField, Token, type BareItem } from '../http/structured-fields.ts';

/** Directives whose value must be an Integer (RFC 9213 §2.1 uses the Cache-Control semantics). */
const INTEGER_DIRECTIVES = new Set(['max-age', 's-maxage', 'stale-while-revalidate', 'stale-if-error']);

/** A bare item as a Cache-Control directive value (RFC 9111 §5.2: token or quoted-string); null for other types. */
function directiveValue(v: BareItem): string | null {
  if (v instanceof Token) return v.toString();
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  return null;
}

/**
 * The Cache-Control value ferry should obey, or null when the field is absent or not a valid Dictionary (or a
 * known directive has the wrong type, e.g. `max-age="60"`), in which case Cache-Control applies as usual.
 * Parameters on members are allowed and ignored (RFC 9213 §2.1 defines none); `foo="a;b"` is a String.
 */
export function parseCdnCacheControl(value: string | undefined): string | null {
  if (value === undefined) return null;
  const dict = parseDictionaryField(value);
  // An empty Dictionary is not serialised at all (RFC 8941 §3.2): an empty field is as if absent.
  if (dict === null || dict.size === 0) return null;
  const out: string[] = [];
  for (const [key, member] of dict) {
    if (!isItem(member)) {
      if (INTEGER_DIRECTIVES.has(key)) return null;
      continue; // an Inner List has no Cache-Control form: an unknown extension, ignored
    }
    const v = member[0];
    if (INTEGER_DIRECTIVES.has(key)) {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) return null;
      out.push(`${key}=${v}`);
    } else if (v === true) {
      out.push(key);
    } else if (v !== false) {
      const text = directiveValue(v);
      if (text !== null) out.push(`${key}=${text}`);
    }
  }
  return out.join(', ');
}
