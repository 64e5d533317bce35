/**
 * @module Freshening stored responses with HEAD (RFC 9111 §4.3.5): when a HEAD that the cache forwards (the stored
 * GET response was stale, or the request asked to revalidate) comes back 200, the stored response is updated with
 * its header fields as a 304 would update it (§4.3.4) — if the validators and Content-Length it carries match the
 * stored ones; otherwise the stored response stays as it is (already stale, so the next GET revalidates it).
 * The HEAD is then answered from the updated entry, so stored fields the HEAD response lacks are kept
 * (cache-tests head-200-retain, head-200-freshness-update, head-200-update).
 */
import { getHeader, type HeaderList } from '../http/headers.ts';
import type { RequestContext } from '../proxy/context.ts';
import type { Fetch, ProxiedResponse, RequestHead } from '../proxy/phases.ts';
import { serveEntry, type FoundEntry } from './cache-lookup.ts';
import { countStoreFailure, discard, markOutcome, policyRequestOf, type CacheRuntime } from './cache-runtime.ts';
import { decideRevalidation, fromPolicyHeaders, retentionMs, servedHeaders } from './policy.ts';
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
export async function forwardHead(rt: CacheRuntime, head: RequestHead, ctx: RequestContext, fetch: Fetch, found: FoundEntry, reason: 'stale' | 'request'): Promise<ProxiedResponse> {
  const res = await fetch(head, ctx);
  const outcome = { kind: 'forward', reason, detail: 'head' } as const;
  if (res.head.status !== 200) return markOutcome(ctx, res, outcome);
  const policy = rt.kit.restore(found.record.policy);
  if (!headMayFreshen(fromPolicyHeaders(policy.responseHeaders()), found.record.size, res.head.headers)) return markOutcome(ctx, res, outcome);
  const preq = policyRequestOf(head, found.parts);
  const update = res.head.headers.filter(([n]) => n !== 'content-length');
  const d = decideRevalidation(rt.kit, policy, preq, head.headers, 304, update);
  if (d.kind !== 'not-modified') return markOutcome(ctx, res, outcome);
  const record: EntryRecord = { ...found.record, policy: d.policy.toObject() };
  try {
    await rt.store.putRecord(found.entryKey, record, retentionMs(d.policy));
    const served = await serveEntry(rt, head, found.entryKey, record, servedHeaders(d.policy));
    discard(res.body);
    rt.counters.revalidated++;
    return markOutcome(ctx, served, { ...outcome, fwdStatus: 200, ttl: d.policy.maxAge() - d.policy.age() });
  } catch (err) {
    countStoreFailure(rt, ctx, err);
    return markOutcome(ctx, res, outcome);
  }
}
