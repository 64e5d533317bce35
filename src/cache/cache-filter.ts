/**
 * @module The cache filter (`--cache`): the `cache` phase around the upstream fetch, purge in `route`, and counters.
 *
 *   GET/HEAD → lookup (primary key, then the Vary variant) → fresh: answer from the store (Age, Cache-Status hit)
 *            → stale / no-cache: revalidate with the stored validators; 304 → update the meta, serve the body
 *            → stale-while-revalidate: answer now, revalidate in the background; stale-if-error on 5xx/unreachable
 *            → miss: one leader per key fetches (collapsed forwarding), its body is teed into the store
 *   other methods → forwarded; unsafe ones invalidate the URI, Location and Content-Location (RFC 9111 §4.4)
 *
 * Policy decisions are policy.ts (http-cache-semantics); stores are store.ts implementations.
 */
import { pipeline, Readable } from 'node:stream';
import { getHeader, hasHeader, withoutHeaders, type HeaderList } from '../http/headers.ts';
import type { RequestContext } from '../proxy/context.ts';
import { CONTINUE, type Fetch, type PhaseResult, type ProxiedResponse, type ProxyFilter, type RequestHead, type ResponseHead } from '../proxy/phases.ts';
import { appendCacheStatus, formatCacheStatus, type CacheOutcome } from './cache-status.ts';
import { clientWantsNotModified, notModifiedHeaders } from './conditional.ts';
import { cacheKey, formatCacheUri, hasRequestBody, keyPartsOf, varyKey, variantKey, type KeyParts } from './key.ts';
import {
  CLIENT_CONDITIONALS, createPolicyKit, decideReuse, decideRevalidation, decideStore, requestDirectives, retentionMs,
  servedHeaders, staleIfErrorAllows, UNKEYED_REQUEST_FIELDS, toPolicyRequest, validatorHeaders, type Clock,
} from './policy.ts';
import type CachePolicy from 'http-cache-semantics';
import { decidePurgeAuth, parsePurgeRequest } from './purge.ts';
import { answerFromStore } from './serve-stored.ts';
import { createSingleFlight } from './single-flight.ts';
import { withSurrogateCapability } from './surrogate-control.ts';
import type { CacheStore, EntryRecord, StoreStats } from './store.ts';
import { createCacheTee } from './tee.ts';

export interface CacheFilterOptions {
  store: CacheStore;
  /** Bearer token for purge; null = loopback clients only. */
  purgeToken: string | null;
  clock?: Clock;
  /** Collapsed-forwarding wait before a waiter goes to the origin itself (default 5 s). */
  lockTimeoutMs?: number;
  /** How long an uncacheable answer lets later requests skip the lock (default 120 s). */
  hitForMissMs?: number;
  /** Request fields whose presence keeps a response out of the store (default UNKEYED_REQUEST_FIELDS). */
  unkeyedRequestFields?: readonly string[];
}

export interface CacheStats {
  store: CacheStore['kind'];
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
  entries: StoreStats['entries'];
  bytes: StoreStats['bytes'];
  maxBytes: StoreStats['maxBytes'];
}

export interface CacheFilter extends ProxyFilter {
  getCacheStats(): CacheStats;
  close(): Promise<void>;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

interface Lookup { key: string; parts: KeyParts; entryKey: string | null; record: EntryRecord | null; varyMiss: boolean }

export function createCacheFilter(options: CacheFilterOptions): CacheFilter {
  const { store } = options;
  const clock = options.clock ?? Date.now;
  const kit = createPolicyKit(clock);
  const unkeyed = options.unkeyedRequestFields ?? UNKEYED_REQUEST_FIELDS;
  const flights = createSingleFlight({
    ...(options.lockTimeoutMs === undefined ? {} : { waitMs: options.lockTimeoutMs }),
    ...(options.hitForMissMs === undefined ? {} : { hitForMissMs: options.hitForMissMs }),
  });
  const backgroundRevalidations = new Set<string>();
  const s = { hits: 0, misses: 0, stored: 0, revalidated: 0, staleServed: 0, bypassed: 0, collapsed: 0, invalidated: 0, purged: 0, storeErrors: 0 };

  const mark = (ctx: RequestContext, res: ProxiedResponse, outcome: CacheOutcome): ProxiedResponse => {
    const value = formatCacheStatus(outcome);
    ctx.cacheStatus = value;
    return { head: { ...res.head, headers: appendCacheStatus(res.head.headers, value) }, body: res.body };
  };

  const storeFailed = (ctx: RequestContext, err: unknown): void => {
    s.storeErrors++;
    ctx.log.warn({ event: 'cache-store-error', requestId: ctx.id, store: store.kind, err }, 'cache store failed; answering without it');
  };

  async function lookup(head: RequestHead, parts: KeyParts, ctx: RequestContext): Promise<Lookup> {
    const key = cacheKey(parts);
    const miss: Lookup = { key, parts, entryKey: null, record: null, varyMiss: false };
    let rec;
    try { rec = await store.get(key); } catch (err) { storeFailed(ctx, err); return miss; }
    if (rec === null) return miss;
    if (rec.kind === 'entry') return { ...miss, entryKey: key, record: rec };
    const entryKey = variantKey(key, rec.generation, varyKey(rec.names, head.headers));
    let variant;
    try { variant = await store.get(entryKey); } catch (err) { storeFailed(ctx, err); return miss; }
    if (variant === null || variant.kind !== 'entry') return { ...miss, varyMiss: true };
    return { ...miss, entryKey, record: variant };
  }

  /** Where a new response for `head` goes: the primary key, or a variant under a (reused or new) Vary record. */
  async function entryKeyFor(key: string, varyNames: string[], head: RequestHead, ttlMs: number): Promise<string> {
    if (varyNames.length === 0) return key;
    const prev = await store.get(key);
    const same = prev !== null && prev.kind === 'vary' && prev.names.join(',') === varyNames.join(',');
    const generation = same ? prev.generation : `${clock().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
    await store.putRecord(key, { kind: 'vary', names: varyNames, generation }, Math.max(ttlMs, 3_600_000));
    return variantKey(key, generation, varyKey(varyNames, head.headers));
  }

  async function serveEntry(head: RequestHead, entryKey: string, record: EntryRecord, headers: HeaderList): Promise<ProxiedResponse> {
    return answerFromStore({
      method: head.method, requestHeaders: head.headers, status: record.policy.st, headers, size: record.size,
      open: () => store.openBody(entryKey, record),
    });
  }

  /**
   * Forward `head` (client conditionals removed: the cache answers those itself) and store the answer when the
   * policy allows, teeing the body. `settle` learns whether it was stored (collapsed forwarding).
   */
  async function fetchAndStore(head: RequestHead, ctx: RequestContext, fetch: Fetch, l: Lookup, settle: (o: 'stored' | 'not-stored' | 'failed') => void, outcome: CacheOutcome & { kind: 'forward' }): Promise<ProxiedResponse> {
    let res: ProxiedResponse;
    try {
      res = await fetch({ ...head, headers: withoutHeaders(head.headers, CLIENT_CONDITIONALS) }, ctx);
    } catch (err) {
      settle('failed');
      throw err;
    }
    return storeResponse(head, ctx, l, res, settle, outcome);
  }

  async function storeResponse(head: RequestHead, ctx: RequestContext, l: Lookup, res: ProxiedResponse, settle: (o: 'stored' | 'not-stored' | 'failed') => void, outcome: CacheOutcome & { kind: 'forward' }): Promise<ProxiedResponse> {
    const preq = toPolicyRequest(head.headers, { host: hostOf(l.parts), path: l.parts.path });
    const cl = getHeader(res.head.headers, 'content-length');
    const expected = cl !== undefined && /^\d+$/.test(cl.trim()) ? Number(cl.trim()) : undefined;
    let decision = decideStore(kit, preq, head.headers, res.head.status, res.head.headers, unkeyed);
    // Known to be over the store's entry bound: do not even start a write (the body streams straight through).
    if (decision.kind === 'store' && expected !== undefined && expected > store.maxEntryBytes) decision = { kind: 'no-store', reason: 'too big' };
    const fwd: CacheOutcome = { ...outcome, fwdStatus: res.head.status };
    const notModified = res.head.status === 200 && clientWantsNotModified(head.headers, res.head.headers);
    if (decision.kind === 'no-store') {
      settle('not-stored');
      if (l.entryKey !== null && res.head.status < 500 && res.head.status !== 304) store.delete(l.entryKey).catch(() => {});
      if (notModified) { discard(res.body); return mark(ctx, { head: { status: 304, headers: notModifiedHeaders(res.head.headers) }, body: null }, fwd); }
      return mark(ctx, res, fwd);
    }
    const retention = retentionMs(decision.policy);
    let writerKey: string;
    try { writerKey = await entryKeyFor(l.key, decision.varyNames, head, retention); } catch (err) {
      storeFailed(ctx, err);
      settle('failed');
      return mark(ctx, res, fwd);
    }
    const record: EntryRecord = { kind: 'entry', policy: decision.policy.toObject(), size: 0 };
    const writer = store.createWriter(writerKey, record, retention);
    const done = (r: 'stored' | 'not-stored' | 'failed'): void => {
      if (r === 'stored') { s.stored++; flights.forget(l.key); }
      settle(r);
    };
    const stored = { ...fwd, stored: true };
    if (res.body === null) {
      done(await writer.commit().then((ok) => (ok ? 'stored' : 'not-stored'), () => 'not-stored' as const));
      if (notModified) return mark(ctx, { head: { status: 304, headers: notModifiedHeaders(res.head.headers) }, body: null }, stored);
      return mark(ctx, res, stored);
    }
    const tee = createCacheTee(writer, expected, done);
    pipeline(res.body, tee, () => { /* errors reach the client through `tee`; the writer is aborted by it */ });
    if (notModified) {
      // The client has it; the store still gets the body, read at the upstream's pace.
      tee.resume();
      return mark(ctx, { head: { status: 304, headers: notModifiedHeaders(res.head.headers) }, body: null }, stored);
    }
    return mark(ctx, { head: res.head, body: tee }, stored);
  }

  /** Revalidate a stored entry with its validators (RFC 9111 §4.3); `background` for stale-while-revalidate. */
  async function revalidate(head: RequestHead, ctx: RequestContext, fetch: Fetch, l: Lookup & { entryKey: string; record: EntryRecord }, reason: 'stale' | 'request'): Promise<ProxiedResponse> {
    const policy = kit.restore(l.record.policy);
    const preq = toPolicyRequest(head.headers, { host: hostOf(l.parts), path: l.parts.path });
    const revHead: RequestHead = { ...head, method: 'GET', headers: [...withoutHeaders(head.headers, [...CLIENT_CONDITIONALS, 'range', 'if-range']), ...validatorHeaders(policy, preq)] };
    const serveStale = async (status: number | undefined): Promise<ProxiedResponse> => {
      s.staleServed++;
      const served = await serveEntry(head, l.entryKey, l.record, fromPolicy(policy));
      return mark(ctx, served, { kind: 'forward', reason: 'stale', ...(status === undefined ? {} : { fwdStatus: status }), detail: 'stale-if-error', ttl: policy.maxAge() - policy.age() });
    };
    let res: ProxiedResponse;
    try {
      res = await fetch(revHead, ctx);
    } catch (err) {
      if (staleIfErrorAllows(policy, preq, head.headers)) return serveStale(undefined);
      throw err;
    }
    const out = decideRevalidation(kit, policy, preq, head.headers, res.head.status, res.head.headers);
    switch (out.kind) {
      case 'stale-if-error':
        discard(res.body);
        return serveStale(res.head.status);
      case 'not-modified': {
        discard(res.body);
        s.revalidated++;
        const record: EntryRecord = { ...l.record, policy: out.policy.toObject() };
        await store.putRecord(l.entryKey, record, retentionMs(out.policy)).catch((err: unknown) => storeFailed(ctx, err));
        let served: ProxiedResponse;
        try {
          served = await serveEntry(head, l.entryKey, record, fromPolicy(out.policy));
        } catch (err) {
          // The stored body is gone (evicted, corrupt): fetch it whole instead.
          storeFailed(ctx, err);
          return fetchAndStore(wholeOf(head), ctx, fetch, l, () => {}, { kind: 'forward', reason });
        }
        return mark(ctx, served, { kind: 'forward', reason, fwdStatus: 304, ttl: out.policy.maxAge() - out.policy.age() });
      }
      case 'refetch':
        discard(res.body);
        return fetchAndStore(wholeOf(head), ctx, fetch, l, () => {}, { kind: 'forward', reason });
      case 'replaced':
        // A full new answer (a Range request gets it whole: RFC 9110 §14.2 lets a server ignore Range).
        return storeResponse(head, ctx, l, res, () => {}, { kind: 'forward', reason });
    }
  }

  function revalidateInBackground(head: RequestHead, ctx: RequestContext, fetch: Fetch, l: Lookup & { entryKey: string; record: EntryRecord }): void {
    if (backgroundRevalidations.has(l.entryKey)) return;
    backgroundRevalidations.add(l.entryKey);
    revalidate(wholeOf(head), ctx, fetch, l, 'stale')
      // Nobody reads this body but the store: drain it (the tee stores it) before the next revalidation may start.
      .then((res) => res.body === null ? undefined : new Promise<void>((resolve) => { res.body!.on('error', () => resolve()).on('end', resolve).resume(); }))
      .catch((err: unknown) => ctx.log.info({ event: 'cache-background-revalidation-failed', requestId: ctx.id, err }, 'background revalidation failed'))
      .finally(() => backgroundRevalidations.delete(l.entryKey));
  }

  /** A collapsed waiter: after the leader stored its answer, serve it from the store (null: go to the origin). */
  async function serveAfterFlight(head: RequestHead, ctx: RequestContext, l: Lookup, result: string): Promise<ProxiedResponse | null> {
    if (result !== 'stored') return null;
    const again = await lookup(head, l.parts, ctx);
    if (again.record === null || again.entryKey === null) return null;
    const policy = kit.restore(again.record.policy);
    const d = decideReuse(kit, policy, toPolicyRequest(head.headers, { host: hostOf(l.parts), path: l.parts.path }), head.headers);
    if (d.kind !== 'fresh') return null;
    try {
      const served = await serveEntry(head, again.entryKey, again.record, d.headers);
      s.collapsed++;
      s.misses--;
      s.hits++;
      return mark(ctx, served, { kind: 'hit', ttl: d.ttl, detail: 'collapsed' });
    } catch {
      return null;
    }
  }

  async function miss(head: RequestHead, ctx: RequestContext, fetch: Fetch, l: Lookup): Promise<ProxiedResponse> {
    s.misses++;
    const reason = l.varyMiss ? 'vary-miss' : 'miss';
    // A Range (or HEAD) miss goes upstream as it is; the cache is not filled from it (a later full GET fills it).
    // If a full GET for the key is in flight, wait for it (bounded) and answer from what it stored.
    if (head.method === 'HEAD' || getHeader(head.headers, 'range') !== undefined) {
      const running = flights.waitFor(l.key);
      const served = running === null ? null : await serveAfterFlight(head, ctx, l, await running);
      if (served !== null) return served;
      const res = await fetch(head, ctx);
      const detail = head.method === 'HEAD' ? 'head' : 'range';
      // An origin that ignores Range sends the whole 200: that one is worth storing.
      if (head.method === 'GET' && res.head.status === 200 && !hasHeader(res.head.headers, 'content-range')) return storeResponse(head, ctx, l, res, () => {}, { kind: 'forward', reason, detail });
      return mark(ctx, res, { kind: 'forward', reason, detail });
    }
    const ticket = flights.join(l.key);
    if (ticket.kind === 'wait') {
      const served = await serveAfterFlight(head, ctx, l, await ticket.result);
      return served ?? fetchAndStore(head, ctx, fetch, l, () => {}, { kind: 'forward', reason });
    }
    const settle = ticket.kind === 'lead' ? ticket.settle : () => {};
    try {
      return await fetchAndStore(head, ctx, fetch, l, settle, { kind: 'forward', reason });
    } catch (err) {
      settle('failed');
      throw err;
    }
  }

  async function invalidate(ctx: RequestContext, parts: KeyParts, res: ProxiedResponse): Promise<void> {
    const keys = [cacheKey(parts)];
    const base = formatCacheUri(parts);
    for (const field of ['location', 'content-location']) {
      const v = getHeader(res.head.headers, field);
      if (v === undefined) continue;
      try {
        const u = new URL(v, base);
        // RFC 9111 §4.4: only when the host is the same (prevents a denial-of-service on other sites).
        if (u.host.toLowerCase() === new URL(base).host.toLowerCase()) keys.push(cacheKey({ ...parts, path: `${u.pathname}${u.search}` }));
      } catch { /* not a URI: nothing to invalidate */ }
    }
    for (const k of keys) { flights.forget(k); await store.delete(k).catch((err: unknown) => storeFailed(ctx, err)); }
    s.invalidated += keys.length;
  }

  return {
    name: 'cache',

    async route(ctx: RequestContext): Promise<PhaseResult> {
      const p = parsePurgeRequest(ctx.request.method, ctx.request.target, ctx.request.headers, ctx.secure);
      if (p.kind === 'none') return CONTINUE;
      const text = (status: number, body: string, extra: HeaderList = []): PhaseResult => ({
        kind: 'respond', reply: { status, headers: [['content-type', 'application/json'], ['cache-control', 'no-store'], ...extra], body: `${body}\n` },
      });
      if (p.kind === 'invalid') return text(p.status, JSON.stringify({ error: p.reason }), p.status === 405 ? [['allow', 'POST, DELETE, PURGE']] : []);
      const auth = decidePurgeAuth(options.purgeToken, ctx.request.headers, ctx.clientAddress);
      if (auth.kind === 'deny') {
        ctx.log.info({ event: 'cache-purge-denied', requestId: ctx.id, client: ctx.clientAddress }, auth.reason);
        return text(auth.status, JSON.stringify({ error: auth.reason }), auth.status === 401 ? [['www-authenticate', 'Bearer']] : []);
      }
      const key = cacheKey(p.parts);
      const existed = (await store.get(key).catch(() => null)) !== null;
      await store.delete(key);
      flights.forget(key);
      if (existed) s.purged++;
      ctx.log.info({ event: 'cache-purge', requestId: ctx.id, uri: formatCacheUri(p.parts), existed }, 'cache purge');
      return text(200, JSON.stringify({ purged: existed, uri: formatCacheUri(p.parts) }));
    },

    async cache(head: RequestHead, ctx: RequestContext, fetch: Fetch): Promise<ProxiedResponse> {
      try {
        return await cachePhase(head, ctx, fetch);
      } catch (err) {
        // The upstream failed and nothing stored could stand in: the error reply still says the cache forwarded.
        ctx.cacheStatus ??= formatCacheStatus({ kind: 'forward', reason: 'miss', detail: 'upstream-error' });
        throw err;
      }
    },

    /** Cache-Status on replies made after the cache phase failed (502/504 pages); others already carry it. */
    responseFilter(head: ResponseHead, ctx: RequestContext): ResponseHead {
      if (ctx.cacheStatus === undefined || hasHeader(head.headers, 'cache-status')) return head;
      return { ...head, headers: appendCacheStatus(head.headers, ctx.cacheStatus) };
    },

    getCacheStats(): CacheStats {
      const st = store.stats();
      return { store: store.kind, ...s, entries: st.entries, bytes: st.bytes, maxBytes: st.maxBytes };
    },

    close: () => store.close(),
  };

  async function cachePhase(head: RequestHead, ctx: RequestContext, fetchUpstream: Fetch): Promise<ProxiedResponse> {
    // Edge Architecture 1.0: as a reverse proxy (origin-form target), announce ferry as a surrogate so the origin may
    // target Surrogate-Control at it; a forward proxy is nobody's surrogate.
    const surrogate = head.target.startsWith('/');
    const fetch: Fetch = surrogate ? (h, c) => fetchUpstream({ ...h, headers: withSurrogateCapability(h.headers) }, c) : fetchUpstream;
    const parts = keyPartsOf(head, ctx);
    if (head.method !== 'GET' && head.method !== 'HEAD') {
      const res = await fetch(head, ctx);
      // RFC 9111 §4.4: a non-error response to an unsafe method invalidates the target URI and the URIs it names.
      if (parts !== null && !SAFE_METHODS.has(head.method) && res.head.status >= 200 && res.head.status < 400) await invalidate(ctx, parts, res);
      return mark(ctx, res, { kind: 'forward', reason: 'method' });
    }
    if (parts === null || hasRequestBody(head.headers)) {
      // C2: a GET with a body (or no Host) is never answered from or stored in the cache.
      s.bypassed++;
      return mark(ctx, await fetch(head, ctx), { kind: 'forward', reason: 'bypass', detail: parts === null ? 'no-key' : 'request-body' });
    }
    const l = await lookup(head, parts, ctx);
    const onlyIfCached = requestDirectives(head.headers).has('only-if-cached');
    if (l.record === null || l.entryKey === null) {
      // RFC 9111 §5.2.1.7: only-if-cached with nothing usable → 504.
      if (onlyIfCached) return mark(ctx, gatewayTimeout(), { kind: 'forward', reason: 'miss', detail: 'only-if-cached' });
      return miss(head, ctx, fetch, l);
    }
    const found = { ...l, entryKey: l.entryKey, record: l.record };
    const policy = kit.restore(found.record.policy);
    const preq = toPolicyRequest(head.headers, { host: hostOf(parts), path: parts.path });
    const d = decideReuse(kit, policy, preq, head.headers);
    try {
      if (d.kind === 'fresh' || d.kind === 'stale-while-revalidate') {
        const served = await serveEntry(head, found.entryKey, found.record, d.headers);
        s.hits++;
        if (d.kind === 'stale-while-revalidate') { s.staleServed++; revalidateInBackground(head, ctx, fetch, found); }
        return mark(ctx, served, { kind: 'hit', ttl: d.ttl, ...(d.kind === 'stale-while-revalidate' ? { detail: 'stale-while-revalidate' } : {}) });
      }
    } catch (err) {
      // The stored body vanished or failed its check: drop it and go to the origin.
      storeFailed(ctx, err);
      await store.delete(found.entryKey).catch(() => {});
      return miss(head, ctx, fetch, { ...l, entryKey: null, record: null });
    }
    // RFC 9111 §5.2.1.7: nothing usable without contacting the origin → 504.
    if (onlyIfCached) return mark(ctx, gatewayTimeout(), { kind: 'forward', reason: 'stale', detail: 'only-if-cached' });
    if (d.kind === 'unusable') {
      s.bypassed++;
      return mark(ctx, await fetch(head, ctx), { kind: 'forward', reason: 'bypass', detail: d.reason });
    }
    s.misses++;
    // A HEAD that may not use the stored response goes upstream as a HEAD; only a GET refreshes the entry.
    if (head.method === 'HEAD') return mark(ctx, await fetch(head, ctx), { kind: 'forward', reason: d.stale ? 'stale' : 'request', detail: 'head' });
    return revalidate(head, ctx, fetch, found, d.stale ? 'stale' : 'request');
  }
}

/** The request without Range/If-Range: a refill fetches the whole representation (the client then gets it whole). */
function wholeOf(head: RequestHead): RequestHead {
  return { ...head, method: 'GET', headers: withoutHeaders(head.headers, ['range', 'if-range']) };
}

function hostOf(parts: KeyParts): string {
  return formatCacheUri({ ...parts, path: '' }).replace(/^https?:\/\//, '');
}

function fromPolicy(policy: CachePolicy): HeaderList {
  return servedHeaders(policy);
}

function gatewayTimeout(): ProxiedResponse {
  const body = Buffer.from('not in cache, and the request said only-if-cached\n');
  const headers: HeaderList = [['content-type', 'text/plain; charset=utf-8'], ['content-length', String(body.length)], ['cache-control', 'no-store']];
  return { head: { status: 504, headers }, body: Readable.from([body]) };
}

/** Drop an upstream body nobody will read (304 bodies, errors replaced by stale-if-error, answers turned into 304). */
function discard(body: Readable | null): void {
  if (body === null) return;
  body.on('error', () => { /* the abort we cause here is expected */ });
  body.destroy();
}
