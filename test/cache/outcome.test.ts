/**
 * One outcome per request: the cache phase leaves a structured record on the context (`ctx.cache`), and ferry's
 * Cache-Status member, the access log and the stats results are that record, formatted or read in one place.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createCacheFilter } from '../../src/cache/cache-filter.ts';
import { cacheResultOf, cacheStatusOf } from '../../src/cache/cache-status.ts';
import { createMemoryStore } from '../../src/cache/memory-store.ts';
import { getJoinedHeader } from '../../src/http/headers.ts';
import type { RequestHead } from '../../src/proxy/phases.ts';
import { cacheContext, closeAgent, realFetch, startOrigin, text } from './helpers.ts';

after(() => closeAgent());

const head = (target: string, method = 'GET', more: Array<[string, string]> = []): RequestHead =>
  ({ method, target, httpVersion: '1.1', headers: [['host', 'h.example'], ...more] });

test('miss, hit, method and bypass: the outcome on the context is what Cache-Status says and what /stats counts', async () => {
  const origin = await startOrigin((req, res) => {
    // An upstream cache's member comes first; ferry appends its own (RFC 9211 §2).
    res.writeHead(200, { 'cache-control': 'max-age=60', 'cache-status': 'origin-cdn; hit' });
    res.end(req.method === 'POST' ? 'posted' : 'body');
  });
  const filter = createCacheFilter({ store: createMemoryStore(1 << 20), purgeToken: null });
  const fetch = realFetch(origin.url);
  const run = async (h: RequestHead) => {
    const ctx = cacheContext(h);
    const res = await filter.cache!(h, ctx, fetch);
    await text(res.body);
    assert.ok(ctx.cache !== undefined);
    assert.equal(getJoinedHeader(res.head.headers, 'cache-status'), `origin-cdn; hit, ${cacheStatusOf(ctx.cache)}`);
    return ctx.cache;
  };
  try {
    const miss = await run(head('/a'));
    assert.deepEqual({ ...miss, value: undefined }, { kind: 'forward', reason: 'miss', fwdStatus: 200, stored: true, value: undefined });
    assert.equal(cacheStatusOf(miss), 'ferry; fwd=miss; fwd-status=200; stored');
    assert.equal(cacheResultOf(miss), 'miss');
    const hit = await run(head('/a'));
    assert.equal(hit.kind, 'hit');
    assert.equal(cacheResultOf(hit), 'hit');
    assert.match(cacheStatusOf(hit), /^ferry; hit; ttl=(59|60)$/);
    const post = await run(head('/a', 'POST', [['content-length', '0']]));
    assert.equal(cacheResultOf(post), 'method');
    const bypass = await run(head('/b', 'GET', [['content-length', '2']]));
    assert.equal(cacheStatusOf(bypass), 'ferry; fwd=bypass; detail=request-body');
    assert.equal(cacheResultOf(bypass), 'bypass');
  } finally {
    await filter.close();
    await origin.close();
  }
});

test('the Cache-Status member is formatted once per outcome and reused (header, access log)', () => {
  const outcome = { kind: 'forward', reason: 'stale', fwdStatus: 304, ttl: 10 } as const;
  const recorded: { value?: string } & typeof outcome = { ...outcome };
  const first = cacheStatusOf(recorded);
  assert.equal(first, 'ferry; fwd=stale; fwd-status=304; ttl=10');
  assert.equal(recorded.value, first);
  assert.equal(cacheStatusOf(recorded), first);
});

test('stale-while-revalidate: the client request keeps its own hit outcome after the background refresh ends', async () => {
  let served = 0;
  const origin = await startOrigin((_req, res) => {
    served++;
    res.writeHead(200, { 'cache-control': 'max-age=1, stale-while-revalidate=60', date: new Date().toUTCString() });
    res.end(`v${served}`);
  });
  let now = Date.now();
  const filter = createCacheFilter({ store: createMemoryStore(1 << 20), purgeToken: null, clock: () => now });
  const fetch = realFetch(origin.url);
  try {
    const first = cacheContext(head('/swr'));
    await text((await filter.cache!(head('/swr'), first, fetch)).body);
    now += 5_000; // stale, within the stale-while-revalidate window
    const ctx = cacheContext(head('/swr'));
    const res = await filter.cache!(head('/swr'), ctx, fetch);
    assert.equal(await text(res.body), 'v1', 'served from the store');
    const before = cacheStatusOf(ctx.cache!);
    for (let i = 0; i < 100 && served < 2; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 50)); // let the refresh record its own outcome
    assert.equal(served, 2, 'the background refresh reached the origin');
    assert.equal(cacheResultOf(ctx.cache!), 'hit', 'still counted as a hit');
    assert.equal(cacheStatusOf(ctx.cache!), before);
  } finally {
    await filter.close();
    await origin.close();
  }
});
