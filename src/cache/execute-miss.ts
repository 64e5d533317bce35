/**
 * @module The miss path with collapsed forwarding (RELIABILITY C7): one leader per key fetches and tees its answer
 * into the store; the others wait (bounded) and answer from what it stored, or go to the origin themselves.
 * A Range or HEAD miss never leads: it goes upstream as it is, after waiting for a running full GET.
 */
import { getHeader, hasHeader } from '../http/headers.ts';
import type { ProxiedResponse } from '../proxy/phases.ts';
import type { CacheDeps } from './cache-deps.ts';
import type { Exchange } from './cache-executor.ts';
import { fetchAndStore, storeResponse } from './cache-fill.ts';
import { isFound, lookupEntry, serveEntry, type Lookup } from './cache-lookup.ts';
import { withOutcome } from './cache-request.ts';
import { decideLookup } from './lookup-decision.ts';
import type { FlightOutcome } from './single-flight.ts';

export async function executeMiss(deps: CacheDeps, x: Exchange, l: Lookup, reason: 'miss' | 'vary-miss'): Promise<ProxiedResponse> {
  if (x.head.method === 'HEAD' || getHeader(x.head.headers, 'range') !== undefined) return partialMiss(deps, x, l, reason);
  const ticket = deps.flights.join(l.key);
  if (ticket.kind === 'wait') {
    const served = await serveAfterFlight(deps, x, l, await ticket.result);
    return served ?? (await fetchAndStore(deps, x.head, x.ctx, x.fetch, l, { kind: 'forward', reason })).res;
  }
  if (ticket.kind === 'pass') return (await fetchAndStore(deps, x.head, x.ctx, x.fetch, l, { kind: 'forward', reason })).res;
  try {
    const filled = await fetchAndStore(deps, x.head, x.ctx, x.fetch, l, { kind: 'forward', reason });
    // The waiters learn whether the answer was stored once the store took it (or, teed, once the tee has ended).
    if (typeof filled.stored === 'string') ticket.settle(filled.stored);
    else void filled.stored.then(ticket.settle);
    return filled.res;
  } catch (err) {
    ticket.settle('failed');
    throw err;
  }
}

/**
 * A Range (or HEAD) miss goes upstream as it is; the cache is not filled from it (a later full GET fills it).
 * If a full GET for the key is in flight, wait for it (bounded) and answer from what it stored.
 */
async function partialMiss(deps: CacheDeps, x: Exchange, l: Lookup, reason: 'miss' | 'vary-miss'): Promise<ProxiedResponse> {
  const running = deps.flights.waitFor(l.key);
  const served = running === null ? null : await serveAfterFlight(deps, x, l, await running);
  if (served !== null) return served;
  const res = await x.fetch(x.head, x.ctx);
  const detail = x.head.method === 'HEAD' ? 'head' : 'range';
  // An origin that ignores Range sends the whole 200: that one is worth storing.
  if (x.head.method === 'GET' && res.head.status === 200 && !hasHeader(res.head.headers, 'content-range')) {
    return (await storeResponse(deps, x.head, x.ctx, l, res, { kind: 'forward', reason, detail })).res;
  }
  return withOutcome(x.ctx, res, { kind: 'forward', reason, detail });
}

/** A collapsed waiter: after the leader stored its answer, serve it from the store (null: go to the origin). */
async function serveAfterFlight(deps: CacheDeps, x: Exchange, l: Lookup, result: FlightOutcome | 'timeout'): Promise<ProxiedResponse | null> {
  if (result !== 'stored') return null;
  const again = await lookupEntry(deps, x.head, l.parts, x.ctx);
  if (!isFound(again)) return null;
  const d = decideLookup(deps.kit, x.head, l.parts, again);
  if (d.kind !== 'fresh') return null;
  try {
    const served = await serveEntry(deps, x.head, again.entryKey, again.record, d.headers);
    return withOutcome(x.ctx, served, { kind: 'hit', ttl: d.ttl, detail: 'collapsed' });
  } catch {
    return null;
  }
}
