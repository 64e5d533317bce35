/**
 * @module The `cache` phase, one request: unsafe and other methods are forwarded (and may invalidate); GET/HEAD
 * look the key up, then a fresh (or stale-while-revalidate) entry is answered from the store, a stale or
 * no-cache one revalidated, and nothing found goes down the miss path.
 */
import type { RequestContext } from '../proxy/context.ts';
import type { Fetch, ProxiedResponse, RequestHead } from '../proxy/phases.ts';
import { invalidate, invalidates } from './cache-invalidate.ts';
import { foundEntry, lookupEntry, serveEntry, type FoundEntry, type Lookup } from './cache-lookup.ts';
import { forwardHead } from './head-freshen.ts';
import { serveMiss } from './cache-miss.ts';
import { revalidate, revalidateInBackground } from './cache-revalidate.ts';
import { countStoreFailure, gatewayTimeout, markOutcome, policyRequestOf, type CacheRuntime } from './cache-runtime.ts';
import { hasRequestBody, keyPartsOf, type KeyParts } from './key.ts';
import { decideReuse, requestDirectives, type ReuseDecision } from './policy.ts';
import { withSurrogateCapability } from './surrogate-control.ts';

export async function cachePhase(rt: CacheRuntime, head: RequestHead, ctx: RequestContext, fetchUpstream: Fetch): Promise<ProxiedResponse> {
  const fetch = surrogateFetch(head, fetchUpstream);
  const parts = keyPartsOf(head, ctx);
  if (head.method !== 'GET' && head.method !== 'HEAD') return forwardMethod(rt, head, ctx, fetch, parts);
  if (parts === null || hasRequestBody(head.headers)) {
    // C2: a GET with a body (or no Host) is never answered from or stored in the cache.
    rt.counters.bypassed++;
    return markOutcome(ctx, await fetch(head, ctx), { kind: 'forward', reason: 'bypass', detail: parts === null ? 'no-key' : 'request-body' });
  }
  const l = await lookupEntry(rt, head, parts, ctx);
  const onlyIfCached = requestDirectives(head.headers).has('only-if-cached');
  const found = foundEntry(l);
  if (found !== null) return serveFound(rt, head, ctx, fetch, found, onlyIfCached);
  // RFC 9111 §5.2.1.7: only-if-cached with nothing usable → 504.
  if (onlyIfCached) return markOutcome(ctx, gatewayTimeout(), { kind: 'forward', reason: 'miss', detail: 'only-if-cached' });
  return serveMiss(rt, head, ctx, fetch, l);
}

/**
 * Edge Architecture 1.0: as a reverse proxy (origin-form target), announce ferry as a surrogate so the origin may
 * target Surrogate-Control at it; a forward proxy is nobody's surrogate.
 */
function surrogateFetch(head: RequestHead, fetchUpstream: Fetch): Fetch {
  if (!head.target.startsWith('/')) return fetchUpstream;
  return (h, c) => fetchUpstream({ ...h, headers: withSurrogateCapability(h.headers) }, c);
}

async function forwardMethod(rt: CacheRuntime, head: RequestHead, ctx: RequestContext, fetch: Fetch, parts: KeyParts | null): Promise<ProxiedResponse> {
  const res = await fetch(head, ctx);
  // RFC 9111 §4.4: a non-error response to an unsafe method invalidates the target URI and the URIs it names.
  if (parts !== null && invalidates(head.method, res.head.status)) await invalidate(rt, ctx, parts, res);
  return markOutcome(ctx, res, { kind: 'forward', reason: 'method' });
}

/** A stored entry was found: reuse it, revalidate it, or (only-if-cached) answer 504 without the origin. */
async function serveFound(rt: CacheRuntime, head: RequestHead, ctx: RequestContext, fetch: Fetch, found: FoundEntry, onlyIfCached: boolean): Promise<ProxiedResponse> {
  const policy = rt.kit.restore(found.record.policy);
  const d = decideReuse(rt.kit, policy, policyRequestOf(head, found.parts), head.headers);
  if (d.kind === 'fresh' || d.kind === 'stale-while-revalidate') return serveHit(rt, head, ctx, fetch, found, d);
  // RFC 9111 §5.2.1.7: nothing usable without contacting the origin → 504.
  if (onlyIfCached) return markOutcome(ctx, gatewayTimeout(), { kind: 'forward', reason: 'stale', detail: 'only-if-cached' });
  if (d.kind === 'unusable') {
    rt.counters.bypassed++;
    return markOutcome(ctx, await fetch(head, ctx), { kind: 'forward', reason: 'bypass', detail: d.reason });
  }
  rt.counters.misses++;
  // A HEAD that may not use the stored response goes upstream as a HEAD; a matching 200 freshens the entry (§4.3.5).
  if (head.method === 'HEAD') return forwardHead(rt, head, ctx, fetch, found, d.stale ? 'stale' : 'request');
  return revalidate(rt, head, ctx, fetch, found, d.stale ? 'stale' : 'request');
}

/** Answer from the store; stale-while-revalidate also starts a background refresh (RFC 5861 §3). */
async function serveHit(rt: CacheRuntime, head: RequestHead, ctx: RequestContext, fetch: Fetch, found: FoundEntry, d: ReuseDecision & { kind: 'fresh' | 'stale-while-revalidate' }): Promise<ProxiedResponse> {
  try {
    const served = await serveEntry(rt, head, found.entryKey, found.record, d.headers);
    rt.counters.hits++;
    if (d.kind === 'stale-while-revalidate') { rt.counters.staleServed++; revalidateInBackground(rt, head, ctx, fetch, found); }
    return markOutcome(ctx, served, { kind: 'hit', ttl: d.ttl, ...(d.kind === 'stale-while-revalidate' ? { detail: 'stale-while-revalidate' } : {}) });
  } catch (err) {
    // The stored body vanished or failed its check: drop it and go to the origin.
    countStoreFailure(rt, ctx, err);
    await rt.store.delete(found.entryKey).catch(() => {});
    const gone: Lookup = { ...found, entryKey: null, record: null };
    return serveMiss(rt, head, ctx, fetch, gone);
  }
}
