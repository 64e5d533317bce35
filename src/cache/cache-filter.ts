/**
 * @module The cache filter (`--cache`): the `cache` phase around the upstream fetch, purge in `route`, and counters.
 *
 *   GET/HEAD → lookup (primary key, then the Vary variant)          cache-lookup.ts
 *            → fresh: answer from the store (Age, Cache-Status hit)  cache-phase.ts
 *            → stale / no-cache: revalidate with the stored validators; 304 → update the meta, serve the body
 *            → stale-while-revalidate: answer now, revalidate in the background; stale-if-error on 5xx/unreachable
 *                                                                    cache-revalidate.ts
 *            → miss: one leader per key fetches (collapsed forwarding), its body is teed into the store
 *                                                                    cache-miss.ts, cache-fill.ts
 *   other methods → forwarded; unsafe ones invalidate the URI, Location and Content-Location (RFC 9111 §4.4)
 *                                                                    cache-invalidate.ts
 *   purge (route phase)                                              cache-purge-route.ts
 *
 * Policy decisions are policy.ts (http-cache-semantics); stores are store.ts implementations; what the parts share
 * (store, flights, counters) is cache-runtime.ts.
 */
import { hasHeader } from '../http/headers.ts';
import type { RequestContext } from '../proxy/context.ts';
import type { Fetch, PhaseResult, ProxiedResponse, ProxyFilter, RequestHead, ResponseHead } from '../proxy/phases.ts';
import { cachePhase } from './cache-phase.ts';
import { routePurge } from './cache-purge-route.ts';
import { createCacheRuntime, type CacheCounters, type CacheRuntime } from './cache-runtime.ts';
import { appendCacheStatus, formatCacheStatus } from './cache-status.ts';
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
}

export interface CacheStats extends CacheCounters {
  store: CacheStore['kind'];
  entries: StoreStats['entries'];
  bytes: StoreStats['bytes'];
  maxBytes: StoreStats['maxBytes'];
}

export interface CacheFilter extends ProxyFilter {
  getCacheStats(): CacheStats;
  close(): Promise<void>;
}

export function createCacheFilter(options: CacheFilterOptions): CacheFilter {
  const rt = createCacheRuntime(options);
  return {
    name: 'cache',

    route: (ctx: RequestContext): Promise<PhaseResult> => routePurge(rt, options.purgeToken, ctx),

    async cache(head: RequestHead, ctx: RequestContext, fetch: Fetch): Promise<ProxiedResponse> {
      try {
        return await cachePhase(rt, head, ctx, fetch);
      } catch (err) {
        // The upstream failed and nothing stored could stand in: the error reply still says the cache forwarded.
        ctx.cacheStatus ??= formatCacheStatus({ kind: 'forward', reason: 'miss', detail: 'upstream-error' });
        throw err;
      }
    },

    /** Cache-Status on replies made after the cache phase failed (502/504 pages); others already carry it. */
    responseFilter(head: ResponseHead, ctx: RequestContext): ResponseHead {
      if (ctx.cacheStatus === undefined || hasHeader(head.headers, 'cache-status')) return head;
      return { ...head, headers: appendCacheStatus(head.headers, ctx.cacheStatus) };
    },

    getCacheStats: () => statsOf(rt),

    close: () => rt.store.close(),
  };
}

function statsOf(rt: CacheRuntime): CacheStats {
  const st = rt.store.stats();
  return { store: rt.store.kind, ...rt.counters, entries: st.entries, bytes: st.bytes, maxBytes: st.maxBytes };
}
