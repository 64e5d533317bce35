/**
 * @module Filling the cache from an upstream answer: decide whether it may be stored (policy.ts), place it (Vary),
 * and tee its body into a store writer while it streams to the client (tee.ts). The client's own conditionals are
 * answered here too: a 200 the client already has becomes a 304 (the store still gets the body).
 */
import { pipeline } from 'node:stream';
import { getHeader, withoutHeaders } from '../http/headers.ts';
import type { RequestContext } from '../proxy/context.ts';
import type { Fetch, ProxiedResponse, RequestHead } from '../proxy/phases.ts';
import type { CacheOutcome } from './cache-status.ts';
import { countStoreFailure, discard, markOutcome, policyRequestOf, type CacheRuntime, type Settle } from './cache-runtime.ts';
import { clientWantsNotModified, notModifiedHeaders } from './conditional.ts';
import { entryKeyFor, type Lookup } from './cache-lookup.ts';
import { CLIENT_CONDITIONALS, decideStore, retentionMs, type StoreDecision } from './policy.ts';
import type { EntryRecord } from './store.ts';
import { createCacheTee } from './tee.ts';

export type ForwardOutcome = CacheOutcome & { kind: 'forward' };

/** What storing one upstream answer needs to know besides the answer itself. */
interface Fill { head: RequestHead; ctx: RequestContext; l: Lookup; settle: Settle; fwd: CacheOutcome; notModified: boolean }

/**
 * Forward `head` (client conditionals removed: the cache answers those itself) and store the answer when the
 * policy allows, teeing the body. `settle` learns whether it was stored (collapsed forwarding).
 */
export async function fetchAndStore(rt: CacheRuntime, head: RequestHead, ctx: RequestContext, fetch: Fetch, l: Lookup, settle: Settle, outcome: ForwardOutcome): Promise<ProxiedResponse> {
  let res: ProxiedResponse;
  try {
    res = await fetch({ ...head, headers: withoutHeaders(head.headers, CLIENT_CONDITIONALS) }, ctx);
  } catch (err) {
    settle('failed');
    throw err;
  }
  return storeResponse(rt, head, ctx, l, res, settle, outcome);
}

/** Store `res` (an answer to `head`) when the policy allows, and return what the client gets. */
export async function storeResponse(rt: CacheRuntime, head: RequestHead, ctx: RequestContext, l: Lookup, res: ProxiedResponse, settle: Settle, outcome: ForwardOutcome): Promise<ProxiedResponse> {
  const expected = declaredLength(res);
  const decision = decideStoreWithin(rt, head, l, res, expected);
  const fill: Fill = {
    head, ctx, l, settle,
    fwd: { ...outcome, fwdStatus: res.head.status },
    notModified: res.head.status === 200 && clientWantsNotModified(head.headers, res.head.headers),
  };
  if (decision.kind === 'no-store') return forwardUnstored(rt, fill, res);
  return writeToStore(rt, fill, res, decision, expected);
}

function declaredLength(res: ProxiedResponse): number | undefined {
  const cl = getHeader(res.head.headers, 'content-length');
  return cl !== undefined && /^\d+$/.test(cl.trim()) ? Number(cl.trim()) : undefined;
}

function decideStoreWithin(rt: CacheRuntime, head: RequestHead, l: Lookup, res: ProxiedResponse, expected: number | undefined): StoreDecision {
  const decision = decideStore(rt.kit, policyRequestOf(head, l.parts), head.headers, res.head.status, res.head.headers, rt.unkeyed);
  // Known to be over the store's entry bound: do not even start a write (the body streams straight through).
  if (decision.kind === 'store' && expected !== undefined && expected > rt.store.maxEntryBytes) return { kind: 'no-store', reason: 'too big' };
  return decision;
}

/** Not storable: pass it on; a non-error answer replaces (so drops) what was stored for this request. */
function forwardUnstored(rt: CacheRuntime, f: Fill, res: ProxiedResponse): ProxiedResponse {
  f.settle('not-stored');
  if (f.l.entryKey !== null && res.head.status < 500 && res.head.status !== 304) rt.store.delete(f.l.entryKey).catch(() => {});
  if (f.notModified) { discard(res.body); return notModifiedReply(f.ctx, res, f.fwd); }
  return markOutcome(f.ctx, res, f.fwd);
}

async function writeToStore(rt: CacheRuntime, f: Fill, res: ProxiedResponse, decision: StoreDecision & { kind: 'store' }, expected: number | undefined): Promise<ProxiedResponse> {
  const retention = retentionMs(decision.policy);
  let writerKey: string;
  try { writerKey = await entryKeyFor(rt, f.l.key, decision.varyNames, f.head, retention); } catch (err) {
    countStoreFailure(rt, f.ctx, err);
    f.settle('failed');
    return markOutcome(f.ctx, res, f.fwd);
  }
  const record: EntryRecord = { kind: 'entry', policy: decision.policy.toObject(), size: 0 };
  const writer = rt.store.createWriter(writerKey, record, retention);
  const done: Settle = (r) => {
    if (r === 'stored') { rt.counters.stored++; rt.flights.forget(f.l.key); }
    f.settle(r);
  };
  const stored = { ...f.fwd, stored: true };
  if (res.body === null) {
    done(await writer.commit().then((ok) => (ok ? 'stored' : 'not-stored'), () => 'not-stored' as const));
    return f.notModified ? notModifiedReply(f.ctx, res, stored) : markOutcome(f.ctx, res, stored);
  }
  const tee = createCacheTee(writer, expected, done);
  pipeline(res.body, tee, () => { /* errors reach the client through `tee`; the writer is aborted by it */ });
  if (f.notModified) {
    // The client has it; the store still gets the body, read at the upstream's pace.
    tee.resume();
    return notModifiedReply(f.ctx, res, stored);
  }
  return markOutcome(f.ctx, { head: res.head, body: tee }, stored);
}

function notModifiedReply(ctx: RequestContext, res: ProxiedResponse, outcome: CacheOutcome): ProxiedResponse {
  return markOutcome(ctx, { head: { status: 304, headers: notModifiedHeaders(res.head.headers) }, body: null }, outcome);
}
