/**
 * RFC 9111 §4.2.4: when the origin cannot be reached (here: it drops the connection), a stale stored response
 * stands in — unless must-revalidate, proxy-revalidate, no-cache or s-maxage forbid it, or the request asked for
 * no-cache (cache-tests stale-close, stale-close-*). Real origin, real proxy, memory store.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { closeAgent, get, sleep, startCachingProxy, startOrigin, type CachingProxy, type Origin } from './helpers.ts';

after(() => closeAgent());

describe('stale on disconnect', () => {
  let origin: Origin;
  let proxy: CachingProxy;
  before(async () => {
    origin = await startOrigin((req, res, n) => {
      // first request per path: a response fresh for 1 s; later ones: the origin drops the connection
      if (n > 1) { req.socket.destroy(); return; }
      const cc = decodeURIComponent(new URL(req.url ?? '/', 'http://x').searchParams.get('cc') ?? '');
      res.writeHead(200, { 'cache-control': cc, etag: '"v1"', 'content-length': '6' });
      res.end('stored');
    });
    proxy = await startCachingProxy(origin.url, 'memory');
  });
  after(async () => { await proxy?.close(); await origin?.close(); });

  const cases: Array<[string, string, Record<string, string>, boolean]> = [
    ['served stale', 'max-age=1', {}, true],
    ['must-revalidate', 'max-age=1, must-revalidate', {}, false],
    ['proxy-revalidate', 'max-age=1, proxy-revalidate', {}, false],
    ['s-maxage', 's-maxage=1', {}, false],
    ['no-cache response', 'no-cache', {}, false],
    ['request no-cache', 'max-age=1', { 'cache-control': 'no-cache' }, false],
  ];

  it('each case: stored, then stale, then the origin drops the connection', async () => {
    await Promise.all(cases.map(async ([, cc]) => {
      const r = await get(`${proxy.url}/p?cc=${encodeURIComponent(cc)}`);
      assert.equal(r.status, 200);
    }));
    await sleep(1200);
    for (const [name, cc, reqHeaders, stale] of cases) {
      const r = await get(`${proxy.url}/p?cc=${encodeURIComponent(cc)}`, reqHeaders);
      if (stale) {
        assert.equal(r.status, 200, name);
        assert.equal(r.body.toString(), 'stored', name);
        assert.match(r.headers['cache-status'] ?? '', /fwd=stale.*detail=stale-disconnected/, name);
      } else {
        assert.equal(r.status, 502, name);
      }
    }
  });
});
