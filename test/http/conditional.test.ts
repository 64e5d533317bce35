import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { evaluatePreconditions, ifRangeHolds, type Validators } from '../../src/http/conditional.ts';
import { createFileEntityTag, formatEntityTag, parseEntityTagList } from '../../src/http/etag.ts';
import { formatHttpDate, parseHttpDate } from '../../src/http/http-date.ts';
import { mediaTypeFor } from '../../src/http/media-type.ts';

const LM = Date.UTC(2024, 0, 2, 3, 4, 5); // Tue, 02 Jan 2024 03:04:05 GMT
const tag = { weak: false, opaque: 'abc' };
const current: Validators = { etag: tag, lastModifiedMs: LM + 250 };
const before = formatHttpDate(LM - 1000);
const at = formatHttpDate(LM);
const after = formatHttpDate(LM + 1000);

describe('http-date (RFC 9110 §5.6.7)', () => {
  it('reads the three formats, rejects others', () => {
    const want = Date.UTC(1994, 10, 6, 8, 49, 37);
    assert.equal(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT'), want);
    assert.equal(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT'), want);
    assert.equal(parseHttpDate('Sun Nov  6 08:49:37 1994'), want);
    for (const bad of ['', 'yesterday', '2024-01-02T03:04:05Z', 'Sun, 31 Feb 1994 08:49:37 GMT', 'Sun, 06 Nov 1994 25:49:37 GMT', '1700000000']) {
      assert.equal(parseHttpDate(bad), undefined, bad);
    }
  });
  it('format → parse round-trips at whole seconds', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 4102444800000 }), (ms) => {
      assert.equal(parseHttpDate(formatHttpDate(ms)), Math.floor(ms / 1000) * 1000);
    }));
  });
});

describe('entity tags (RFC 9110 §8.8.3)', () => {
  it('parses lists with weak tags, empty elements and commas inside tags', () => {
    assert.deepEqual(parseEntityTagList('*'), { kind: 'any' });
    assert.deepEqual(parseEntityTagList('"a", W/"b" ,, "c,d"'), { kind: 'tags', tags: [
      { weak: false, opaque: 'a' }, { weak: true, opaque: 'b' }, { weak: false, opaque: 'c,d' }] });
    for (const bad of ['a', '"a" b', '"a', 'W/ "a"', '', ',']) assert.equal(parseEntityTagList(bad).kind, 'invalid', bad);
  });
  it('file tags change with size or mtime and are strong', () => {
    const t = createFileEntityTag(10, 1000);
    assert.equal(t.weak, false);
    assert.notEqual(formatEntityTag(t), formatEntityTag(createFileEntityTag(11, 1000)));
    assert.notEqual(formatEntityTag(t), formatEntityTag(createFileEntityTag(10, 2000)));
  });
});

describe('evaluatePreconditions (RFC 9110 §13.2.2)', () => {
  const ev = (pre: Parameters<typeof evaluatePreconditions>[1], method = 'GET') => evaluatePreconditions(method, pre, current).kind;
  it('If-Match: strong comparison, * matches, failure → 412', () => {
    assert.equal(ev({ ifMatch: '"abc"' }), 'proceed');
    assert.equal(ev({ ifMatch: '"x", "abc"' }), 'proceed');
    assert.equal(ev({ ifMatch: '*' }), 'proceed');
    assert.equal(ev({ ifMatch: 'W/"abc"' }), 'precondition-failed');
    assert.equal(ev({ ifMatch: '"x"' }), 'precondition-failed');
    assert.equal(ev({ ifMatch: 'garbage' }), 'precondition-failed');
  });
  it('If-Unmodified-Since → 412 when modified after; ignored with If-Match or an invalid date', () => {
    assert.equal(ev({ ifUnmodifiedSince: before }), 'precondition-failed');
    assert.equal(ev({ ifUnmodifiedSince: at }), 'proceed');
    assert.equal(ev({ ifUnmodifiedSince: after }), 'proceed');
    assert.equal(ev({ ifUnmodifiedSince: 'nonsense' }), 'proceed');
    assert.equal(ev({ ifMatch: '"abc"', ifUnmodifiedSince: before }), 'proceed');
  });
  it('If-None-Match: weak comparison → 304 for GET/HEAD, 412 otherwise', () => {
    assert.equal(ev({ ifNoneMatch: 'W/"abc"' }), 'not-modified');
    assert.equal(ev({ ifNoneMatch: '"abc"' }, 'HEAD'), 'not-modified');
    assert.equal(ev({ ifNoneMatch: '*' }), 'not-modified');
    assert.equal(ev({ ifNoneMatch: '"x"' }), 'proceed');
    assert.equal(ev({ ifNoneMatch: '"abc"' }, 'PUT'), 'precondition-failed');
  });
  it('If-Modified-Since → 304 when not modified since; ignored with If-None-Match, for POST, or invalid', () => {
    assert.equal(ev({ ifModifiedSince: at }), 'not-modified');
    assert.equal(ev({ ifModifiedSince: after }), 'not-modified');
    assert.equal(ev({ ifModifiedSince: before }), 'proceed');
    assert.equal(ev({ ifModifiedSince: at }, 'POST'), 'proceed');
    assert.equal(ev({ ifModifiedSince: 'x' }), 'proceed');
    assert.equal(ev({ ifNoneMatch: '"x"', ifModifiedSince: at }), 'proceed');
  });
  it('If-Match failure wins over If-None-Match', () => {
    assert.equal(ev({ ifMatch: '"x"', ifNoneMatch: '"abc"' }), 'precondition-failed');
  });
});

describe('ifRangeHolds (RFC 9110 §13.1.5)', () => {
  it('needs a strong tag match or the exact Last-Modified date', () => {
    assert.ok(ifRangeHolds(undefined, current));
    assert.ok(ifRangeHolds('"abc"', current));
    assert.ok(!ifRangeHolds('W/"abc"', current));
    assert.ok(!ifRangeHolds('"x"', current));
    assert.ok(ifRangeHolds(at, current));
    assert.ok(!ifRangeHolds(after, current));
    assert.ok(!ifRangeHolds(before, current));
    assert.ok(!ifRangeHolds('garbage', current));
    assert.ok(!ifRangeHolds('"abc"', {}));
  });
});

describe('mediaTypeFor', () => {
  it('maps extensions case-insensitively, unknown → octet-stream', () => {
    assert.equal(mediaTypeFor('/a/b/index.HTML'), 'text/html; charset=utf-8');
    assert.equal(mediaTypeFor('x.json'), 'application/json');
    assert.equal(mediaTypeFor('x.tar.gz'), 'application/gzip');
    assert.equal(mediaTypeFor('/dir.d/noext'), 'application/octet-stream');
    assert.equal(mediaTypeFor('.bashrc'), 'application/octet-stream');
    assert.equal(mediaTypeFor('x.unknownext'), 'application/octet-stream');
    assert.equal(mediaTypeFor('x.'), 'application/octet-stream');
  });

  it('streaming, subtitle and audio types the hand-written table lacked (issue 17), charset only on text', () => {
    assert.equal(mediaTypeFor('/v/manifest.mpd'), 'application/dash+xml');
    assert.equal(mediaTypeFor('/v/seg-00001.m4s'), 'video/iso.segment');
    assert.equal(mediaTypeFor('/v/en.vtt'), 'text/vtt; charset=utf-8');
    assert.equal(mediaTypeFor('/a/track.OPUS'), 'audio/ogg');
    assert.equal(mediaTypeFor('/v/index.m3u8'), 'application/vnd.apple.mpegurl');
    assert.equal(mediaTypeFor('/v/seg.ts'), 'video/mp2t');
    assert.equal(mediaTypeFor('/app.mjs'), 'text/javascript; charset=utf-8');
    assert.equal(mediaTypeFor('/site.webmanifest'), 'application/manifest+json');
    assert.equal(mediaTypeFor('/x.css'), 'text/css; charset=utf-8');
    assert.equal(mediaTypeFor('/x.png'), 'image/png');
    for (const p of ['a.json', 'a.svg', 'a.wasm', 'a.mp4', 'a.pdf']) assert.ok(!mediaTypeFor(p).includes('charset'), p);
  });
});
