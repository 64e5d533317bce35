/**
 * @module Cache keys. Pure; no I/O.
 *
 * Primary key (RFC 9111 §2, RELIABILITY C1): method + scheme + lower-cased host (default port dropped) + the exact
 * path and query ferry forwards. No other normalisation: whatever the origin sees decides the key, so the cache and
 * the origin cannot disagree on what a path is (cache deception, C4).
 * Secondary key (RFC 9111 §4.1): the request fields a stored response nominates in `Vary`, normalised (C5) so that
 * equivalent requests share one variant.
 */
import { getAllHeaders, getHeader, hasHeader, type HeaderList } from '../http/headers.ts';
import type { RequestContext } from '../proxy/context.ts';
import type { RequestHead } from '../proxy/phases.ts';

/** Longest Vary value we accept; longer → not stored (nginx and Varnish refuse these too; C3). */
export const MAX_VARY_LENGTH = 128;

export interface KeyParts {
  scheme: 'http' | 'https';
  /** Host as the client named it (Host header or absolute-form authority). */
  host: string;
  /** Origin-form target ferry forwards: `/path?query`, byte-exact. */
  path: string;
}

/** `http://example.com/a?b`: lower-cased host, default port dropped, path untouched. */
export function formatCacheUri(parts: KeyParts): string {
  return `${parts.scheme}://${cacheHost(parts)}${parts.path}`;
}

/** The key's host: lower-cased, default port dropped. */
export function cacheHost(parts: KeyParts): string {
  const host = parts.host.toLowerCase();
  const defaultPort = parts.scheme === 'https' ? ':443' : ':80';
  return host.endsWith(defaultPort) ? host.slice(0, -defaultPort.length) : host;
}

/**
 * The primary key. GET and HEAD share the GET key: a stored GET answers a HEAD (RFC 9110 §9.3.2); only GET
 * responses are stored.
 */
export function cacheKey(parts: KeyParts): string {
  return `GET ${formatCacheUri(parts)}`;
}

export type ParsedVary =
  | { kind: 'none' }
  | { kind: 'fields'; names: string[] }
  /** `Vary: *` or an over-long value: never matches (RFC 9111 §4.1), so not stored (C3). */
  | { kind: 'unstorable'; reason: string };

const NO_VARY: ParsedVary = { kind: 'none' };

export function parseVary(values: readonly string[]): ParsedVary {
  // Most responses have no Vary: nothing to split.
  if (values.length === 0) return NO_VARY;
  const joined = values.join(', ');
  if (joined.length > MAX_VARY_LENGTH) return { kind: 'unstorable', reason: `Vary longer than ${MAX_VARY_LENGTH} bytes` };
  const names = [...new Set(joined.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s.length > 0))];
  if (names.includes('*')) return { kind: 'unstorable', reason: 'Vary: *' };
  if (names.length === 0) return { kind: 'none' };
  return { kind: 'fields', names: names.sort() };
}

/**
 * One request field's value as the secondary key sees it (C5): all field lines joined, list members trimmed and
 * whitespace collapsed; Accept-Encoding members lower-cased and sorted (Fastly's normalisation), since their
 * order carries no meaning; Accept-Language as weighted ranges (normalizeAcceptLanguage). An absent field is
 * distinct from an empty one.
 */
/** One list member without commas, surrounding whitespace or runs of whitespace (tabs included). */
const ONE_PLAIN_MEMBER = /^[^\s,]+(?: [^\s,]+)*$/;

export function normalizeVaryValue(name: string, headers: HeaderList): string | undefined {
  const lines = getAllHeaders(headers, name);
  if (lines.length === 0) return undefined;
  // Most values are one line with one member and single spaces: already in the form the steps below give.
  if (lines.length === 1 && name !== 'accept-encoding' && name !== 'accept-language' && ONE_PLAIN_MEMBER.test(lines[0]!)) return lines[0];
  const members = lines.join(',').split(',').map((m) => m.trim().replace(/\s+/g, ' ')).filter((m) => m.length > 0);
  if (name === 'accept-encoding') return members.map((m) => m.toLowerCase().replace(/\s*;\s*/g, ';')).sort().join(', ');
  if (name === 'accept-language') return normalizeAcceptLanguage(members);
  return members.join(', ');
}

/**
 * Accept-Language members as a set of weighted ranges (cache-tests vary-normalise-lang-case, -lang-order): tags are
 * case-insensitive (RFC 9110 §8.5.1, RFC 5646 §2.1.1); `q=1`, `q=1.0` and no weight are the same weight (RFC 9110
 * §12.4.2); and members are ordered by weight, then by tag, since RFC 9110 §12.5.4 says an order among equal weights
 * "cannot be relied upon". An unreadable weight keeps its member's text as it is.
 */
export function normalizeAcceptLanguage(members: readonly string[]): string {
  const ranges = members.map((m) => {
    const [tag = '', ...params] = m.toLowerCase().split(';').map((p) => p.trim());
    const qp = params.find((p) => /^q\s*=/.test(p));
    const q = qp === undefined ? 1 : /^q\s*=\s*(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/.exec(qp) ? Number(qp.replace(/^q\s*=\s*/, '')) : NaN;
    const rest = params.filter((p) => p !== qp);
    const text = Number.isNaN(q) ? m.toLowerCase().replace(/\s*;\s*/g, ';') : [tag, ...rest, ...(q === 1 ? [] : [`q=${q}`])].join(';');
    return { text, q: Number.isNaN(q) ? -1 : q, tag };
  });
  return ranges.sort((a, b) => b.q - a.q || (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0)).map((r) => r.text).join(', ');
}

/** The secondary key suffix: `name=value` pairs for the nominated fields (absent fields marked distinctly). */
export function varyKey(names: readonly string[], headers: HeaderList): string {
  return names.map((n) => {
    const v = normalizeVaryValue(n, headers);
    return v === undefined ? `${n}!` : `${n}=${JSON.stringify(v)}`;
  }).join('&');
}

/** Variant key: primary + index generation + secondary; a purge drops the index, so its variants become unreachable. */
export function variantKey(primary: string, generation: string, suffix: string): string {
  return `${primary}\n${generation}\n${suffix}`;
}

/** A GET with a body is never answered from or put in the store (C2: fat GETs are a poisoning vector). */
export function hasRequestBody(headers: HeaderList): boolean {
  const cl = getHeader(headers, 'content-length');
  return hasHeader(headers, 'transfer-encoding') || (cl !== undefined && cl.trim() !== '0');
}

/** C1: scheme + host as the client named it + the path and query ferry forwards (after `?range=` removal). */
export function keyPartsOf(head: RequestHead, ctx: RequestContext): KeyParts | null {
  const absolute = /^(https?):\/\/([^/?#]+)(.*)$/i.exec(head.target);
  if (absolute) {
    const path = ctx.upstream?.path ?? (absolute[3] === '' ? '/' : absolute[3]!);
    return { scheme: absolute[1]!.toLowerCase() === 'https' ? 'https' : 'http', host: absolute[2]!, path };
  }
  const host = getHeader(head.headers, 'host');
  if (host === undefined || !head.target.startsWith('/')) return null;
  return { scheme: ctx.secure ? 'https' : 'http', host, path: ctx.upstream?.path ?? head.target };
}
