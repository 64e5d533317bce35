/**
 * @module Response fields as a shared cache must read them where http-cache-semantics reads them differently (it
 * parses Age with parseInt and Expires with Date.parse, and knows nothing of must-understand). Pure; policy.ts feeds
 * the results into the library's view of the response (policyView).
 */
import { formatHttpDate, parseHttpDate } from '../http/http-date.ts';
import { splitOutsideQuotes } from './cache-control.ts';

/** delta-seconds cap (RFC 9111 §1.2.2): "the greatest positive integer it can represent", at least 2^31. */
export const MAX_DELTA_SECONDS = 2147483648;

/**
 * RFC 9111 §5.1: a list-based Age uses its first member; if that "is invalid (e.g., it contains something other
 * than a non-negative integer), a cache SHOULD ignore the field" — so `abc`, `-7200`, `7200.0` give undefined (no
 * Age), where the library's parseInt would read `-7200` as −7200 and `7200.0` as 7200 (cache-tests age-parse-*).
 */
export function normalizeAge(value: string): string | undefined {
  const first = value.split(',')[0]!.trim();
  if (!/^\d+$/.test(first)) return undefined;
  return String(Math.min(Number(first), MAX_DELTA_SECONDS));
}

/** What an invalid Expires means (RFC 9111 §5.3): "a time in the past (i.e., 'already expired')". */
export const ALREADY_EXPIRED = 'Thu, 01 Jan 1970 00:00:00 GMT';

/**
 * RFC 9111 §5.3: Expires is an HTTP-date (RFC 9110 §5.6.7: IMF-fixdate, or the obsolete RFC 850 and asctime forms,
 * which recipients MUST accept); "a cache recipient MUST interpret invalid date formats, especially the value '0', as
 * representing a time in the past". Date.parse, which the library uses, accepts far more (`UTC`, `AEST`, no comma,
 * dashes, a 1-digit hour) and reads an RFC 850 two-digit year as 19xx. Returned: the same instant as IMF-fixdate, or
 * ALREADY_EXPIRED. Several Expires lines (joined with ", ") are invalid too.
 *
 * Letter case is not held against a date (RFC 9110 §5.6.7: recipients "are encouraged to be robust in parsing
 * timestamps"; cache-tests freshness-expires-wrong-case-*): day, month and zone names are matched case-insensitively.
 */
export function normalizeExpires(value: string): string {
  const canonical = value.replace(/[A-Za-z]+/g, (w) => (w.toUpperCase() === 'GMT' ? 'GMT' : w[0]!.toUpperCase() + w.slice(1).toLowerCase()));
  const ms = parseHttpDate(canonical);
  return ms === undefined ? ALREADY_EXPIRED : formatHttpDate(ms);
}

/**
 * Status codes whose caching semantics ferry implements (http-cache-semantics 4.3's `understoodStatuses`, which it
 * does not export; RFC 9110 §15: the heuristically cacheable codes plus 302, 303, 307 whose handling it knows).
 */
export const UNDERSTOOD_STATUSES: ReadonlySet<number> = new Set([200, 203, 204, 300, 301, 302, 303, 307, 308, 404, 405, 410, 414, 501]);

/**
 * RFC 9111 §5.2.2.3: with `must-understand`, a cache that understands the status code's caching requirements
 * ignores `no-store` (the origin sends no-store for the caches that do not); one that does not understand the code
 * must not store the response. `cc` is a normalised Cache-Control (normalizeCacheControl: names lower-case).
 * Returns the Cache-Control to decide with (no-store dropped when it is overridden), or null: not storable.
 */
export function applyMustUnderstand(cc: string, status: number): string | null {
  const parts = splitOutsideQuotes(cc);
  const name = (d: string) => d.split('=')[0]!.trim();
  if (!parts.some((d) => name(d) === 'must-understand')) return cc;
  if (!UNDERSTOOD_STATUSES.has(status)) return null;
  return parts.filter((d) => name(d) !== 'no-store').join(', ');
}
