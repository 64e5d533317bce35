import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCdnCacheControl } from '../../src/cache/cdn-cache-control.ts';

test('valid CDN-Cache-Control dictionaries become the directives ferry obeys', () => {
  assert.equal(parseCdnCacheControl('max-age=3600'), 'max-age=3600');
  assert.equal(parseCdnCacheControl('foobar, max-age=3600'), 'foobar, max-age=3600');
  assert.equal(parseCdnCacheControl('no-store'), 'no-store');
  assert.equal(parseCdnCacheControl('private, x=?0, y=?1;p=1'), 'private, y');
  assert.equal(parseCdnCacheControl(undefined), null);
});

test('invalid Structured Fields or wrongly typed directives are ignored as a whole (RFC 9213 §2.1, RFC 8941)', () => {
  for (const bad of ['max-age=10000, &&&&&', 'max-age="10000"', 'MaX-aGe=3600', 'max-age =100', 'max-age=-1', 'a,,b', 'x="open', '']) {
    assert.equal(parseCdnCacheControl(bad), null, bad);
  }
});
