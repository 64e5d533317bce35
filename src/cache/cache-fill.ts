/**
 * @module Filling the cache from an upstream answer: decide whether it may be stored (policy.ts), place it (Vary),
 * and tee its body into a store writer while it streams to the client (tee.ts). The client's own conditionals are
 * answered here too: a 200 the client already has becomes a 304 (the store still gets the body).
 *
 * A fill returns the reply at once and, beside it, a promise of how the store write ended: the miss path's
 * collapsed-forwarding leader hands that to its waiters (single-flight.ts); other callers ignore it.
 */
import { pipeline } from 'node:stream';
import { declaredContentLength } from '../http/framing.ts';
import { hasHeader, withoutHeaders } from '../http/headers.ts';
import type { RequestContext } from '../proxy/context.ts';
import type { Fetch, ProxiedResponse, RequestHead } from '../proxy/phases.ts';
import { logStoreFailure, type CacheDeps } from './cache-deps.ts';
import { discard, policyRequestOf, withOutcome } from './cache-request.ts';
import type { CacheOutcome } from './cache-status.ts';
import { clientWantsNotModified, notModifiedHeaders } from './conditional.ts';
import { entryKeyFor, type Lookup } from './cache-lookup.ts';
import { storeWhole, takeWholeBody } from './fill-whole.ts';
import { CLIENT_CONDITIONAL_SET, decideStore, retentionForTtl, STORE_REQUEST_FIELDS, type StoreDecision } from './policy.ts';
import type { FlightOutcome } from './single-flight.ts';
import type { BodyWriter, EntryRecord } from './store.ts';
import { createCacheTee } from './tee.ts';
import { WholeBody } from '../proxy/whole-body.ts';

export type ForwardOutcome = CacheOutcome & { kind: 'forward' };

/**
 * The client's reply, and how storing it ends (`failed`: the transfer broke, nothing stored): the outcome itself
 * when the store already took it (or refused it) before the reply was made, a promise when it ends with the body.
 */
export interface Filled { res: ProxiedResponse; stored: FlightOutcome | Promise<FlightOutcome> }

/** One upstream answer to store: the request, its lookup, what the client gets told. */
interface Fill { head: RequestHead; ctx: RequestContext; l: Lookup; fwd: ForwardOutcome; notModified: boolean }

/**
 * Forward `head` (client conditionals removed: the cache answers those itself) and store the answer when the
 * policy allows, teeing the body. Rejects when the upstream fails.
 */
export async function fetchAndStore(deps: CacheDeps, head: RequestHead, ctx: RequestContext, fetch: Fetch, l: Lookup, outcome: ForwardOutcome): Promise<Filled> {
  const res = await fetch({ ...head, headers: withoutHeaders(head.headers, CLIENT_CONDITIONAL_SET) }, ctx);
  return storeResponse(deps, head, ctx, l, res, outcome);
}

/** Store `res` (an answer to `head`) when the policy allows, and return what the client gets. */
export function storeResponse(deps: CacheDeps, head: RequestHead, ctx: RequestContext, l: Lookup, res: ProxiedResponse, outcome: ForwardOutcome): Promise<Filled> {
  const expected = declaredContentLength(res.head.headers);
  const decision = decideStoreWithin(deps, head, l, res, expected);
  const fill: Fill = {
    head, ctx, l,
    fwd: { ...outcome, fwdStatus: res.head.status },
    notModified: res.head.status === 200 && clientWantsNotModified(head.headers, res.head.headers),
  };
  if (decision.kind === 'no-store') return Promise.resolve({ res: forwardUnstored(deps, fill, res), stored: 'not-stored' });
  return writeToStore(deps, fill, res, decision, expected);
}

function decideStoreWithin(deps: CacheDeps, head: RequestHead, l: Lookup, res: ProxiedResponse, expected: number | undefined): StoreDecision {
  // Without Vary the library keeps no request field but the few it reads: normalise just those (policy.ts).
  const only = hasHeader(res.head.headers, 'vary') ? undefined : STORE_REQUEST_FIELDS;
  const decision = decideStore(deps.kit, policyRequestOf(head, l.parts, only), head.headers, res.head.status, res.head.headers, deps.unkeyed);
  // Known to be over the store's entry bound: do not even start a write (the body streams straight through).
  if (decision.kind === 'store' && expected !== undefined && expected > deps.store.maxEntryBytes) return { kind: 'no-store', reason: 'too big' };
  return decision;
}

/** Not storable: pass it on; a non-error answer replaces (so drops) what was stored for this request. */
function forwardUnstored(deps: CacheDeps, f: Fill, res: ProxiedResponse): ProxiedResponse {
  if (f.l.entryKey !== null && res.head.status < 500 && res.head.status !== 304) deps.store.delete(f.l.entryKey).catch(() => {});
  if (f.notModified) { discard(res.body); return notModifiedReply(f.ctx, res, f.fwd); }
  return withOutcome(f.ctx, res, f.fwd);
}

async function writeToStore(deps: CacheDeps, f: Fill, res: ProxiedResponse, decision: StoreDecision & { kind: 'store' }, expected: number | undefined): Promise<Filled> {
  const retention = retentionForTtl(decision.ttlMs);
  let writerKey: string;
  // Without Vary the entry goes under the primary key: no store call, so no await.
  try { writerKey = decision.varyNames.length === 0 ? f.l.key : await entryKeyFor(deps, f.l.key, decision.varyNames, f.head, retention); } catch (err) {
    logStoreFailure(deps, f.ctx, err);
    return { res: withOutcome(f.ctx, res, f.fwd), stored: 'failed' };
  }
  const record: EntryRecord = { kind: 'entry', policy: decision.policy.toObject(), size: 0 };
  const outcome: ForwardOutcome = { ...f.fwd, stored: true };
  const whole = res.body === null ? null : takeWholeBody(res.body, expected);
  if (whole !== null && deps.store.putWhole !== undefined) {
    // All of it is here already and the store takes it at once (memory): no writer, no await (fill-whole.ts).
    const r = ended(deps, f, deps.store.putWhole(writerKey, record, whole, retention) ? 'stored' : 'not-stored', undefined);
    return { res: storedReply(f, res, new WholeBody(whole), outcome), stored: r };
  }
  const writer = deps.store.createWriter(writerKey, record, retention);
  if (res.body === null) {
    const r = ended(deps, f, await writer.commit().then((ok) => (ok ? 'stored' : 'not-stored'), () => 'not-stored' as const), writer);
    return { res: storedReply(f, res, null, outcome), stored: r };
  }
  if (whole !== null) {
    // All of it is here already: one store write, one client write (fill-whole.ts).
    const { body, result } = await storeWhole(writer, whole);
    const r = ended(deps, f, result, writer);
    return { res: storedReply(f, res, body, outcome), stored: r };
  }
  let teeEnded!: (r: FlightOutcome) => void;
  const stored = new Promise<FlightOutcome>((resolve) => { teeEnded = (r) => resolve(ended(deps, f, r, writer)); });
  const tee = createCacheTee(writer, expected, teeEnded);
  pipeline(res.body, tee, () => { /* errors reach the client through `tee`; the writer is aborted by it */ });
  if (f.notModified) {
    // The client has it; the store still gets the body, read at the upstream's pace.
    tee.resume();
    return { res: notModifiedReply(f.ctx, res, outcome), stored };
  }
  return { res: withOutcome(f.ctx, { head: res.head, body: tee }, outcome), stored };
}

/** A store write ended: a stored answer ends any hit-for-miss mark on the key (single-flight.ts); failures are counted. */
function ended(deps: CacheDeps, f: Fill, r: FlightOutcome, writer: BodyWriter | undefined): FlightOutcome {
  if (r === 'stored') { deps.flights.forget(f.l.key); deps.health.writeOk(f.ctx.log); }
  const failure = writer?.failure?.();
  // A full or read-only disk, a stalled Redis: the client still gets the whole body; the condition is logged once.
  if (r !== 'stored' && failure !== undefined) deps.health.writeFailed(f.ctx.log, failure, f.ctx.id);
  return r;
}

/** What the client gets once the whole answer is stored: a 304 when its conditionals match, else `body` under the head. */
function storedReply(f: Fill, res: ProxiedResponse, body: ProxiedResponse['body'], outcome: ForwardOutcome): ProxiedResponse {
  return f.notModified ? notModifiedReply(f.ctx, res, outcome) : withOutcome(f.ctx, { head: res.head, body }, outcome);
}

function notModifiedReply(ctx: RequestContext, res: ProxiedResponse, outcome: CacheOutcome): ProxiedResponse {
  return withOutcome(ctx, { head: { status: 304, headers: notModifiedHeaders(res.head.headers) }, body: null }, outcome);
}
