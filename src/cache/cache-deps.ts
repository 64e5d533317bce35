/**
 * @module What the cache executor works with, made once per cache filter: the store, the policy kit (its clock),
 * the unkeyed request fields, the collapsed-forwarding flights and the running background refreshes. No counters:
 * what happened to a request is its outcome (`ctx.cache`, cache-status.ts), counted by the stats filter.
 */
import type { RequestContext } from '../proxy/context.ts';
import { createPolicyKit, UNKEYED_REQUEST_FIELDS, type Clock, type PolicyKit } from './policy.ts';
import { createSingleFlight, type SingleFlight } from './single-flight.ts';
import type { CacheStore } from './store.ts';

export interface CacheDeps {
  readonly store: CacheStore;
  readonly clock: Clock;
  readonly kit: PolicyKit;
  /** Request fields whose presence keeps a response out of the store. */
  readonly unkeyed: readonly string[];
  readonly flights: SingleFlight;
  /** Entry keys with a stale-while-revalidate refresh running (one at a time per entry). */
  readonly refreshing: Set<string>;
}

export interface CacheDepsOptions {
  store: CacheStore;
  clock?: Clock;
  lockTimeoutMs?: number;
  hitForMissMs?: number;
  unkeyedRequestFields?: readonly string[];
}

export function createCacheDeps(options: CacheDepsOptions): CacheDeps {
  const clock = options.clock ?? Date.now;
  const flights = createSingleFlight({
    ...(options.lockTimeoutMs === undefined ? {} : { waitMs: options.lockTimeoutMs }),
    ...(options.hitForMissMs === undefined ? {} : { hitForMissMs: options.hitForMissMs }),
  });
  return {
    store: options.store, clock, kit: createPolicyKit(clock), flights, refreshing: new Set<string>(),
    unkeyed: options.unkeyedRequestFields ?? UNKEYED_REQUEST_FIELDS,
  };
}

/** A store failure never fails the request: it is logged and the request is answered without the store. */
export function logStoreFailure(deps: CacheDeps, ctx: RequestContext, err: unknown): void {
  ctx.log.warn({ event: 'cache-store-error', requestId: ctx.id, store: deps.store.kind, err }, 'cache store failed; answering without it');
}
