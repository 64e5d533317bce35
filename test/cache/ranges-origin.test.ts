/**
 * C8: ranges served from a stored full response are byte-identical to the origin's own ranges, against the real
 * ferry origin (/bytes/N has a strong ETag and no freshness, so every use is revalidated: the origin answers 304 and
 * the bytes come from the store).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { createOrigin } from '../../src/origin/create-origin.ts';
import { boundaryOf, parseByteranges } from '../helpers/byteranges.ts';
import { closeAgent, get, startCachingProxy, type CachingProxy } from './helpers.ts';

const N = 300_000;
let originUrl = '';
let close: () => void = () => {};
let proxy: CachingProxy;

before(async () => {
  const server = createOrigin().createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  originUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => { server.closeAllConnections(); server.close(); };
  proxy = await startCachingProxy(originUrl, 'memory');
});
after(async () => { await proxy.close(); close(); await closeAgent(); });

test('single, suffix, open-ended and multi-range answers from the store equal the origin\'s', async () => {
  const full = await get(`${proxy.url}/bytes/${N}`);
  assert.equal(full.body.length, N);
  for (const range of ['bytes=0-0', 'bytes=1000-1999', 'bytes=-17', `bytes=${N - 5}-`, 'bytes=5-10,100-200,299990-']) {
    const viaCache = await get(`${proxy.url}/bytes/${N}`, { range });
    const direct = await get(`${originUrl}/bytes/${N}`, { range });
    assert.equal(viaCache.status, 206, range);
    assert.equal(direct.status, 206, range);
    assert.match(viaCache.headers['cache-status']!, /fwd=stale; fwd-status=304/, range);
    if (range.includes(',')) {
      const a = parseByteranges(viaCache.body, boundaryOf(viaCache.headers['content-type']));
      const b = parseByteranges(direct.body, boundaryOf(direct.headers['content-type']));
      assert.deepEqual(a.map((p) => [p.first, p.last, p.size, p.body]), b.map((p) => [p.first, p.last, p.size, p.body]), range);
    } else {
      assert.equal(viaCache.headers['content-range'], direct.headers['content-range'], range);
      assert.deepEqual(viaCache.body, direct.body, range);
    }
  }
});
