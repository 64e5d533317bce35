/**
 * @module What the cache executor works with, made once per cache filter: the store, the policy kit (its clock),
 * the unkeyed request fields, the collapsed-forwarding flights and the running background refreshes. No counters:
 * what happened to a request is its outcome (`ctx.cache`, cache-status.ts), counted by the stats filter.
 */
import type { RequestContext } from '../proxy/context.ts';
import { createPolicyKit, UNKEYED_REQUEST_FIELDS, type Clock, type PolicyKit } from './policy.ts';
import { createSingleFlight, type SingleFlight } from './single-flight.ts';
import { createStoreHealth, type StoreHealth } from './store-health.ts';
import type { CacheStore } from './store.ts';
import { steadyNow } from '../util/clock.ts';

export interface CacheDeps {
  readonly store: CacheStore;
  readonly clock: Clock;
  readonly kit: PolicyKit;
  /** Request fields whose presence keeps a response out of the store. */
  readonly unkeyed: readonly string[];
  readonly flights: SingleFlight;
  /** Entry keys with a stale-while-revalidate refresh running (one at a time per entry). */
  readonly refreshing: Set<string>;
  /** Whether the store answers: outages bypass it (store-health.ts). */
  readonly health: StoreHealth;
}

export interface CacheDepsOptions {
  store: CacheStore;
  clock?: Clock;
  lockTimeoutMs?: number;
  hitForMissMs?: number;
  /** How often one request probes a store that is down (store-health.ts). */
  storeProbeMs?: number;
  unkeyedRequestFields?: readonly string[];
}

export function createCacheDeps(options: CacheDepsOptions): CacheDeps {
  // Freshness and Age are durations: a stepped wall clock must not expire entries early or keep them forever.
  const clock = options.clock ?? steadyNow;
  const flights = createSingleFlight({
    ...(options.lockTimeoutMs === undefined ? {} : { waitMs: options.lockTimeoutMs }),
    ...(options.hitForMissMs === undefined ? {} : { hitForMissMs: options.hitForMissMs }),
  });
  return {
    store: options.store, clock, kit: createPolicyKit(clock), flights, refreshing: new Set<string>(),
    health: createStoreHealth(options.store.kind, options.storeProbeMs === undefined ? {} : { probeMs: options.storeProbeMs }),
    unkeyed: options.unkeyedRequestFields ?? UNKEYED_REQUEST_FIELDS,
  };
}

/**
 * A store failure never fails the request: it is logged and the request is answered without the store. During an
 * outage (store-health.ts) it is only counted: one line per outage, not one per request.
 */
export function logStoreFailure(deps: CacheDeps, ctx: RequestContext, err: unknown): void {
  if (deps.health.counters().down) { deps.health.failed(ctx.log, err, ctx.id); return; }
  ctx.log.warn({ event: 'cache-store-error', requestId: ctx.id, store: deps.store.kind, err }, 'cache store failed; answering without it');
}
