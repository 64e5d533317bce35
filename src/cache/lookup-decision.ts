/**
 * @module The cache lookup decision, pure (no I/O; time only through the policy kit's injected clock): given the
 * request and what the store lookup found, what the executor (cache-executor.ts) does —
 *
 *   bypass                  forward, never answer from or store: other methods (RFC 9111 §4.4 may invalidate),
 *                           no cache key, a GET with a body (RELIABILITY C2), a stored response this request may
 *                           not use (Cookie without an explicitly shared entry)
 *   fresh                   answer from the store (RFC 9111 §4.2)
 *   stale-while-revalidate  answer from the store, refresh in the background (RFC 5861 §3)
 *   revalidate              ask the origin with the stored validators (§4.3.1); `stale` or the `request` asked
 *   miss                    nothing usable stored: fetch (and maybe store); with only-if-cached, 504 (§5.2.1.7)
 */
import type { HeaderList } from '../http/headers.ts';
import type { RequestHead } from '../proxy/phases.ts';
import { policyRequestOf } from './cache-request.ts';
import { hasRequestBody, type KeyParts } from './key.ts';
import { decideReuse, requestDirectives, REUSE_REQUEST_FIELDS, storedFields, type PolicyKit } from './policy.ts';
import type { EntryRecord } from './store.ts';

export type LookupDecision =
  | { kind: 'bypass'; reason: 'method' | 'no-key' | 'request-body' | 'cookie' | (string & {}) }
  /**
   * The kind is the reason. `ttl`: seconds of freshness left (negative when stale); `headers`: the stored fields to
   * serve (Age current). The same object policy.ts decideReuse made: the hit path allocates no second one.
   */
  | { kind: 'fresh'; headers: HeaderList; ttl: number }
  | { kind: 'stale-while-revalidate'; headers: HeaderList; ttl: number }
  | { kind: 'revalidate'; reason: 'stale' | 'request' }
  /** `only-if-cached`: answer 504; `found` tells whether a (stale) entry was there. */
  | { kind: 'miss'; reason: 'miss' | 'vary-miss' | 'only-if-cached'; found: boolean };

/** What the store lookup found for the request: an entry, or none (`varyMiss`: a Vary record but no variant). */
export interface Stored { record: EntryRecord | null; varyMiss: boolean }

/** Before any store read: requests the cache never answers. Null: look the key up. */
export function decideBeforeLookup(head: RequestHead, parts: KeyParts | null): (LookupDecision & { kind: 'bypass' }) | null {
  if (head.method !== 'GET' && head.method !== 'HEAD') return { kind: 'bypass', reason: 'method' };
  if (parts === null) return { kind: 'bypass', reason: 'no-key' };
  // C2: a GET with a body is never answered from or stored in the cache.
  if (hasRequestBody(head.headers)) return { kind: 'bypass', reason: 'request-body' };
  return null;
}

/** After the lookup: reuse, revalidate or miss (RFC 9111 §4). */
export function decideLookup(kit: PolicyKit, head: RequestHead, parts: KeyParts, stored: Stored): LookupDecision {
  const onlyIfCached = requestDirectives(head.headers).has('only-if-cached');
  if (stored.record === null) {
    if (onlyIfCached) return { kind: 'miss', reason: 'only-if-cached', found: false };
    return { kind: 'miss', reason: stored.varyMiss ? 'vary-miss' : 'miss', found: false };
  }
  const policy = kit.restore(stored.record.policy);
  // Without Vary the library reads only a few request fields: normalise just those (the hit path's largest cost).
  const only = storedFields(policy).headers.vary === undefined ? REUSE_REQUEST_FIELDS : undefined;
  const d = decideReuse(kit, policy, policyRequestOf(head, parts, only), head.headers);
  if (d.kind === 'fresh' || d.kind === 'stale-while-revalidate') return d;
  if (onlyIfCached) return { kind: 'miss', reason: 'only-if-cached', found: true };
  if (d.kind === 'unusable') return { kind: 'bypass', reason: d.reason };
  return { kind: 'revalidate', reason: d.stale ? 'stale' : 'request' };
}
