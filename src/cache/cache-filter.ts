/**
 * @module The cache filter (`--cache`): the `cache` phase around the upstream fetch, and purge in `route`.
 *
 *   lookup decision, pure: bypass | fresh | stale-while-revalidate | revalidate | miss   lookup-decision.ts
 *   its executor: store reads, upstream fetch, tee into the store, collapsed forwarding  cache-executor.ts,
 *                                          execute-miss.ts, execute-revalidate.ts, head-freshen.ts, cache-fill.ts
 *   other methods → forwarded; unsafe ones invalidate the URI, Location and Content-Location (RFC 9111 §4.4)
 *                                                                                        cache-invalidate.ts
 *   purge (route phase)                                                                  cache-purge-route.ts
 *
 * Each request ends with one outcome (`ctx.cache`, cache-status.ts) that Cache-Status, /stats, /metrics, the
 * inspector and the access log read. Policy rules are policy.ts (http-cache-semantics); stores are store.ts
 * implementations; what the executor works with (store, kit, flights) is cache-deps.ts.
 */
import type { StoreHealthCounters } from './store-health.ts';
import { hasHeader } from '../http/headers.ts';
import type { RequestContext } from '../proxy/context.ts';
import type { Fetch, PhaseResult, ProxiedResponse, ProxyFilter, RequestHead, ResponseHead } from '../proxy/phases.ts';
import { createCacheDeps } from './cache-deps.ts';
import { executeCache } from './cache-executor.ts';
import { routePurge } from './cache-purge-route.ts';
import { appendCacheStatus, cacheStatusOf } from './cache-status.ts';
import type { Clock } from './policy.ts';
import type { CacheStore, StoreStats } from './store.ts';

export interface CacheFilterOptions {
  store: CacheStore;
  /** Bearer token for purge; null = loopback clients only. */
  purgeToken: string | null;
  clock?: Clock;
  /** Collapsed-forwarding wait before a waiter goes to the origin itself (default 5 s). */
  lockTimeoutMs?: number;
  /** How long an uncacheable answer lets later requests skip the lock (default 120 s). */
  hitForMissMs?: number;
  /** Request fields whose presence keeps a response out of the store (default UNKEYED_REQUEST_FIELDS). */
  unkeyedRequestFields?: readonly string[];
  /** How often one request probes a store that is down (default 1 s, store-health.ts). */
  storeProbeMs?: number;
}

/** The store's figures (/stats `cache.stored`); what happened to requests is counted from their outcomes. */
export interface CacheStats {
  store: CacheStore['kind'];
  entries: StoreStats['entries'];
  bytes: StoreStats['bytes'];
  maxBytes: StoreStats['maxBytes'];
  /** Outages, failed calls, bypassed requests and refused writes (store-health.ts). */
  health?: StoreHealthCounters;
}

export interface CacheFilter extends ProxyFilter {
  getCacheStats(): CacheStats;
  close(): Promise<void>;
}

export function createCacheFilter(options: CacheFilterOptions): CacheFilter {
  const deps = createCacheDeps(options);
  return {
    name: 'cache',

    route: (ctx: RequestContext): Promise<PhaseResult> => routePurge(deps, options.purgeToken, ctx),

    async cache(head: RequestHead, ctx: RequestContext, fetch: Fetch): Promise<ProxiedResponse> {
      try {
        return await executeCache(deps, head, ctx, fetch);
      } catch (err) {
        // The upstream failed and nothing stored could stand in: the error reply still says the cache forwarded.
        ctx.cache ??= { kind: 'forward', reason: 'miss', detail: 'upstream-error' };
        throw err;
      }
    },

    /** Cache-Status on replies made after the cache phase failed (502/504 pages); others already carry it. */
    responseFilter(head: ResponseHead, ctx: RequestContext): ResponseHead {
      if (ctx.cache === undefined || hasHeader(head.headers, 'cache-status')) return head;
      return { ...head, headers: appendCacheStatus(head.headers, cacheStatusOf(ctx.cache)) };
    },

    getCacheStats(): CacheStats {
      const st = deps.store.stats();
      return { store: deps.store.kind, entries: st.entries, bytes: st.bytes, maxBytes: st.maxBytes, health: deps.health.counters() };
    },

    close: () => deps.store.close(),
  };
}
