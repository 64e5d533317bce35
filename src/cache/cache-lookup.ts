/**
 * @module Finding and placing stored entries: the primary key holds either the entry itself or a Vary record
 * (the request fields it varies on plus a generation); the entry then sits under a secondary key built from those
 * fields of the request (RFC 9111 §4.1). Also opens a found entry as an answer.
 */
import type { HeaderList } from '../http/headers.ts';
import type { RequestContext } from '../proxy/context.ts';
import type { ProxiedResponse, RequestHead } from '../proxy/phases.ts';
import type { CacheDeps } from './cache-deps.ts';
import { cacheKey, varyKey, variantKey, type KeyParts } from './key.ts';
import { answerFromStore } from './serve-stored.ts';
import type { EntryRecord } from './store.ts';

/**
 * `varyMiss`: a Vary record exists but no variant for this request's fields. `unavailable`: the store failed to
 * answer (store-health.ts): the request bypasses the cache.
 */
export interface Lookup { key: string; parts: KeyParts; entryKey: string | null; record: EntryRecord | null; varyMiss: boolean; unavailable?: boolean }

export type FoundEntry = Lookup & { entryKey: string; record: EntryRecord };

/** A store failure is an outage (store-health.ts, logged once): the request still gets its answer from the origin. */
export async function lookupEntry(deps: CacheDeps, head: RequestHead, parts: KeyParts, ctx: RequestContext): Promise<Lookup> {
  const key = cacheKey(parts);
  let rec;
  // A store in this process answers at once: no promise to await (store.ts getNow).
  const store = deps.store;
  try { rec = store.getNow === undefined ? await store.get(key) : store.getNow(key); } catch (err) { return storeDown(deps, ctx, key, parts, err); }
  deps.health.ok(ctx.log);
  if (rec === null) return { key, parts, entryKey: null, record: null, varyMiss: false };
  if (rec.kind === 'entry') return { key, parts, entryKey: key, record: rec, varyMiss: false };
  const entryKey = variantKey(key, rec.generation, varyKey(rec.names, head.headers));
  let variant;
  try { variant = store.getNow === undefined ? await store.get(entryKey) : store.getNow(entryKey); } catch (err) { return storeDown(deps, ctx, key, parts, err); }
  if (variant === null || variant.kind !== 'entry') return { key, parts, entryKey: null, record: null, varyMiss: true };
  return { key, parts, entryKey, record: variant, varyMiss: false };
}

function storeDown(deps: CacheDeps, ctx: RequestContext, key: string, parts: KeyParts, err: unknown): Lookup {
  deps.health.failed(ctx.log, err, ctx.id);
  return { key, parts, entryKey: null, record: null, varyMiss: false, unavailable: true };
}

/** Did the lookup find an entry? (A type guard: the hit path makes no second lookup object.) */
export function isFound(l: Lookup): l is FoundEntry {
  return l.record !== null && l.entryKey !== null;
}

/**
 * Where a new response for `head` goes: the primary key, or a variant under a (reused or new) Vary record. A new
 * set of Vary names starts a new generation, which orphans the old variants (they expire on their own).
 */
export async function entryKeyFor(deps: CacheDeps, key: string, varyNames: string[], head: RequestHead, ttlMs: number): Promise<string> {
  if (varyNames.length === 0) return key;
  const prev = await deps.store.get(key);
  const same = prev !== null && prev.kind === 'vary' && prev.names.join(',') === varyNames.join(',');
  const generation = same ? prev.generation : `${deps.clock().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  await deps.store.putRecord(key, { kind: 'vary', names: varyNames, generation }, Math.max(ttlMs, 3_600_000));
  return variantKey(key, generation, varyKey(varyNames, head.headers));
}

/** The stored entry as the answer to `head` (304, HEAD, Range or the whole body); rejects when the body is gone. */
export async function serveEntry(deps: CacheDeps, head: RequestHead, entryKey: string, record: EntryRecord, headers: HeaderList): Promise<ProxiedResponse> {
  return answerFromStore({
    method: head.method, requestHeaders: head.headers, status: record.policy.st, headers, size: record.size,
    // A store in this process opens at once (store.ts openNow): no promise to await.
    open: () => (deps.store.openNow === undefined ? deps.store.openBody(entryKey, record) : deps.store.openNow(entryKey, record)),
  });
}
