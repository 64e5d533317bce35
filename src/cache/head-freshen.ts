/**
 * @module Freshening stored responses with HEAD (RFC 9111 §4.3.5): when a HEAD that the cache forwards (the stored
 * GET response was stale, or the request asked to revalidate) comes back 200, the stored response is updated with
 * its header fields as a 304 would update it (§4.3.4) — if the validators and Content-Length it carries match the
 * stored ones; otherwise the stored response stays as it is (already stale, so the next GET revalidates it).
 * The HEAD is then answered from the updated entry, so stored fields the HEAD response lacks are kept
 * (cache-tests head-200-retain, head-200-freshness-update, head-200-update).
 */
import { getHeader, type HeaderList } from '../http/headers.ts';
import type { ProxiedResponse } from '../proxy/phases.ts';
import { logStoreFailure, type CacheDeps } from './cache-deps.ts';
import type { Exchange } from './cache-executor.ts';
import { serveEntry, type FoundEntry } from './cache-lookup.ts';
import { discard, policyRequestOf, withOutcome } from './cache-request.ts';
import { decideRevalidation, freshnessLeft, fromPolicyHeaders, retentionMs, servedHeaders } from './policy.ts';
import type { EntryRecord } from './store.ts';

/**
 * §4.3.5: "if the stored response and HEAD response have matching values for any received validator fields (ETag
 * and Last-Modified) and, if the HEAD response has a Content-Length header field, the value of Content-Length
 * matches that of the stored response". Pure.
 */
export function headMayFreshen(stored: HeaderList, storedSize: number, received: HeaderList): boolean {
  for (const name of ['etag', 'last-modified']) {
    const r = getHeader(received, name);
    if (r !== undefined && r !== getHeader(stored, name)) return false;
  }
  const cl = getHeader(received, 'content-length');
  return cl === undefined || cl.trim() === String(storedSize);
}

/** Forward the HEAD; a matching 200 freshens the stored entry and the HEAD is answered from it. */
export async function forwardHead(deps: CacheDeps, x: Exchange, found: FoundEntry, reason: 'stale' | 'request'): Promise<ProxiedResponse> {
  const { head, ctx } = x;
  const res = await x.fetch(head, ctx);
  const outcome = { kind: 'forward', reason, detail: 'head' } as const;
  if (res.head.status !== 200) return withOutcome(ctx, res, outcome);
  const policy = deps.kit.restore(found.record.policy);
  if (!headMayFreshen(fromPolicyHeaders(policy.responseHeaders()), found.record.size, res.head.headers)) return withOutcome(ctx, res, outcome);
  const preq = policyRequestOf(head, found.parts);
  const update = res.head.headers.filter(([n]) => n !== 'content-length');
  const d = decideRevalidation(deps.kit, policy, preq, head.headers, 304, update);
  if (d.kind !== 'not-modified') return withOutcome(ctx, res, outcome);
  const record: EntryRecord = { ...found.record, policy: deps.kit.record(d.policy) };
  try {
    await deps.store.putRecord(found.entryKey, record, retentionMs(d.policy));
    const served = await serveEntry(deps, head, found.entryKey, record, servedHeaders(d.policy));
    discard(res.body);
    return withOutcome(ctx, served, { ...outcome, fwdStatus: 200, ttl: freshnessLeft(d.policy) });
  } catch (err) {
    logStoreFailure(deps, ctx, err);
    return withOutcome(ctx, res, outcome);
  }
}
