import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSurrogateControl, withSurrogateCapability, SURROGATE_CAPABILITY } from '../../src/cache/surrogate-control.ts';
import { closeAgent, get, startCachingProxy, startOrigin } from './helpers.ts';

test('Surrogate-Control directives for ferry become the Cache-Control it obeys (Edge Architecture 1.0)', () => {
  assert.equal(parseSurrogateControl('max-age=3600'), 'max-age=3600');
  assert.equal(parseSurrogateControl('MaX-aGe=3600'), 'max-age=3600');
  assert.equal(parseSurrogateControl('foobar, max-age=3600'), 'max-age=3600');
  assert.equal(parseSurrogateControl('max-age=99999999999'), `max-age=${2 ** 31}`);
  assert.equal(parseSurrogateControl('max-age=60+30'), 'max-age=60, stale-while-revalidate=30');
  assert.equal(parseSurrogateControl('no-store'), 'no-store');
  assert.equal(parseSurrogateControl('no-store-remote'), 'no-store');
  assert.equal(parseSurrogateControl('content="ESI/1.0", max-age=10;ferry'), 'max-age=10');
  assert.equal(parseSurrogateControl('max-age =100'), 'max-age=0');
});

test('directives targeted at another surrogate, and fields with nothing about caching, are ignored', () => {
  assert.equal(parseSurrogateControl('max-age=3600;not-for-you'), null);
  assert.equal(parseSurrogateControl('content="ESI/1.0"'), null);
  assert.equal(parseSurrogateControl('foo'), null);
  assert.equal(parseSurrogateControl(undefined), null);
  assert.equal(parseSurrogateControl('max-age=5;other, no-store;ferry'), 'no-store');
});

test('forwarded requests announce ferry after any downstream surrogate', () => {
  assert.deepEqual(withSurrogateCapability([['surrogate-capability', 'abc="Surrogate/1.0"']]), [
    ['surrogate-capability', 'abc="Surrogate/1.0"'], ['surrogate-capability', SURROGATE_CAPABILITY],
  ]);
});

test('the reverse proxy announces ferry upstream, so an origin can target it (cache-tests surrogate-fresh-cc-nostore)', async () => {
  const origin = await startOrigin((req, res) => {
    // As the suite's origin does: target the directive at the device token the request announced.
    const token = String(req.headers['surrogate-capability'] ?? '').split('=')[0];
    res.writeHead(200, { 'cache-control': 'no-store', 'surrogate-control': `max-age=10000;${token}` });
    res.end('x');
  });
  const proxy = await startCachingProxy(origin.url, 'memory');
  try {
    await get(`${proxy.url}/s`);
    const second = await get(`${proxy.url}/s`);
    assert.equal(origin.seen[0]!.headers['surrogate-capability'], SURROGATE_CAPABILITY);
    assert.equal(origin.count('/s'), 1, `cache-status: ${second.headers['cache-status']}`);
  } finally {
    await proxy.close();
    await origin.close();
    await closeAgent();
  }
});
