/**
 * @module Revalidating a stored entry with its validators (RFC 9111 §4.3): 304 → merge the new metadata into the
 * stored record and serve the stored body (§4.3.4); a new full answer replaces the entry; 5xx or an unreachable
 * origin → the stale entry when stale-if-error allows (RFC 5861 §4); an unreachable origin → the stale entry unless
 * a directive forbids it (RFC 9111 §4.2.4, stale-on-disconnect.ts). Stale-while-revalidate runs this in the
 * background, one refresh per entry at a time.
 */
import { withoutHeaders } from '../http/headers.ts';
import type { RequestContext } from '../proxy/context.ts';
import type { Fetch, ProxiedResponse, RequestHead } from '../proxy/phases.ts';
import { fetchAndStore, storeResponse } from './cache-fill.ts';
import { serveEntry, type FoundEntry } from './cache-lookup.ts';
import { countStoreFailure, discard, markOutcome, NO_FLIGHT, policyRequestOf, wholeOf, type CacheRuntime } from './cache-runtime.ts';
import { CLIENT_CONDITIONALS, decideRevalidation, retentionMs, servedHeaders, staleIfErrorAllows, validatorHeaders } from './policy.ts';
import type CachePolicy from 'http-cache-semantics';
import { isDisconnected, staleOnDisconnectAllows } from './stale-on-disconnect.ts';
import type { EntryRecord } from './store.ts';

export type RevalidationReason = 'stale' | 'request';

/** One revalidation: the request, the entry it revalidates and the policy restored from that entry. */
interface Revalidation { head: RequestHead; ctx: RequestContext; fetch: Fetch; l: FoundEntry; reason: RevalidationReason; policy: CachePolicy }

export async function revalidate(rt: CacheRuntime, head: RequestHead, ctx: RequestContext, fetch: Fetch, l: FoundEntry, reason: RevalidationReason): Promise<ProxiedResponse> {
  const r: Revalidation = { head, ctx, fetch, l, reason, policy: rt.kit.restore(l.record.policy) };
  const preq = policyRequestOf(head, l.parts);
  const revHead: RequestHead = { ...head, method: 'GET', headers: [...withoutHeaders(head.headers, [...CLIENT_CONDITIONALS, 'range', 'if-range']), ...validatorHeaders(r.policy, preq)] };
  let res: ProxiedResponse;
  try {
    res = await fetch(revHead, ctx);
  } catch (err) {
    if (staleIfErrorAllows(r.policy, preq, head.headers)) return serveStale(rt, r, undefined, 'stale-if-error');
    // RFC 9111 §4.2.4: disconnected from the origin, a stale response may stand in unless a directive forbids it.
    if (isDisconnected(err) && staleOnDisconnectAllows(r.policy, head.headers)) return serveStale(rt, r, undefined, 'stale-disconnected');
    throw err;
  }
  const out = decideRevalidation(rt.kit, r.policy, preq, head.headers, res.head.status, res.head.headers);
  switch (out.kind) {
    case 'stale-if-error':
      discard(res.body);
      return serveStale(rt, r, res.head.status, 'stale-if-error');
    case 'not-modified':
      discard(res.body);
      return mergeNotModified(rt, r, out.policy);
    case 'refetch':
      discard(res.body);
      return refill(rt, r);
    case 'replaced':
      // A full new answer (a Range request gets it whole: RFC 9110 §14.2 lets a server ignore Range).
      return storeResponse(rt, head, ctx, l, res, NO_FLIGHT, { kind: 'forward', reason });
  }
}

/**
 * RFC 5861 §4 (stale-if-error) or RFC 9111 §4.2.4 (disconnected): the origin failed (`status` 5xx, or undefined when
 * unreachable); the stale entry stands in.
 */
async function serveStale(rt: CacheRuntime, r: Revalidation, status: number | undefined, detail: string): Promise<ProxiedResponse> {
  rt.counters.staleServed++;
  const served = await serveEntry(rt, r.head, r.l.entryKey, r.l.record, servedHeaders(r.policy));
  return markOutcome(r.ctx, served, { kind: 'forward', reason: 'stale', ...(status === undefined ? {} : { fwdStatus: status }), detail, ttl: r.policy.maxAge() - r.policy.age() });
}

/** RFC 9111 §4.3.4: a 304 updates the stored metadata; the stored body is served. */
async function mergeNotModified(rt: CacheRuntime, r: Revalidation, policy: CachePolicy): Promise<ProxiedResponse> {
  rt.counters.revalidated++;
  const record: EntryRecord = { ...r.l.record, policy: policy.toObject() };
  await rt.store.putRecord(r.l.entryKey, record, retentionMs(policy)).catch((err: unknown) => countStoreFailure(rt, r.ctx, err));
  let served: ProxiedResponse;
  try {
    served = await serveEntry(rt, r.head, r.l.entryKey, record, servedHeaders(policy));
  } catch (err) {
    // The stored body is gone (evicted, corrupt): fetch it whole instead.
    countStoreFailure(rt, r.ctx, err);
    return refill(rt, r);
  }
  return markOutcome(r.ctx, served, { kind: 'forward', reason: r.reason, fwdStatus: 304, ttl: policy.maxAge() - policy.age() });
}

/** Fetch the whole representation again, unconditionally, and store it. */
function refill(rt: CacheRuntime, r: Revalidation): Promise<ProxiedResponse> {
  return fetchAndStore(rt, wholeOf(r.head), r.ctx, r.fetch, r.l, NO_FLIGHT, { kind: 'forward', reason: r.reason });
}

/** Stale-while-revalidate (RFC 5861 §3): the client already has its answer; refresh the entry behind it. */
export function revalidateInBackground(rt: CacheRuntime, head: RequestHead, ctx: RequestContext, fetch: Fetch, l: FoundEntry): void {
  if (rt.backgroundRevalidations.has(l.entryKey)) return;
  rt.backgroundRevalidations.add(l.entryKey);
  revalidate(rt, wholeOf(head), ctx, fetch, l, 'stale')
    // Nobody reads this body but the store: drain it (the tee stores it) before the next revalidation may start.
    .then((res) => res.body === null ? undefined : new Promise<void>((resolve) => { res.body!.on('error', () => resolve()).on('end', resolve).resume(); }))
    .catch((err: unknown) => ctx.log.info({ event: 'cache-background-revalidation-failed', requestId: ctx.id, err }, 'background revalidation failed'))
    .finally(() => rt.backgroundRevalidations.delete(l.entryKey));
}
