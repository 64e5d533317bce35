/** Collapsed forwarding beyond the 100-misses case: hit-for-miss, waiter timeout, a failing leader. */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createCacheFilter } from '../../src/cache/cache-filter.ts';
import { createMemoryStore } from '../../src/cache/memory-store.ts';
import { cacheStatusOf } from '../../src/cache/cache-status.ts';
import type { RequestHead } from '../../src/proxy/phases.ts';
import { cacheContext as context, closeAgent, get, realFetch, startCachingProxy, startOrigin, text } from './helpers.ts';

after(() => closeAgent());

test('an uncacheable answer is remembered: later concurrent requests all reach the origin at once (hit-for-miss)', async () => {
  const N = 10;
  let waiting: Array<() => void> = [];
  let barrierTimedOut = false;
  const origin = await startOrigin((_req, res, n) => {
    const answer = () => { res.writeHead(200, { 'cache-control': 'no-store' }); res.end(`v${n}`); };
    if (n === 1) { answer(); return; }
    // Hold every request until N are in flight together: only possible if nobody serialises them.
    waiting.push(answer);
    if (waiting.length === N) { for (const w of waiting) w(); waiting = []; }
    else setTimeout(() => { if (waiting.includes(answer)) { barrierTimedOut = true; for (const w of waiting) w(); waiting = []; } }, 3000).unref();
  });
  const proxy = await startCachingProxy(origin.url, 'memory');
  try {
    await get(`${proxy.url}/u`);
    const replies = await Promise.all(Array.from({ length: N }, () => get(`${proxy.url}/u`)));
    assert.equal(barrierTimedOut, false, 'requests were serialised behind a lock');
    assert.equal(origin.count('/u'), N + 1);
    assert.equal(new Set(replies.map((r) => r.body.toString())).size, N);
  } finally {
    await proxy.close();
    await origin.close();
  }
});

test('waiters give up after the lock timeout and go to the origin themselves', async () => {
  const origin = await startOrigin((_req, res, n) => {
    setTimeout(() => { res.writeHead(200, { 'cache-control': 'max-age=60' }); res.end(`v${n}`); }, n === 1 ? 1500 : 0);
  });
  const filter = createCacheFilter({ store: createMemoryStore(1 << 20), purgeToken: null, lockTimeoutMs: 100 });
  const head: RequestHead = { method: 'GET', target: '/slow', httpVersion: '1.1', headers: [['host', 'h.example']] };
  const fetch = realFetch(origin.url);
  try {
    const results = await Promise.all(Array.from({ length: 5 }, async () => {
      const ctx = context(head);
      const res = await filter.cache!(head, ctx, fetch);
      return { body: await text(res.body), status: ctx.cache === undefined ? '' : cacheStatusOf(ctx.cache) };
    }));
    assert.equal(origin.count('/slow'), 5);
    assert.equal(results.filter((r) => r.body === 'v1').length, 1);
    for (const r of results) assert.match(r.status, /fwd=miss/);
  } finally {
    await filter.close();
    await origin.close();
  }
});

test('when the leader fails, the waiters are released and fetch for themselves', async () => {
  const origin = await startOrigin((req, res, n) => {
    if (n === 1) { setTimeout(() => req.socket.destroy(), 100); return; }
    res.writeHead(200, { 'cache-control': 'max-age=60' });
    res.end(`v${n}`);
  });
  const filter = createCacheFilter({ store: createMemoryStore(1 << 20), purgeToken: null });
  const head: RequestHead = { method: 'GET', target: '/flaky', httpVersion: '1.1', headers: [['host', 'h.example']] };
  const fetch = realFetch(origin.url);
  try {
    const results = await Promise.allSettled(Array.from({ length: 4 }, async () => text((await filter.cache!(head, context(head), fetch)).body)));
    assert.equal(results.filter((r) => r.status === 'rejected').length, 1, 'only the leader fails');
    const ok = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    assert.equal(ok.length, 3);
    for (const b of ok) assert.match(b, /^v\d$/);
  } finally {
    await filter.close();
    await origin.close();
  }
});
