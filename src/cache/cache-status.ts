/**
 * @module The Cache-Status response field (RFC 9211). Pure.
 *
 * Each cache appends its own list member (§2: "the first member is the cache closest to the origin"), so ferry's
 * entry goes after any the upstream already sent.
 *
 * The outcome is the one structured record of what the cache did for a request: the executor sets it on the
 * RequestContext (`ctx.cache`), and the Cache-Status field, the access log, /stats, /metrics and the inspector all
 * read it from there (the field is formatted here, once per request).
 */
import { serializeTokenOrString } from '../http/structured-fields.ts';
import { appendHeader, getJoinedHeader, hasHeader, withHeader, type HeaderList } from '../http/headers.ts';

/** RFC 9211 §2.2 forward reasons ferry reports. */
export type ForwardReason = 'bypass' | 'method' | 'uri-miss' | 'vary-miss' | 'miss' | 'request' | 'stale' | 'partial';

export type CacheOutcome =
  /** Served from the store (§2.1). `ttl` seconds of freshness left (§2.7; negative when served stale). */
  | { kind: 'hit'; ttl?: number; detail?: string }
  /** Forwarded (§2.2); `fwdStatus` the status the upstream sent (§2.3); `stored` whether it went into the store (§2.5). */
  | { kind: 'forward'; reason: ForwardReason; fwdStatus?: number; stored?: boolean; collapsed?: boolean; ttl?: number; detail?: string };

/** What /stats, /metrics and the inspector count a request as: `hit`, or the forward reason. */
export type CacheResult = 'hit' | ForwardReason;

export function cacheResultOf(outcome: CacheOutcome): CacheResult {
  return outcome.kind === 'hit' ? 'hit' : outcome.reason;
}

/** The outcome as recorded on a request: its Cache-Status member is formatted at most once (`value`). */
export type RecordedOutcome = CacheOutcome & { value?: string };

/** Ferry's Cache-Status member for the outcome, formatted on first use and then reused (header and access log). */
export function cacheStatusOf(outcome: RecordedOutcome): string {
  return outcome.value ??= formatCacheStatus(outcome);
}

export const CACHE_NAME = 'ferry';

/** `ferry; hit; ttl=42`, `ferry; fwd=miss; fwd-status=200; stored`. */
export function formatCacheStatus(outcome: CacheOutcome, name: string = CACHE_NAME): string {
  // Appended as it goes (every cached request formats one: no list to join).
  let member = name;
  if (outcome.kind === 'hit') {
    member += '; hit';
  } else {
    member += `; fwd=${outcome.reason}`;
    if (outcome.fwdStatus !== undefined) member += `; fwd-status=${outcome.fwdStatus}`;
    if (outcome.stored) member += '; stored';
    if (outcome.collapsed) member += '; collapsed';
  }
  if (outcome.ttl !== undefined && Number.isFinite(outcome.ttl)) member += `; ttl=${Math.round(outcome.ttl)}`;
  // §2.8: detail is a String or Token, serialised by the RFC 8941 library (a test parses the whole member back).
  if (outcome.detail !== undefined) member += `; detail=${serializeTokenOrString(outcome.detail)}`;
  return member;
}

/** Append ferry's member to any Cache-Status the response already carries. */
export function appendCacheStatus(headers: HeaderList, value: string): HeaderList {
  // Usually the first member: appended without gathering the (absent) earlier ones.
  if (!hasHeader(headers, 'cache-status')) return appendHeader(headers, 'cache-status', value);
  return withHeader(headers, 'cache-status', `${getJoinedHeader(headers, 'cache-status')!}, ${value}`);
}
