/**
 * @module The policy kit: http-cache-semantics' CachePolicy with an injected clock, plus ferry's storability
 * deviation. The one module that reaches into the library's private fields.
 *
 * Pinned dependency: this module reads http-cache-semantics' private fields `_status`, `_rescc` and `_resHeaders`,
 * calls its private `_copyWithoutHopByHopHeaders`, overrides its undeclared `now()` and its private `_ageValue()`,
 * keeps `maxAge()` and redoes `timeToLive()` per stored fields (KeptNumbersPolicy)
 * and redoes its `responseHeaders()` (keeping the stored Date); policy.ts and stale-on-disconnect.ts read and rewrite the undocumented
 * `toObject()` shape (`rescc`, `resh`, `a`). package.json pins http-cache-semantics to exactly 4.3.0 for that
 * reason, so an update is a deliberate step (re-run test/cache/policy.test.ts and `npm run conformance`), not a caret
 * range drifting under us.
 */
import CachePolicy from 'http-cache-semantics';
import { remembered } from './cache-control.ts';
import { steadyNow } from '../util/clock.ts';

export type PolicyObject = CachePolicy.CachePolicyObject;

/** 4.3.0's reading of a numeric field or directive (its private `toNumberOrZero`). */
function toNumberOrZero(value: unknown): number {
  const n = parseInt(value as string, 10);
  return Number.isFinite(n) ? n : 0;
}

/** The pinned 4.3.0's private members this module uses (see the module header). */
interface Private {
  _resHeaders: CachePolicy.Headers;
  _rescc: Record<string, string | true>;
  _copyWithoutHopByHopHeaders(headers: CachePolicy.Headers): CachePolicy.Headers;
}
export type Clock = () => number;

export interface PolicyKit {
  create(req: CachePolicy.HttpRequest, res: CachePolicy.HttpResponse): CachePolicy;
  /** The policy of a stored record; the same object for the same record (kept parsed: see createPolicyKit). */
  restore(obj: PolicyObject): CachePolicy;
  /**
   * `policy.toObject()`, remembered as that object's parsed policy: a record stored with it restores to `policy`
   * itself (a revalidated entry is read again right away, and would otherwise be parsed anew).
   */
  record(policy: CachePolicy): PolicyObject;
  /**
   * `policy`, made from a view of the response (policy.ts policyView), now keeping `stored` as the response's
   * fields: what `restore({ ...policy.toObject(), resh: stored })` gives, without the copy and the second
   * construction (fromObject assigns `_resHeaders` from `resh` and nothing else from it). Changes `policy` in place.
   */
  withStoredHeaders(policy: CachePolicy, stored: CachePolicy.Headers): CachePolicy;
}

/**
 * The stored response's fields and its parsed Cache-Control, read without `toObject()` (which allocates a copy per
 * call, and the hit path asks on every request). Private fields of the pinned 4.3.0: see this module's header.
 */
export function storedFields(policy: CachePolicy): { headers: CachePolicy.Headers; directives: Record<string, string | true> } {
  const self = policy as unknown as { _resHeaders: CachePolicy.Headers; _rescc: Record<string, string | true> };
  return { headers: self._resHeaders, directives: self._rescc };
}

/** The stored response's status (private field of the pinned 4.3.0, as `toObject().st` without the copy). */
export function storedStatus(policy: CachePolicy): number {
  return (policy as unknown as { _status: number })._status;
}

/** Upper bound of heuristic freshness (RELIABILITY C4: "10 % of its age, capped"); Squid's default cap is 3 days. */
export const MAX_HEURISTIC_SECONDS = 24 * 3600;

/**
 * RFC 9111 §4.2.2: 10 % of the time since Last-Modified, capped at MAX_HEURISTIC_SECONDS, expressed as the
 * library's `cacheHeuristic` fraction (it applies the fraction only when nothing explicit is given).
 */
export function heuristicFraction(res: CachePolicy.HttpResponse): number {
  const modified = res.headers['last-modified'];
  // Without Last-Modified the answer is the default fraction: no date to parse (most responses).
  if (modified === undefined) return 0.1;
  const lm = Date.parse(String(modified));
  const date = Date.parse(String(res.headers.date ?? ''));
  const base = Number.isFinite(date) ? date : steadyNow();
  if (!Number.isFinite(lm) || base <= lm) return 0.1;
  const ageSeconds = (base - lm) / 1000;
  return Math.min(0.1, MAX_HEURISTIC_SECONDS / ageSeconds);
}

// The library's own Cache-Control reading (4.3.0's private parseCacheControl, reached through a policy built on the
// value), remembered per value: its regular-expression splits were the largest part of building a policy. The
// answers are shared between policies: 4.3.0 changes a reading only in its constructor (the Pragma rule below, which
// applies without Cache-Control, so to a fresh object; and the cargo-cult option, which ferry leaves off).
const libraryCacheControl = remembered((value: string) => (new CachePolicy({ headers: {} }, { headers: { 'cache-control': value } }) as unknown as { _rescc: Record<string, string | true> })._rescc);
const readCacheControl = (value: CachePolicy.Headers[string]): Record<string, string | true> => (value ? libraryCacheControl(String(value)) : {});

/**
 * What 4.3.0's constructor gives a shared cache's policy with ferry's heuristic fraction, field for field, in the
 * `toObject()` shape, so that the kit builds it through the deserialisation path with the Cache-Control readings
 * remembered above (test/cache/policy.test.ts compares the result with the library's constructor).
 */
function constructedFields(now: number, req: CachePolicy.HttpRequest, res: CachePolicy.HttpResponse): PolicyObject {
  const rescc = readCacheControl(res.headers['cache-control']);
  if (res.headers['cache-control'] == null && /no-cache/.test(res.headers.pragma as string)) rescc['no-cache'] = true;
  return {
    v: 1, t: now, sh: true, ch: heuristicFraction(res), imm: 24 * 3600 * 1000, icc: false,
    st: 'status' in res ? res.status : 200, resh: res.headers, rescc,
    m: 'method' in req ? req.method : 'GET', u: req.url, h: req.headers.host, a: !req.headers.authorization,
    reqh: res.headers.vary ? req.headers : null, reqcc: readCacheControl(req.headers['cache-control']),
  } as PolicyObject;
}

/**
 * A parsed policy kept on its record object itself, under a symbol of its own (one per kit: kits differ in their
 * clock; JSON and Object.keys do not see it), not in a WeakMap: a WeakMap insertion cost ~20x building the record
 * (one per revalidation, one per record read from a disk or Redis store). A spread copies the mark, so the mark names
 * the object it belongs to: a copy, changed or not, is parsed anew.
 */
function parsedMarks(): { get(obj: PolicyObject): CachePolicy | undefined; set(obj: PolicyObject, policy: CachePolicy): CachePolicy } {
  const PARSED = Symbol('parsed policy');
  type Marked = PolicyObject & { [PARSED]?: { of: PolicyObject; policy: CachePolicy } };
  return {
    get: (obj) => {
      const kept = (obj as Marked)[PARSED];
      return kept !== undefined && kept.of === obj ? kept.policy : undefined;
    },
    set: (obj, policy) => { (obj as Marked)[PARSED] = { of: obj, policy }; return policy; },
  };
}

/**
 * Numbers the library reads again from the stored fields on every call (a parseInt each; for an absent field a call
 * into the runtime), several per hit. They depend on the stored fields only, never on the clock, and the fields
 * change only when withStoredHeaders swaps `_resHeaders` (`_rescc` is set once, at construction): each is kept per
 * fields object. A memory-store hit reuses one policy, so it reads them from here. Private members: see the pin in
 * this module's header.
 */
class KeptNumbersPolicy extends CachePolicy {
  #maxAgeOf: unknown = undefined;
  #maxAge = 0;
  #ageOf: unknown = undefined;
  #ageValue = 0;
  #windowsOf: unknown = undefined;
  #staleIfError = 0;
  #staleWhileRevalidate = 0;

  override maxAge(): number {
    const fields = (this as unknown as Private)._resHeaders;
    if (fields !== this.#maxAgeOf) { this.#maxAge = super.maxAge(); this.#maxAgeOf = fields; }
    return this.#maxAge;
  }

  /** 4.3.0's private `_ageValue` (the stored Age field as a number), kept per fields object. */
  _ageValue(): number {
    const fields = (this as unknown as Private)._resHeaders;
    if (fields !== this.#ageOf) { this.#ageValue = toNumberOrZero(fields.age); this.#ageOf = fields; }
    return this.#ageValue;
  }

  /** 4.3.0's `timeToLive`, its stale-if-error and stale-while-revalidate windows read once per directives object. */
  override timeToLive(): number {
    const rescc = (this as unknown as Private)._rescc;
    if (rescc !== this.#windowsOf) {
      this.#staleIfError = toNumberOrZero(rescc['stale-if-error']);
      this.#staleWhileRevalidate = toNumberOrZero(rescc['stale-while-revalidate']);
      this.#windowsOf = rescc;
    }
    const age = this.maxAge() - this.age();
    return Math.round(Math.max(0, age, age + this.#staleIfError, age + this.#staleWhileRevalidate) * 1000);
  }
}

/**
 * A CachePolicy class whose notion of "now" is `clock` (the library reads time only through `now()`).
 * Private fields and the undeclared `now()`: see the pin in this module's header.
 */
export function createPolicyKit(clock: Clock = steadyNow): PolicyKit {
  class ClockedPolicy extends KeptNumbersPolicy {
    // Not in @types/http-cache-semantics, but the library reads the time only through this method.
    now(): number { return clock(); }

    #dateText: unknown = undefined;
    #dateMs = 0;

    /**
     * The library parses the Date field again on every age() (several per hit: Age, freshness left, staleness);
     * a policy's Date changes only when withStoredHeaders swaps its stored fields, so the parse is kept per value.
     */
    override date(): number {
      const text = (this as unknown as Private)._resHeaders.date;
      if (text !== this.#dateText || this.#dateText === undefined) { this.#dateMs = super.date(); this.#dateText = text; }
      return this.#dateMs;
    }

    /**
     * 4.3.0's responseHeaders, except that Date stays the stored one: the library stamps `Date: now` (formatting a
     * date on every hit, ~7 500 instructions), which policy.ts servedList replaces with the origin's anyway (RFC 9110
     * §6.6.1). Without a stored Date, the library's own answer.
     */
    override responseHeaders(): CachePolicy.Headers {
      const self = this as unknown as Private;
      const stored = self._resHeaders.date;
      if (typeof stored !== 'string') return super.responseHeaders();
      const headers = self._copyWithoutHopByHopHeaders(self._resHeaders);
      // The library's Warning 113 needs heuristic freshness over a day, which this kit caps at a day
      // (MAX_HEURISTIC_SECONDS): never added here (test/cache/policy.test.ts compares with the library).
      headers.age = `${Math.round(this.age())}`;
      headers.date = stored;
      return headers;
    }

    /**
     * Deviation (library): RFC 9111 §3 lets a cache store any final status it understands, and a response with
     * explicit freshness (Expires, max-age, s-maxage) says enough for a shared cache to reuse it; the library stores
     * only the codes in its own list. Other final statuses with explicit freshness are judged as a 200 would be —
     * unless `must-understand` (§5.2.2.3) is present (cache-tests status-*-fresh, status-599-must-understand).
     * 206 and 304 stay excluded (ferry stores complete responses; a 304 updates an entry).
     */
    override storable(): boolean {
      if (super.storable()) return true;
      // Private fields of http-cache-semantics 4.3.0 (pinned exactly, see the module header).
      const self = this as unknown as { _status: number; _rescc: Record<string, string | true>; _resHeaders: CachePolicy.Headers };
      const status = self._status;
      if (status < 200 || status > 599 || status === 206 || status === 304 || self._rescc['must-understand'] !== undefined) return false;
      // Explicit freshness, or `public`, which lets heuristic freshness apply to any status (RFC 9111 §4.2.2;
      // cache-tests heuristic-599-cached).
      if (self._resHeaders.expires === undefined && self._rescc['max-age'] === undefined && self._rescc['s-maxage'] === undefined && self._rescc.public === undefined) return false;
      self._status = 200;
      try { return super.storable(); } finally { self._status = status; }
    }
  }
  // A store that hands back the same record object on every read (the memory store) gets the same policy back:
  // a CachePolicy is not changed by any method after construction (4.3.0: only its constructor and fromObject assign
  // fields), so one parsed policy can answer every hit (parsedMarks). Other stores build new records per read.
  const marks = parsedMarks();
  return {
    create: (req, res) => {
      if (!req || !req.headers || !res || !res.headers) return new ClockedPolicy(req, res, { shared: true, cacheHeuristic: heuristicFraction(res) });
      return ClockedPolicy.fromObject(constructedFields(clock(), req, res));
    },
    restore: (obj) => marks.get(obj) ?? marks.set(obj, ClockedPolicy.fromObject(obj)),
    record: (policy) => {
      const obj = policy.toObject();
      marks.set(obj, policy);
      return obj;
    },
    withStoredHeaders: (policy, stored) => {
      // Private field of the pinned 4.3.0 (see this module's header).
      (policy as unknown as { _resHeaders: CachePolicy.Headers })._resHeaders = stored;
      return policy;
    },
  };
}
