/**
 * @module Revalidating a stored entry with its validators (RFC 9111 §4.3): 304 → merge the new metadata into the
 * stored record and serve the stored body (§4.3.4); a new full answer replaces the entry; 5xx or an unreachable
 * origin → the stale entry when stale-if-error allows (RFC 5861 §4); an unreachable origin → the stale entry unless
 * a directive forbids it (RFC 9111 §4.2.4, stale-on-disconnect.ts). Stale-while-revalidate runs this in the
 * background, one refresh per entry at a time.
 */
import { withoutHeaders } from '../http/headers.ts';
import type { RequestContext } from '../proxy/context.ts';
import type { ProxiedResponse, RequestHead } from '../proxy/phases.ts';
import type CachePolicy from 'http-cache-semantics';
import { logStoreFailure, type CacheDeps } from './cache-deps.ts';
import type { Exchange } from './cache-executor.ts';
import { fetchAndStore, storeResponse, type Filled } from './cache-fill.ts';
import { serveEntry, type FoundEntry } from './cache-lookup.ts';
import { discard, policyRequestOf, wholeOf, withOutcome } from './cache-request.ts';
import { decideRevalidation, REVALIDATION_DROPPED, freshnessLeft, retentionMs, REVALIDATE_REQUEST_FIELDS, servedHeaders, staleIfErrorAllows, storedFields, validatorHeaders } from './policy.ts';
import { isDisconnected, staleOnDisconnectAllows } from './stale-on-disconnect.ts';
import type { EntryRecord } from './store.ts';

export type RevalidationReason = 'stale' | 'request';

/** One revalidation: the exchange, the entry it revalidates and the policy restored from that entry. */
interface Revalidation { x: Exchange; l: FoundEntry; reason: RevalidationReason; policy: CachePolicy; onStored?: StoredSink }

/** Told the outcome of the store write a new full answer starts (it settles once the write has ended). */
type StoredSink = (stored: Filled['stored']) => void;

export async function executeRevalidate(deps: CacheDeps, x: Exchange, l: FoundEntry, reason: RevalidationReason, onStored?: StoredSink): Promise<ProxiedResponse> {
  const r: Revalidation = { x, l, reason, policy: deps.kit.restore(l.record.policy), ...(onStored ? { onStored } : {}) };
  const { head, ctx } = x;
  // Without Vary the library reads only a few request fields here: normalise just those (policy.ts).
  const preq = policyRequestOf(head, l.parts, storedFields(r.policy).headers.vary === undefined ? REVALIDATE_REQUEST_FIELDS : undefined);
  const revHead: RequestHead = { ...head, method: 'GET', headers: [...withoutHeaders(head.headers, REVALIDATION_DROPPED), ...validatorHeaders(r.policy, preq)] };
  let res: ProxiedResponse;
  try {
    res = await x.fetch(revHead, ctx);
  } catch (err) {
    if (staleIfErrorAllows(r.policy, preq, head.headers)) return serveStale(deps, r, undefined, 'stale-if-error');
    // RFC 9111 §4.2.4: disconnected from the origin, a stale response may stand in unless a directive forbids it.
    if (isDisconnected(err) && staleOnDisconnectAllows(r.policy, head.headers)) return serveStale(deps, r, undefined, 'stale-disconnected');
    throw err;
  }
  const out = decideRevalidation(deps.kit, r.policy, preq, head.headers, res.head.status, res.head.headers);
  switch (out.kind) {
    case 'stale-if-error':
      discard(res.body);
      return serveStale(deps, r, res.head.status, 'stale-if-error');
    case 'not-modified':
      discard(res.body);
      return mergeNotModified(deps, r, out.policy);
    case 'refetch':
      discard(res.body);
      return refill(deps, r);
    case 'replaced':
      // A full new answer (a Range request gets it whole: RFC 9110 §14.2 lets a server ignore Range).
      return storedThen(r, await storeResponse(deps, head, ctx, l, res, { kind: 'forward', reason }));
  }
}

/**
 * RFC 5861 §4 (stale-if-error) or RFC 9111 §4.2.4 (disconnected): the origin failed (`status` 5xx, or undefined when
 * unreachable); the stale entry stands in.
 */
async function serveStale(deps: CacheDeps, r: Revalidation, status: number | undefined, detail: string): Promise<ProxiedResponse> {
  const served = await serveEntry(deps, r.x.head, r.l.entryKey, r.l.record, servedHeaders(r.policy));
  return withOutcome(r.x.ctx, served, { kind: 'forward', reason: 'stale', ...(status === undefined ? {} : { fwdStatus: status }), detail, ttl: freshnessLeft(r.policy) });
}

/** RFC 9111 §4.3.4: a 304 updates the stored metadata; the stored body is served. */
async function mergeNotModified(deps: CacheDeps, r: Revalidation, policy: CachePolicy): Promise<ProxiedResponse> {
  const record: EntryRecord = { ...r.l.record, policy: deps.kit.record(policy) };
  await deps.store.putRecord(r.l.entryKey, record, retentionMs(policy)).catch((err: unknown) => logStoreFailure(deps, r.x.ctx, err));
  let served: ProxiedResponse;
  try {
    served = await serveEntry(deps, r.x.head, r.l.entryKey, record, servedHeaders(policy));
  } catch (err) {
    // The stored body is gone (evicted, corrupt): fetch it whole instead.
    logStoreFailure(deps, r.x.ctx, err);
    return refill(deps, r);
  }
  return withOutcome(r.x.ctx, served, { kind: 'forward', reason: r.reason, fwdStatus: 304, ttl: freshnessLeft(policy) });
}

/** Fetch the whole representation again, unconditionally, and store it. */
async function refill(deps: CacheDeps, r: Revalidation): Promise<ProxiedResponse> {
  return storedThen(r, await fetchAndStore(deps, wholeOf(r.x.head), r.x.ctx, r.x.fetch, r.l, { kind: 'forward', reason: r.reason }));
}

function storedThen(r: Revalidation, filled: Filled): ProxiedResponse {
  r.onStored?.(filled.stored);
  return filled.res;
}

/** Stale-while-revalidate (RFC 5861 §3): the client already has its answer; refresh the entry behind it. */
export function refreshInBackground(deps: CacheDeps, x: Exchange, l: FoundEntry): void {
  if (deps.refreshing.has(l.entryKey)) return;
  deps.refreshing.add(l.entryKey);
  const { ctx } = x;
  // The client's request was answered from the store and is logged as such: the refresh records its own outcome
  // (ctx.cache, upstream timing) on a shadow of the context that reads through to it but keeps its writes.
  const shadow = Object.create(ctx) as RequestContext;
  let stored: Filled['stored'] | undefined;
  executeRevalidate(deps, { ...x, ctx: shadow, head: wholeOf(x.head) }, l, 'stale', (s) => { stored = s; })
    // Nobody reads this body but the store: drain it (the tee stores it) before the next revalidation may start.
    .then((res) => res.body === null ? undefined : new Promise<void>((resolve) => { res.body!.on('error', () => resolve()).on('end', resolve).resume(); }))
    // … and let the store write end too: a request arriving between the body's end and a disk or Redis commit still
    // found the stale entry and started a second refresh, whose answer then replaced the first (seen in CI)
    .then(() => stored)
    .catch((err: unknown) => ctx.log.info({ event: 'cache-background-revalidation-failed', requestId: ctx.id, err }, 'background revalidation failed'))
    .finally(() => deps.refreshing.delete(l.entryKey));
}
