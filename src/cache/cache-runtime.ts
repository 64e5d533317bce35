/**
 * @module What the cache filter's parts share: the store, the policy kit, the collapsed-forwarding flights, the
 * counters — and the small helpers every path uses (mark a reply with Cache-Status, count a store failure).
 */
import { Readable } from 'node:stream';
import { withoutHeaders, type HeaderList } from '../http/headers.ts';
import type { RequestContext } from '../proxy/context.ts';
import type { ProxiedResponse, RequestHead } from '../proxy/phases.ts';
import { appendCacheStatus, formatCacheStatus, type CacheOutcome } from './cache-status.ts';
import { formatCacheUri, type KeyParts } from './key.ts';
import { createPolicyKit, toPolicyRequest, UNKEYED_REQUEST_FIELDS, type Clock, type PolicyKit } from './policy.ts';
import type CachePolicy from 'http-cache-semantics';
import { createSingleFlight, type FlightOutcome, type SingleFlight } from './single-flight.ts';
import type { CacheStore } from './store.ts';

export interface CacheCounters {
  hits: number;
  misses: number;
  stored: number;
  revalidated: number;
  staleServed: number;
  bypassed: number;
  collapsed: number;
  invalidated: number;
  purged: number;
  storeErrors: number;
}

export interface CacheRuntime {
  store: CacheStore;
  clock: Clock;
  kit: PolicyKit;
  /** Request fields whose presence keeps a response out of the store. */
  unkeyed: readonly string[];
  flights: SingleFlight;
  /** Entry keys with a stale-while-revalidate refresh running (one at a time per entry). */
  backgroundRevalidations: Set<string>;
  counters: CacheCounters;
}

export interface CacheRuntimeOptions {
  store: CacheStore;
  clock?: Clock;
  lockTimeoutMs?: number;
  hitForMissMs?: number;
  unkeyedRequestFields?: readonly string[];
}

/** Tells a collapsed-forwarding leader's waiters how the fetch ended. */
export type Settle = (outcome: FlightOutcome) => void;

export const NO_FLIGHT: Settle = () => {};

export function createCacheRuntime(options: CacheRuntimeOptions): CacheRuntime {
  const clock = options.clock ?? Date.now;
  const flights = createSingleFlight({
    ...(options.lockTimeoutMs === undefined ? {} : { waitMs: options.lockTimeoutMs }),
    ...(options.hitForMissMs === undefined ? {} : { hitForMissMs: options.hitForMissMs }),
  });
  return {
    store: options.store,
    clock,
    kit: createPolicyKit(clock),
    unkeyed: options.unkeyedRequestFields ?? UNKEYED_REQUEST_FIELDS,
    flights,
    backgroundRevalidations: new Set<string>(),
    counters: { hits: 0, misses: 0, stored: 0, revalidated: 0, staleServed: 0, bypassed: 0, collapsed: 0, invalidated: 0, purged: 0, storeErrors: 0 },
  };
}

/** Record the outcome on the context (for later error pages and the access log) and as a Cache-Status field. */
export function markOutcome(ctx: RequestContext, res: ProxiedResponse, outcome: CacheOutcome): ProxiedResponse {
  const value = formatCacheStatus(outcome);
  ctx.cacheStatus = value;
  return { head: { ...res.head, headers: appendCacheStatus(res.head.headers, value) }, body: res.body };
}

export function countStoreFailure(rt: CacheRuntime, ctx: RequestContext, err: unknown): void {
  rt.counters.storeErrors++;
  ctx.log.warn({ event: 'cache-store-error', requestId: ctx.id, store: rt.store.kind, err }, 'cache store failed; answering without it');
}

/** The request as http-cache-semantics sees it. */
export function policyRequestOf(head: RequestHead, parts: KeyParts): CachePolicy.HttpRequest {
  return toPolicyRequest(head.headers, { host: hostOf(parts), path: parts.path });
}

function hostOf(parts: KeyParts): string {
  return formatCacheUri({ ...parts, path: '' }).replace(/^https?:\/\//, '');
}

/** The request without Range/If-Range: a refill fetches the whole representation (the client then gets it whole). */
export function wholeOf(head: RequestHead): RequestHead {
  return { ...head, method: 'GET', headers: withoutHeaders(head.headers, ['range', 'if-range']) };
}

/** RFC 9111 §5.2.1.7: only-if-cached and nothing usable without contacting the origin. */
export function gatewayTimeout(): ProxiedResponse {
  const body = Buffer.from('not in cache, and the request said only-if-cached\n');
  const headers: HeaderList = [['content-type', 'text/plain; charset=utf-8'], ['content-length', String(body.length)], ['cache-control', 'no-store']];
  return { head: { status: 504, headers }, body: Readable.from([body]) };
}

/** Drop an upstream body nobody will read (304 bodies, errors replaced by stale-if-error, answers turned into 304). */
export function discard(body: Readable | null): void {
  if (body === null) return;
  body.on('error', () => { /* the abort we cause here is expected */ });
  body.destroy();
}
