/**
 * @module The miss path with collapsed forwarding (RELIABILITY C7): one leader per key fetches and tees its answer
 * into the store; the others wait (bounded) and answer from what it stored, or go to the origin themselves.
 * A Range or HEAD miss never leads: it goes upstream as it is, after waiting for a running full GET.
 */
import { getHeader, hasHeader } from '../http/headers.ts';
import type { RequestContext } from '../proxy/context.ts';
import type { Fetch, ProxiedResponse, RequestHead } from '../proxy/phases.ts';
import { fetchAndStore, storeResponse } from './cache-fill.ts';
import { foundEntry, lookupEntry, serveEntry, type Lookup } from './cache-lookup.ts';
import { markOutcome, NO_FLIGHT, policyRequestOf, type CacheRuntime } from './cache-runtime.ts';
import { decideReuse } from './policy.ts';

export async function serveMiss(rt: CacheRuntime, head: RequestHead, ctx: RequestContext, fetch: Fetch, l: Lookup): Promise<ProxiedResponse> {
  rt.counters.misses++;
  if (head.method === 'HEAD' || getHeader(head.headers, 'range') !== undefined) return servePartialMiss(rt, head, ctx, fetch, l);
  const reason = l.varyMiss ? 'vary-miss' : 'miss';
  const ticket = rt.flights.join(l.key);
  if (ticket.kind === 'wait') {
    const served = await serveAfterFlight(rt, head, ctx, l, await ticket.result);
    return served ?? fetchAndStore(rt, head, ctx, fetch, l, NO_FLIGHT, { kind: 'forward', reason });
  }
  const settle = ticket.kind === 'lead' ? ticket.settle : NO_FLIGHT;
  try {
    return await fetchAndStore(rt, head, ctx, fetch, l, settle, { kind: 'forward', reason });
  } catch (err) {
    settle('failed');
    throw err;
  }
}

/**
 * A Range (or HEAD) miss goes upstream as it is; the cache is not filled from it (a later full GET fills it).
 * If a full GET for the key is in flight, wait for it (bounded) and answer from what it stored.
 */
async function servePartialMiss(rt: CacheRuntime, head: RequestHead, ctx: RequestContext, fetch: Fetch, l: Lookup): Promise<ProxiedResponse> {
  const reason = l.varyMiss ? 'vary-miss' : 'miss';
  const running = rt.flights.waitFor(l.key);
  const served = running === null ? null : await serveAfterFlight(rt, head, ctx, l, await running);
  if (served !== null) return served;
  const res = await fetch(head, ctx);
  const detail = head.method === 'HEAD' ? 'head' : 'range';
  // An origin that ignores Range sends the whole 200: that one is worth storing.
  if (head.method === 'GET' && res.head.status === 200 && !hasHeader(res.head.headers, 'content-range')) return storeResponse(rt, head, ctx, l, res, NO_FLIGHT, { kind: 'forward', reason, detail });
  return markOutcome(ctx, res, { kind: 'forward', reason, detail });
}

/** A collapsed waiter: after the leader stored its answer, serve it from the store (null: go to the origin). */
async function serveAfterFlight(rt: CacheRuntime, head: RequestHead, ctx: RequestContext, l: Lookup, result: string): Promise<ProxiedResponse | null> {
  if (result !== 'stored') return null;
  const again = foundEntry(await lookupEntry(rt, head, l.parts, ctx));
  if (again === null) return null;
  const policy = rt.kit.restore(again.record.policy);
  const d = decideReuse(rt.kit, policy, policyRequestOf(head, l.parts), head.headers);
  if (d.kind !== 'fresh') return null;
  try {
    const served = await serveEntry(rt, head, again.entryKey, again.record, d.headers);
    rt.counters.collapsed++;
    rt.counters.misses--;
    rt.counters.hits++;
    return markOutcome(ctx, served, { kind: 'hit', ttl: d.ttl, detail: 'collapsed' });
  } catch {
    return null;
  }
}
