/**
 * @module Cache-Control read the way RFC 9111 §5.2 writes it: lists split outside quoted strings, directive names
 * case-insensitive, strict delta-seconds (§1.2.2), qualified no-cache/private. Pure.
 */
import { getJoinedHeader, type HeaderList } from '../http/headers.ts';

/** Drop `no-cache="a, b"` and `private="a"` (qualified forms) from a Cache-Control value; return the fields named. */
export function withoutQualifiedDirectives(value: string): { value: string; omit: string[] } {
  const omit: string[] = [];
  const kept = splitOutsideQuotes(value).filter((part) => {
    const m = /^(no-cache|private)\s*=\s*(?:"([^"]*)"|([^\s"]+))$/i.exec(part);
    if (!m) return true;
    const list = (m[2] ?? m[3] ?? '').split(',').map((f) => f.trim().toLowerCase()).filter((f) => f.length > 0);
    omit.push(...list);
    return false;
  });
  return { value: kept.join(', '), omit };
}

/** Split a list on commas outside quoted strings (RFC 9110 §5.6.1, §5.6.4). */
export function splitOutsideQuotes(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (quoted && c === '\\' && i + 1 < value.length) { cur += c + value[++i]!; continue; }
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) { out.push(cur); cur = ''; continue; }
    cur += c;
  }
  out.push(cur);
  return out.map((p) => p.trim()).filter((p) => p.length > 0);
}

/**
 * `read` remembering its answers for the last values it was given. Origins send the same few Cache-Control values
 * over and over, and reading one runs regular expressions per directive: ~30 000 instructions per response stored or
 * revalidated (callgrind), the largest pure part of a cache fill. Bounded (forgotten all at once when full, values
 * over 256 characters not kept), so a client or origin sending a new value each time costs the plain read, never
 * memory. Answers are shared: callers must not change them.
 */
export function remembered<T>(read: (value: string) => T, size = 256): (value: string) => T {
  const seen = new Map<string, T>();
  return (value) => {
    let out = seen.get(value);
    if (out !== undefined) return out;
    out = read(value);
    if (value.length <= 256) {
      if (seen.size >= size) seen.clear();
      seen.set(value, out);
    }
    return out;
  };
}

const DELTA_SECONDS_DIRECTIVES = new Set(['max-age', 's-maxage', 'stale-while-revalidate', 'stale-if-error', 'max-stale', 'min-fresh']);

/**
 * Cache-Control as RFC 9111 §5.2 reads it, before the library sees it: directive names are case-insensitive; a
 * delta-seconds (§1.2.2) is digits only (the quoted form is accepted, §5.2); an invalid one (`100a`, `-1`, `a1`,
 * `'1'`, `max-age =1`) makes the response stale rather than letting a lenient parse pick a number out of it.
 */
export function normalizeCacheControl(value: string): string {
  return splitOutsideQuotes(value).map((part) => {
    const m = /^([^=\s]+)(\s*=\s*)?(.*)$/.exec(part);
    if (!m) return part;
    const name = m[1]!.toLowerCase();
    if (!DELTA_SECONDS_DIRECTIVES.has(name)) return m[2] === undefined ? name : `${name}=${m[3]}`;
    if (m[2] === undefined) return name === 'max-stale' ? name : `${name}=0`;
    const raw = m[3]!.replace(/^"(\d+)"$/, '$1');
    const ok = m[2] === '=' && /^\d+$/.test(raw);
    return `${name}=${ok ? String(Math.min(Number(raw), 2 ** 31)) : '0'}`;
  }).join(', ');
}

/** normalizeCacheControl, remembered (see `remembered`): for a request's Cache-Control on every cache lookup. */
export const normalizedCacheControl: (value: string) => string = remembered(normalizeCacheControl);

/**
 * A response's Cache-Control as the policy reads it: qualified no-cache/private taken out (their fields listed in
 * `omit`), the rest normalised; remembered (see `remembered`).
 */
export const responseCacheControl: (value: string) => { readonly cc: string; readonly omit: readonly string[] } = remembered((value) => {
  const { value: kept, omit } = withoutQualifiedDirectives(value);
  return Object.freeze({ cc: normalizeCacheControl(kept), omit: Object.freeze(omit) });
});

function directives(value: string | undefined): Map<string, string | true> {
  const out = new Map<string, string | true>();
  if (value === undefined) return out;
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (name === '') continue;
    out.set(name, eq < 0 ? true : part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1'));
  }
  return out;
}

const NO_DIRECTIVES: ReadonlyMap<string, string | true> = new Map();
const rememberedDirectives = remembered((value: string): ReadonlyMap<string, string | true> => directives(value));

/**
 * A request's Cache-Control directives, read once per value (every cache lookup asks; `remembered`) and shared:
 * callers only read them.
 */
export function requestDirectives(headers: HeaderList): ReadonlyMap<string, string | true> {
  const value = getJoinedHeader(headers, 'cache-control');
  return value === undefined ? NO_DIRECTIVES : rememberedDirectives(value);
}

/** Explicitly shareable: `public` or `s-maxage` (RFC 9111 §5.2.2.9, §5.2.2.10). */
export function isExplicitlyShared(responseHeaders: HeaderList): boolean {
  const cc = directives(getJoinedHeader(responseHeaders, 'cache-control'));
  return cc.has('public') || cc.has('s-maxage');
}

