/**
 * @module The `cache` phase, one request: the executor of the lookup decision (lookup-decision.ts). It does the
 * I/O — store reads, the upstream fetch, invalidation — and records one outcome per request (`ctx.cache`,
 * cache-request.ts withOutcome), which Cache-Status, /stats, /metrics, the inspector and the access log read.
 *
 *   bypass → forward (other methods may invalidate, RFC 9111 §4.4)     cache-invalidate.ts
 *   fresh, stale-while-revalidate → answer from the store              here (+ execute-revalidate.ts refresh)
 *   revalidate → conditional request; a HEAD may freshen (§4.3.5)       execute-revalidate.ts, head-freshen.ts
 *   miss → collapsed forwarding, tee into the store                     execute-miss.ts, cache-fill.ts
 */
import type { RequestContext } from '../proxy/context.ts';
import type { Fetch, ProxiedResponse, RequestHead } from '../proxy/phases.ts';
import { logStoreFailure, type CacheDeps } from './cache-deps.ts';
import { invalidate, invalidates } from './cache-invalidate.ts';
import { lookupEntry, serveEntry, type FoundEntry, type Lookup } from './cache-lookup.ts';
import { gatewayTimeout, withOutcome } from './cache-request.ts';
import { executeMiss } from './execute-miss.ts';
import { executeRevalidate, refreshInBackground } from './execute-revalidate.ts';
import { forwardHead } from './head-freshen.ts';
import { keyPartsOf, type KeyParts } from './key.ts';
import { decideBeforeLookup, decideLookup, type LookupDecision } from './lookup-decision.ts';
import { withSurrogateCapability } from './surrogate-control.ts';

/** The Cache-Status detail (RFC 9211 §2.8) of a request that bypassed a store that did not answer. */
export const STORE_UNAVAILABLE = 'store-unavailable';

/** One request through the cache: what the executor's paths need besides the deps. */
export interface Exchange { head: RequestHead; ctx: RequestContext; fetch: Fetch }

export async function executeCache(deps: CacheDeps, head: RequestHead, ctx: RequestContext, fetchUpstream: Fetch): Promise<ProxiedResponse> {
  const fetch = surrogateFetch(head, fetchUpstream);
  const parts = keyPartsOf(head, ctx);
  const bypass = decideBeforeLookup(head, parts);
  if (bypass !== null) return executeBypass(deps, { head, ctx, fetch }, parts, bypass.reason);
  // The store is down (store-health.ts): straight to the origin, no store call to wait on.
  if (deps.health.bypass()) return executeBypass(deps, { head, ctx, fetch }, parts, STORE_UNAVAILABLE);
  const l = await lookupEntry(deps, head, parts!, ctx);
  if (l.unavailable === true) return executeBypass(deps, { head, ctx, fetch }, parts, STORE_UNAVAILABLE);
  const d = decideLookup(deps.kit, head, parts!, l);
  // The hit path takes its arguments as they are: no Exchange object unless it has to leave the store. (decideLookup
  // answers fresh, stale-while-revalidate and revalidate only for a found entry: hence `as FoundEntry`.)
  if (d.kind === 'fresh' || d.kind === 'stale-while-revalidate') return executeHit(deps, head, ctx, fetch, l as FoundEntry, d);
  return execute(deps, { head, ctx, fetch }, l, d);
}

/** Carry out a decision taken after the lookup that is not a hit. */
async function execute(deps: CacheDeps, x: Exchange, l: Lookup, d: Exclude<LookupDecision, { kind: 'fresh' | 'stale-while-revalidate' }>): Promise<ProxiedResponse> {
  switch (d.kind) {
    case 'revalidate':
      // A HEAD that may not use the stored response goes upstream as a HEAD; a matching 200 freshens the entry.
      if (x.head.method === 'HEAD') return forwardHead(deps, x, l as FoundEntry, d.reason);
      return executeRevalidate(deps, x, l as FoundEntry, d.reason);
    case 'miss':
      // RFC 9111 §5.2.1.7: only-if-cached with nothing usable → 504.
      if (d.reason === 'only-if-cached') return withOutcome(x.ctx, gatewayTimeout(), { kind: 'forward', reason: d.found ? 'stale' : 'miss', detail: 'only-if-cached' });
      return executeMiss(deps, x, l, d.reason);
    case 'bypass':
      return executeBypass(deps, x, l.parts, d.reason);
  }
}

/**
 * Edge Architecture 1.0: as a reverse proxy (origin-form target), announce ferry as a surrogate so the origin may
 * target Surrogate-Control at it; a forward proxy is nobody's surrogate.
 */
function surrogateFetch(head: RequestHead, fetchUpstream: Fetch): Fetch {
  if (!head.target.startsWith('/')) return fetchUpstream;
  return (h, c) => fetchUpstream({ ...h, headers: withSurrogateCapability(h.headers) }, c);
}

async function executeBypass(deps: CacheDeps, x: Exchange, parts: KeyParts | null, reason: string): Promise<ProxiedResponse> {
  const res = await x.fetch(x.head, x.ctx);
  if (reason !== 'method') return withOutcome(x.ctx, res, { kind: 'forward', reason: 'bypass', detail: reason });
  // RFC 9111 §4.4: a non-error response to an unsafe method invalidates the target URI and the URIs it names.
  if (parts !== null && invalidates(x.head.method, res.head.status)) await invalidate(deps, x.ctx, parts, res);
  return withOutcome(x.ctx, res, { kind: 'forward', reason: 'method' });
}

/** Answer from the store; stale-while-revalidate also starts a background refresh (RFC 5861 §3). */
async function executeHit(deps: CacheDeps, head: RequestHead, ctx: RequestContext, fetch: Fetch, found: FoundEntry, d: LookupDecision & { kind: 'fresh' | 'stale-while-revalidate' }): Promise<ProxiedResponse> {
  let served: ProxiedResponse;
  try {
    served = await serveEntry(deps, head, found.entryKey, found.record, d.headers);
  } catch (err) {
    // The stored body vanished or failed its check: drop it and go to the origin.
    logStoreFailure(deps, ctx, err);
    await deps.store.delete(found.entryKey).catch(() => {});
    return executeMiss(deps, { head, ctx, fetch }, { ...found, entryKey: null, record: null }, 'miss');
  }
  if (d.kind === 'fresh') return withOutcome(ctx, served, { kind: 'hit', ttl: d.ttl });
  refreshInBackground(deps, { head, ctx, fetch }, found);
  return withOutcome(ctx, served, { kind: 'hit', ttl: d.ttl, detail: 'stale-while-revalidate' });
}
