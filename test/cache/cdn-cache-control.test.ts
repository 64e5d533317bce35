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

test('valid Structured Fields the hand-written splitter refused are accepted (RFC 8941 §3.2: strings with , and ;, parameters) — issue 17', () => {
  assert.equal(parseCdnCacheControl('max-age=60, foo="a;b"'), 'max-age=60, foo="a;b"');
  assert.equal(parseCdnCacheControl('max-age=60, foo="a,b;c"'), 'max-age=60, foo="a,b;c"');
  assert.equal(parseCdnCacheControl('max-age=60;x="y;z", no-transform'), 'max-age=60, no-transform');
  assert.equal(parseCdnCacheControl('foo="say \\"hi\\"", s-maxage=5'), 'foo="say \\"hi\\"", s-maxage=5');
  assert.equal(parseCdnCacheControl('max-age=60, ext=(a b)'), 'max-age=60', 'an Inner List extension is ignored, not an error');
  assert.equal(parseCdnCacheControl('private=?0, max-age=3'), 'max-age=3');
});
