import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSurrogateControl, withSurrogateCapability, SURROGATE_CAPABILITY } from '../../src/cache/surrogate-control.ts';

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
