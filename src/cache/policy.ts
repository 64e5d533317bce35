/**
 * @module Cache policy glue: ferry's heads in, http-cache-semantics decisions out, plus the few rules a shared cache
 * in front of real sites adds on top (RELIABILITY C3). Pure: the clock is passed in.
 *
 * http-cache-semantics does the RFC 9111 work (storability §3, freshness §4.2 incl. heuristics §4.2.2, Age §4.2.3,
 * reuse §4, revalidation headers §4.3.1, 304 update §4.3.4, stale-while-revalidate / stale-if-error RFC 5861).
 */
import type CachePolicy from 'http-cache-semantics';
import { storedFields, storedStatus, type PolicyKit } from './policy-kit.ts';
import { getAllHeaders, hasHeader, type HeaderList } from '../http/headers.ts';
import { isExplicitlyShared, normalizedCacheControl, requestDirectives, responseCacheControl } from './cache-control.ts';
import { parseCdnCacheControl } from './cdn-cache-control.ts';
import { parseSurrogateControl } from './surrogate-control.ts';
import { normalizeVaryValue, parseVary } from './key.ts';
import { applyMustUnderstand, normalizeAge, normalizeExpires } from './field-repair.ts';

export { createPolicyKit, heuristicFraction, storedFields, MAX_HEURISTIC_SECONDS, type Clock, type PolicyKit, type PolicyObject } from './policy-kit.ts';

/** Request fields the cache evaluates itself against the stored response; never forwarded on a cache fill. */
export const CLIENT_CONDITIONALS = ['if-none-match', 'if-modified-since'] as const;
/** The same as a set (headers.ts withoutHeaders takes one as it is; from a list it builds one per call). */
export const CLIENT_CONDITIONAL_SET: ReadonlySet<string> = new Set(CLIENT_CONDITIONALS);
/** What a revalidation leaves out of the client's request: its conditionals and its Range (ferry sends its own validators, for the whole representation). */
export const REVALIDATION_DROPPED: ReadonlySet<string> = new Set([...CLIENT_CONDITIONALS, 'range', 'if-range']);

/**
 * The request as the policy sees it: GET (a HEAD is answered from the GET entry), the key's URI and host, and every
 * field normalised like the secondary key (C5), so the library's own Vary check agrees with ours.
 */
export function toPolicyRequest(headers: HeaderList, uri: { host: string; path: string }, only?: readonly string[]): CachePolicy.HttpRequest {
  const out: CachePolicy.Headers = {};
  for (const [name] of headers) {
    if (name in out || (only !== undefined && !only.includes(name))) continue;
    out[name] = normalizeVaryValue(name, headers);
  }
  const cc = out['cache-control'];
  if (typeof cc === 'string') out['cache-control'] = normalizedCacheControl(cc);
  out.host = uri.host;
  return { method: 'GET', url: uri.path, headers: out };
}

/**
 * The request fields http-cache-semantics 4.3.0 reads when it judges a stored response without Vary against a request
 * (`evaluateRequest`: Cache-Control and Pragma; Host is set from the key): the hit path normalises only these.
 */
export const REUSE_REQUEST_FIELDS = ['cache-control', 'pragma'] as const;

/**
 * The request fields http-cache-semantics 4.3.0 reads when it builds a policy for a response without Vary (its
 * constructor: Cache-Control, Authorization; Host is set from the key; every field is kept only with Vary): the miss
 * path normalises only these.
 */
export const STORE_REQUEST_FIELDS = ['cache-control', 'authorization'] as const;

/**
 * The request fields http-cache-semantics 4.3.0 reads when it revalidates a stored response without Vary: the
 * constructor's (STORE_REQUEST_FIELDS) for the updated policy, and `revalidationHeaders`' (Accept-Ranges, If-Match,
 * If-Unmodified-Since forbid weak validators); ferry takes only the validators out of the latter (validatorHeaders).
 * A 304 cannot add Vary (the library updates only the fields the stored response has). The revalidation path
 * normalises only these.
 */
export const REVALIDATE_REQUEST_FIELDS = [...STORE_REQUEST_FIELDS, 'accept-ranges', 'if-match', 'if-unmodified-since'] as const;

/** The response as received, fields joined (set-cookie never reaches the store, so joined values are safe). */
export function toPolicyResponse(status: number, headers: HeaderList): CachePolicy.HttpResponse {
  const out: CachePolicy.Headers = {};
  // One pass, joining repeated fields as they come (own fields only: a field named like an Object.prototype member
  // is a field too).
  for (const [name, value] of headers) {
    const prev = out[name];
    out[name] = typeof prev === 'string' && Object.hasOwn(out, name) ? `${prev}, ${value}` : value;
  }
  return { status, headers: out };
}

export { MAX_DELTA_SECONDS, normalizeAge, normalizeExpires } from './field-repair.ts';

/**
 * What the library should read (`view`) and what ferry stores and serves (`stored`):
 * - CDN-Cache-Control (RFC 9213), when valid, replaces Cache-Control and Expires in the view; it is forwarded as is.
 *   Failing that, Surrogate-Control (Edge Architecture 1.0) directives for ferry do the same (surrogate-control.ts).
 * - Cache-Control is read strictly (normalizeCacheControl) in the view; clients get the origin's text.
 * - RFC 9111 §5.2.2.4 / §5.2.2.7: qualified no-cache="f" and private="f" keep only the listed fields out of what a
 *   shared cache stores; the rest of the response may be stored.
 */
export function policyView(headers: CachePolicy.Headers, status = 200): { view: CachePolicy.Headers; stored: CachePolicy.Headers } {
  const view: CachePolicy.Headers = { ...headers };
  const stored: CachePolicy.Headers = { ...headers };
  // The library reads Age from the stored headers, so the sanitised value goes into both; an invalid one is ignored.
  if (typeof headers.age === 'string') {
    const age = normalizeAge(headers.age);
    if (age === undefined) { delete view.age; delete stored.age; } else view.age = stored.age = age;
  }
  // Expires as RFC 9111 §5.3 reads it (field-repair.ts). The library reads it from the stored headers too, so the
  // stored response carries the canonical form: the same instant as IMF-fixdate, or 1970 for an invalid value.
  const expires = headers.expires;
  if (expires !== undefined) view.expires = stored.expires = normalizeExpires(Array.isArray(expires) ? expires.join(', ') : expires);
  const str = (name: string): string | undefined => (typeof headers[name] === 'string' ? headers[name] : undefined);
  const cdn = parseCdnCacheControl(str('cdn-cache-control')) ?? parseSurrogateControl(str('surrogate-control'));
  let cc = cdn ?? (typeof headers['cache-control'] === 'string' ? headers['cache-control'] : undefined);
  if (cdn !== null) { delete view.expires; delete view.pragma; }
  if (cc !== undefined) {
    const read = responseCacheControl(cc);
    for (const f of read.omit) { delete view[f]; delete stored[f]; }
    cc = read.cc;
    // RFC 9111 §5.2.2.3 (field-repair.ts): must-understand overrides no-store for a status ferry understands.
    if (cc.includes('must-understand')) cc = applyMustUnderstand(cc, status) ?? `${cc}, no-store`;
    if (cc === '') delete view['cache-control']; else view['cache-control'] = cc;
  }
  return { view, stored };
}

/** A policy that decides from the view and keeps the stored headers (see policyView). */
export function createStoredPolicy(kit: PolicyKit, req: CachePolicy.HttpRequest, status: number, headers: CachePolicy.Headers): CachePolicy {
  const { view, stored } = policyView(headers, status);
  return kit.withStoredHeaders(kit.create(req, { status, headers: view }), stored);
}

/**
 * Back to a HeaderList (set-cookie never reaches the store, so joined values are safe); `date`, when given, replaces
 * the Date field's value (servedList).
 */
export function fromPolicyHeaders(headers: CachePolicy.Headers, date?: string): HeaderList {
  const out: HeaderList = [];
  for (const name in headers) {
    const value = name === 'date' && date !== undefined ? date : headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.push([name, v]);
    else out.push([name, value]);
  }
  return out;
}

export { isExplicitlyShared, normalizeCacheControl, requestDirectives, withoutQualifiedDirectives } from './cache-control.ts';

export type StoreDecision =
  | { kind: 'store'; policy: CachePolicy; ttlMs: number; varyNames: string[] }
  | { kind: 'no-store'; reason: string };

/**
 * Request fields that change what many origins send but are neither in the key nor rewritten by ferry (RELIABILITY
 * C2, PortSwigger "Practical Web Cache Poisoning"): a response to a request carrying one is forwarded, never stored.
 * X-Forwarded-Host/-Proto are absent: ferry overwrites them (unless --forwarded, see createCacheFilterFromOptions).
 */
export const UNKEYED_REQUEST_FIELDS: readonly string[] = [
  'forwarded', 'x-forwarded-scheme', 'x-forwarded-port', 'x-forwarded-server', 'x-forwarded-prefix', 'x-host',
  'x-original-url', 'x-rewrite-url', 'x-http-method-override', 'x-http-method', 'x-method-override',
];

/**
 * May this GET response be stored (RFC 9111 §3 via the library, plus C3)? Complete answers to GET (no 206; other
 * final statuses as ClockedPolicy.storable allows); no Set-Cookie (Varnish, nginx); no `Vary: *` or over-long Vary; requests with Cookie only when the response
 * is explicitly shareable; and something to reuse: freshness left, or a validator to revalidate with.
 */
export function decideStore(kit: PolicyKit, req: CachePolicy.HttpRequest, reqHeaders: HeaderList, status: number, resHeaders: HeaderList, unkeyed: readonly string[] = UNKEYED_REQUEST_FIELDS): StoreDecision {
  const probe = firstUnkeyed(reqHeaders, unkeyed);
  if (probe !== undefined) return { kind: 'no-store', reason: `unkeyed request field ${probe}` };
  if (status === 206) return { kind: 'no-store', reason: 'partial content' };
  if (hasHeader(resHeaders, 'set-cookie')) return { kind: 'no-store', reason: 'set-cookie' };
  const vary = parseVary(getAllHeaders(resHeaders, 'vary'));
  if (vary.kind === 'unstorable') return { kind: 'no-store', reason: vary.reason };
  if (hasHeader(reqHeaders, 'cookie') && !isExplicitlyShared(resHeaders)) return { kind: 'no-store', reason: 'cookie' };
  const policy = createStoredPolicy(kit, req, status, toPolicyResponse(status, resHeaders).headers);
  if (!policy.storable()) return { kind: 'no-store', reason: 'not storable' };
  const ttlMs = policy.timeToLive();
  const validator = hasHeader(resHeaders, 'etag') || hasHeader(resHeaders, 'last-modified');
  if (ttlMs <= 0 && !validator) return { kind: 'no-store', reason: 'stale on arrival' };
  return { kind: 'store', policy, ttlMs, varyNames: vary.kind === 'fields' ? vary.names : [] };
}

/** The first of `unkeyed` (in its order) the request carries: one pass over the request's fields. */
function firstUnkeyed(reqHeaders: HeaderList, unkeyed: readonly string[]): string | undefined {
  let first = -1;
  for (const [name] of reqHeaders) {
    const i = unkeyed.indexOf(name);
    if (i >= 0 && (first < 0 || i < first)) first = i;
  }
  return first < 0 ? undefined : unkeyed[first];
}

/** Kept past its freshness so it can still be revalidated, or served to `max-stale` requests (LRU bounds the rest). */
export const STALE_RETENTION_MS = 3_600_000;

/** How long the store should keep an entry: freshness plus stale-* windows, plus STALE_RETENTION_MS. */
export function retentionMs(policy: CachePolicy): number {
  return retentionForTtl(policy.timeToLive());
}

/** `retentionMs` from a time to live already read (decideStore's `ttlMs`): the library recomputes it per call. */
export function retentionForTtl(ttlMs: number): number {
  return Math.max(ttlMs, 0) + STALE_RETENTION_MS;
}

export type ReuseDecision =
  /** Serve the stored response; `headers` carry the current Age. */
  | { kind: 'fresh'; headers: HeaderList; ttl: number }
  /** Serve it stale and revalidate in the background (stale-while-revalidate, RFC 5861 §3). */
  | { kind: 'stale-while-revalidate'; headers: HeaderList; ttl: number }
  /** Must revalidate before use (stale, no-cache, request max-age=0 …). */
  | { kind: 'revalidate'; stale: boolean }
  /** The stored response may not answer this request at all (Cookie without an explicitly shared entry). */
  | { kind: 'unusable'; reason: string };

/**
 * The stored headers as a list, with the origin's Date: the library stamps `Date: now` on reused responses, while
 * RFC 9110 §6.6.1 makes Date the origin's generation time and caches must not change it (cache-tests
 * other-date-update). Age carries the time spent in caches.
 */
function servedList(headers: CachePolicy.Headers, policy: CachePolicy): HeaderList {
  const stored = storedFields(policy).headers.date;
  return fromPolicyHeaders(headers, typeof stored === 'string' ? stored : undefined);
}

/** Stored headers ready to serve: current Age, the origin's Date. */
export function servedHeaders(policy: CachePolicy): HeaderList {
  return servedList(policy.responseHeaders(), policy);
}

/** Seconds of freshness left (negative once stale): RFC 9211 §2.7 ttl. */
export function freshnessLeft(policy: CachePolicy): number {
  return policy.maxAge() - policy.age();
}

export function decideReuse(kit: PolicyKit, policy: CachePolicy, req: CachePolicy.HttpRequest, reqHeaders: HeaderList): ReuseDecision {
  if (hasHeader(reqHeaders, 'cookie') && !isExplicitlyShared(fromPolicyHeaders(policy.responseHeaders()))) return { kind: 'unusable', reason: 'cookie' };
  let view = policy;
  // Deviation (library): http-cache-semantics 4.3 forces revalidation whenever must-revalidate is present, but
  // RFC 9111 §5.2.2.2 only forbids reusing the response *once it is stale*. A fresh one is evaluated without it.
  if (storedFields(policy).directives['must-revalidate'] !== undefined && !policy.stale()) {
    const obj = policy.toObject();
    const { 'must-revalidate': _dropped, ...rescc } = obj.rescc;
    // The toObject() shape (`rescc`, `a`) is the pinned 4.3.0's (policy-kit.ts). `a: true`: it was stored, so it was storable; without must-revalidate an Authorization request would not be.
    view = kit.restore({ ...obj, rescc, a: true });
  }
  const result = view.evaluateRequest(req);
  const ttl = freshnessLeft(policy);
  if (result.response === undefined) return { kind: 'revalidate', stale: policy.stale() };
  const headers = servedList(result.response.headers, policy);
  if (result.revalidation === undefined) return { kind: 'fresh', headers, ttl };
  if (!result.revalidation.synchronous) return { kind: 'stale-while-revalidate', headers, ttl };
  return { kind: 'revalidate', stale: policy.stale() };
}

/** Validators to add when revalidating the stored response (RFC 9111 §4.3.1): If-None-Match / If-Modified-Since. */
export function validatorHeaders(policy: CachePolicy, req: CachePolicy.HttpRequest): HeaderList {
  // The request without the client's own conditionals, copied field by field (a `delete` would turn the copy into a
  // slow dictionary object, which the library then copies again).
  const headers: CachePolicy.Headers = {};
  for (const n in req.headers) if (!CLIENT_CONDITIONAL_SET.has(n)) headers[n] = req.headers[n];
  const h = policy.revalidationHeaders({ ...req, headers });
  const out: HeaderList = [];
  for (const n of CLIENT_CONDITIONALS) {
    const v = h[n];
    if (typeof v === 'string') out.push([n, v]);
  }
  return out;
}

/** Does `stale-if-error` (RFC 5861 §4) let the stored response stand in for an error or an unreachable origin? */
export function staleIfErrorAllows(policy: CachePolicy, req: CachePolicy.HttpRequest, reqHeaders: HeaderList): boolean {
  // The library answers this inside revalidatedPolicy: an error answer within the window returns the same policy.
  if (policy.revalidatedPolicy(req, { status: 502, headers: {} }).policy === policy) return true;
  // The request may also ask for it (RFC 5861 §4: "in a request").
  const sie = requestDirectives(reqHeaders).get('stale-if-error');
  if (sie === undefined || sie === true) return false;
  const n = Number(sie);
  return Number.isFinite(n) && policy.age() - policy.maxAge() <= n;
}

export type RevalidationOutcome =
  /** 304 matched: serve the stored body with the updated policy (RFC 9111 §4.3.4). */
  | { kind: 'not-modified'; policy: CachePolicy }
  /** An error within stale-if-error: serve the stored response as it is. */
  | { kind: 'stale-if-error' }
  /** 304 that selects nothing we hold: fetch again without validators. */
  | { kind: 'refetch' }
  /** A full new response replaces the stored one (store it like a miss). */
  | { kind: 'replaced' };

/**
 * Fields that describe the stored bytes themselves, so a 304 must not replace them (RFC 9111 §3.2: not "header
 * fields that the cache's stored response depends upon"; cache-tests 304-etag-update-response-Content-MD5). The
 * library already keeps Content-Length, Content-Encoding, Transfer-Encoding and Content-Range.
 */
export const BODY_BOUND_FIELDS: ReadonlySet<string> = new Set(['content-md5', 'content-digest']);

export function decideRevalidation(kit: PolicyKit, policy: CachePolicy, req: CachePolicy.HttpRequest, reqHeaders: HeaderList, status: number, resHeaders: HeaderList): RevalidationOutcome {
  if (status >= 500 && staleIfErrorAllows(policy, req, reqHeaders)) return { kind: 'stale-if-error' };
  if (status !== 304) return { kind: 'replaced' };
  const update = resHeaders.filter(([n]) => !BODY_BOUND_FIELDS.has(n));
  // RFC 9111 §4.3.4 selects stored responses by the 304's validators, and the library rejects a 304 without any
  // when the stored response has one. But ferry sent exactly one stored response's validators, so a 304 carrying
  // none (origins that leave ETag out of 304s, against RFC 9110 §15.4.5) can only be about that one: select it.
  // (cache-tests cc-resp-must-revalidate-stale, conditional-lm-stale, conditional-etag-vary-headers)
  if (!hasHeader(update, 'etag') && !hasHeader(update, 'last-modified')) {
    const resh = storedFields(policy).headers;
    for (const n of ['etag', 'last-modified']) if (typeof resh[n] === 'string') update.push([n, resh[n]]);
  }
  const stored = storedFields(policy).headers;
  const received = toPolicyResponse(304, update).headers;
  if (!notModifiedSelects(stored, received)) return { kind: 'refetch' };
  // The merged headers are read again through the view (CDN-Cache-Control, strict Cache-Control): one policy built
  // from them, where the library's revalidatedPolicy builds one more only for this function to read its fields back.
  return { kind: 'not-modified', policy: createStoredPolicy(kit, req, storedStatus(policy), notModifiedMerge(stored, received)) };
}

/** Fields a 304 never replaces because the stored body keeps them (http-cache-semantics 4.3.0's own list). */
const KEPT_ON_UPDATE: ReadonlySet<string> = new Set(['content-length', 'content-encoding', 'transfer-encoding', 'content-range']);

const WEAK = /^\s*W\//;

/**
 * Does a 304 carrying `received` select the stored response with `stored` (RFC 9111 §4.3.4)? The rule of
 * http-cache-semantics 4.3.0's revalidatedPolicy, field for field (test/cache/policy.test.ts compares the two): a
 * strong ETag must equal the stored one (the stored one's W/ ignored); a weak one matches weakly; without ETags,
 * Last-Modified decides; with no validator on either side, the one stored response is selected.
 */
export function notModifiedSelects(stored: CachePolicy.Headers, received: CachePolicy.Headers): boolean {
  const etag = received.etag as string | undefined;
  const storedEtag = stored.etag as string | undefined;
  if (etag && !WEAK.test(etag)) return !!storedEtag && storedEtag.replace(WEAK, '') === etag;
  if (storedEtag && etag) return storedEtag.replace(WEAK, '') === etag.replace(WEAK, '');
  if (stored['last-modified']) return stored['last-modified'] === received['last-modified'];
  return !storedEtag && !stored['last-modified'] && !etag && !received['last-modified'];
}

/**
 * RFC 9111 §3.2 as http-cache-semantics 4.3.0 applies it: each stored field the 304 also carries takes the 304's
 * value, except those the body keeps (KEPT_ON_UPDATE); the 304 adds no field. (The library tests `name in` the
 * 304's fields, which also finds Object.prototype's `constructor`: own fields only here.)
 */
export function notModifiedMerge(stored: CachePolicy.Headers, received: CachePolicy.Headers): CachePolicy.Headers {
  const out: CachePolicy.Headers = {};
  for (const k in stored) out[k] = Object.hasOwn(received, k) && !KEPT_ON_UPDATE.has(k) ? received[k] : stored[k];
  return out;
}
