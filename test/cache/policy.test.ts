/** Policy glue with a fake clock: no sockets, no waiting. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HeaderList } from '../../src/http/headers.ts';
import fc from 'fast-check';
import CachePolicy from 'http-cache-semantics';
import {
  createPolicyKit, decideReuse, decideRevalidation, decideStore, notModifiedMerge, notModifiedSelects, staleIfErrorAllows, toPolicyRequest, validatorHeaders,
} from '../../src/cache/policy.ts';
import { parseStoreSpec } from '../../src/cache/store.ts';
import { UsageError } from '../../src/errors.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');
function setup(start = T0) {
  let now = start;
  const kit = createPolicyKit(() => now);
  return { kit, advance: (s: number) => { now += s * 1000; }, at: () => now };
}
const uri = { host: 'example.com', path: '/a' };
const date = (ms: number) => new Date(ms).toUTCString();

function stored(kit: ReturnType<typeof createPolicyKit>, res: HeaderList, req: HeaderList = [], status = 200) {
  const d = decideStore(kit, toPolicyRequest(req, uri), req, status, res);
  assert.equal(d.kind, 'store', d.kind === 'no-store' ? d.reason : '');
  return d.kind === 'store' ? d.policy : assert.fail();
}

test('storable: max-age, s-maxage, Expires, heuristics on default-cacheable statuses', () => {
  const { kit } = setup();
  stored(kit, [['cache-control', 'max-age=60']]);
  stored(kit, [['cache-control', 's-maxage=60']]);
  stored(kit, [['expires', date(T0 + 60_000)], ['date', date(T0)]]);
  stored(kit, [['last-modified', date(T0 - 86400_000)], ['date', date(T0)]]);
  stored(kit, [['last-modified', date(T0 - 86400_000)], ['date', date(T0)]], [], 404);
});

test('never stored (C3): no-store, private, Set-Cookie, Vary *, Authorization without public, 206, Cookie without public, unkeyed probes', () => {
  const { kit } = setup();
  const no = (res: HeaderList, req: HeaderList = [], status = 200) => {
    const d = decideStore(kit, toPolicyRequest(req, uri), req, status, res);
    assert.equal(d.kind, 'no-store', JSON.stringify(res));
  };
  no([['cache-control', 'no-store, max-age=60']]);
  no([['cache-control', 'private, max-age=60']]);
  no([['cache-control', 'max-age=60'], ['set-cookie', 'a=b']]);
  no([['cache-control', 'max-age=60'], ['vary', '*']]);
  no([['cache-control', 'max-age=60']], [['authorization', 'Basic x']]);
  no([['cache-control', 'max-age=60'], ['content-range', 'bytes 0-1/2']], [], 206);
  no([['cache-control', 'max-age=60']], [['cookie', 'a=b']]);
  no([['cache-control', 'max-age=60']], [['x-original-url', '/admin']]);
  no([['cache-control', 'max-age=60']], [['cache-control', 'no-store']]);
  no([['location', '/x'], ['last-modified', date(T0 - 86400_000)]], [], 302);
  no([]);
  // Authorization with public / s-maxage / must-revalidate is storable (RFC 9111 §3.5).
  stored(kit, [['cache-control', 'public, max-age=60']], [['authorization', 'Basic x']]);
  stored(kit, [['cache-control', 's-maxage=60']], [['authorization', 'Basic x']]);
  stored(kit, [['cache-control', 'max-age=60, public']], [['cookie', 'a=b']]);
});

test('freshness over time: fresh → stale → revalidate; Age counted', () => {
  const { kit, advance } = setup();
  const p = stored(kit, [['cache-control', 'max-age=60'], ['date', date(T0)]]);
  const req = toPolicyRequest([], uri);
  advance(30);
  const d = decideReuse(kit, p, req, []);
  assert.equal(d.kind, 'fresh');
  if (d.kind === 'fresh') assert.ok(d.headers.some(([n, v]) => n === 'age' && v === '30'));
  advance(31);
  assert.deepEqual(decideReuse(kit, p, req, []), { kind: 'revalidate', stale: true });
});

test('request directives: no-cache, max-age=0, min-fresh force revalidation; max-stale accepts stale', () => {
  const { kit, advance } = setup();
  const p = stored(kit, [['cache-control', 'max-age=60']]);
  const ask = (cc: string) => decideReuse(kit, p, toPolicyRequest([['cache-control', cc]], uri), [['cache-control', cc]]).kind;
  assert.equal(ask('no-cache'), 'revalidate');
  advance(10);
  assert.equal(ask('max-age=0'), 'revalidate');
  assert.equal(ask('min-fresh=55'), 'revalidate');
  advance(100);
  assert.equal(ask('max-stale'), 'fresh');
  assert.equal(ask('max-stale=10'), 'revalidate');
});

test('must-revalidate: reused while fresh (RFC 9111 §5.2.2.2), revalidated once stale', () => {
  const { kit, advance } = setup();
  const p = stored(kit, [['cache-control', 'max-age=60, must-revalidate']]);
  const req = toPolicyRequest([], uri);
  assert.equal(decideReuse(kit, p, req, []).kind, 'fresh');
  advance(61);
  assert.equal(decideReuse(kit, p, req, []).kind, 'revalidate');
});

test('response no-cache: stored (it has a validator) but always revalidated', () => {
  const { kit } = setup();
  const p = stored(kit, [['cache-control', 'no-cache'], ['etag', '"v1"']]);
  assert.equal(decideReuse(kit, p, toPolicyRequest([], uri), []).kind, 'revalidate');
});

test('validators: If-None-Match from ETag, If-Modified-Since from Last-Modified; client conditionals not mixed in', () => {
  const { kit } = setup();
  const p = stored(kit, [['cache-control', 'max-age=0'], ['etag', '"v1"'], ['last-modified', date(T0 - 1000)]]);
  const req = [['if-none-match', '"client"']] as HeaderList;
  assert.deepEqual(validatorHeaders(p, toPolicyRequest(req, uri)), [['if-none-match', '"v1"'], ['if-modified-since', date(T0 - 1000)]]);
});

test('304 handling: matching validator updates headers; a 304 for another validator asks for a refetch; errors replace', () => {
  const { kit } = setup();
  const p = stored(kit, [['cache-control', 'max-age=0'], ['etag', '"v1"'], ['x-v', '1']]);
  const req = toPolicyRequest([], uri);
  const ok = decideRevalidation(kit, p, req, [], 304, [['etag', '"v1"'], ['x-v', '2'], ['cache-control', 'max-age=60']]);
  assert.equal(ok.kind, 'not-modified');
  if (ok.kind === 'not-modified') {
    assert.equal(ok.policy.responseHeaders()['x-v'], '2');
    assert.equal(decideReuse(kit, ok.policy, req, []).kind, 'fresh');
  }
  assert.equal(decideRevalidation(kit, p, req, [], 304, [['etag', '"v2"']]).kind, 'refetch');
  assert.equal(decideRevalidation(kit, p, req, [], 200, [['etag', '"v2"']]).kind, 'replaced');
  assert.equal(decideRevalidation(kit, p, req, [], 500, []).kind, 'replaced');
});

test('stale-while-revalidate and stale-if-error windows', () => {
  const { kit, advance } = setup();
  const p = stored(kit, [['cache-control', 'max-age=10, stale-while-revalidate=20, stale-if-error=100']]);
  const req = toPolicyRequest([], uri);
  advance(15);
  assert.equal(decideReuse(kit, p, req, []).kind, 'stale-while-revalidate');
  advance(20);
  assert.equal(decideReuse(kit, p, req, []).kind, 'revalidate');
  assert.equal(staleIfErrorAllows(p, req, []), true);
  assert.equal(decideRevalidation(kit, p, req, [], 503, []).kind, 'stale-if-error');
  advance(100);
  assert.equal(staleIfErrorAllows(p, req, []), false);
  // The request may ask for it too (RFC 5861 §4).
  assert.equal(staleIfErrorAllows(p, req, [['cache-control', 'stale-if-error=1000']]), true);
});

test('Cookie requests reuse only explicitly shared responses', () => {
  const { kit } = setup();
  const p = stored(kit, [['cache-control', 'max-age=60']]);
  const cookie: HeaderList = [['cookie', 'sid=1']];
  assert.equal(decideReuse(kit, p, toPolicyRequest(cookie, uri), cookie).kind, 'unusable');
  const pub = stored(kit, [['cache-control', 'public, max-age=60']]);
  assert.equal(decideReuse(kit, pub, toPolicyRequest(cookie, uri), cookie).kind, 'fresh');
});

test('policy objects survive serialisation (what the stores keep)', () => {
  const { kit, advance } = setup();
  const p = stored(kit, [['cache-control', 'max-age=60'], ['vary', 'accept-encoding']], [['accept-encoding', 'gzip']]);
  const back = kit.restore(JSON.parse(JSON.stringify(p.toObject())));
  advance(10);
  const d = decideReuse(kit, back, toPolicyRequest([['accept-encoding', 'gzip']], uri), []);
  assert.equal(d.kind, 'fresh');
  assert.equal(decideReuse(kit, back, toPolicyRequest([['accept-encoding', 'br']], uri), []).kind, 'revalidate');
});

test('--cache specs', () => {
  assert.deepEqual(parseStoreSpec('memory'), { kind: 'memory', maxBytes: 64 * 1024 * 1024 });
  assert.deepEqual(parseStoreSpec('memory:2MiB'), { kind: 'memory', maxBytes: 2 * 1024 * 1024 });
  assert.deepEqual(parseStoreSpec('disk:/var/c'), { kind: 'disk', dir: '/var/c', maxBytes: 1024 ** 3 });
  assert.deepEqual(parseStoreSpec('disk:/var/c:5GiB'), { kind: 'disk', dir: '/var/c', maxBytes: 5 * 1024 ** 3 });
  assert.deepEqual(parseStoreSpec('redis://127.0.0.1:6379/2'), { kind: 'redis', url: 'redis://127.0.0.1:6379/2' });
  for (const bad of ['memcached', 'memory:lots', 'memory:10', 'disk:', 'redis://[bad']) assert.throws(() => parseStoreSpec(bad), UsageError, bad);
});

test('Cache-Control normalisation: case, quoted delta-seconds, invalid values become 0, quoted strings left alone', async () => {
  const { normalizeCacheControl } = await import('../../src/cache/cache-control.ts');
  assert.equal(normalizeCacheControl('MaX-AgE=3600'), 'max-age=3600');
  assert.equal(normalizeCacheControl('max-age="3600"'), 'max-age=3600');
  for (const bad of ["max-age='3600'", 'max-age=100a', 'max-age=a100', 'max-age=-1', 'max-age =100', 'max-age= 100', 'max-age']) {
    assert.equal(normalizeCacheControl(bad), 'max-age=0', bad);
  }
  assert.equal(normalizeCacheControl('extension="max-age=100, x", max-age=1'), 'extension="max-age=100, x", max-age=1');
  assert.equal(normalizeCacheControl('no-cache, Private, s-maxage=99999999999'), `no-cache, private, s-maxage=${2 ** 31}`);
  assert.equal(normalizeCacheControl('max-stale'), 'max-stale');
});

test('heuristic freshness is 10 % of the Last-Modified age, capped at a day (C4)', () => {
  const { kit } = setup();
  const young = stored(kit, [['last-modified', date(T0 - 10 * 3600_000)], ['date', date(T0)]]);
  assert.equal(Math.round(young.maxAge()), 3600);
  const old = stored(kit, [['last-modified', date(T0 - 365 * 86400_000)], ['date', date(T0)]]);
  assert.equal(Math.round(old.maxAge()), 86400);
  // Survives serialisation (the fraction travels with the entry).
  assert.equal(Math.round(kit.restore(JSON.parse(JSON.stringify(old.toObject()))).maxAge()), 86400);
});

test('qualified no-cache="f" and private="f": the response is stored without the listed fields', () => {
  const { kit } = setup();
  const p = stored(kit, [['cache-control', 'no-cache="a, B", max-age=3600'], ['a', '1'], ['b', '2'], ['c', '3']]);
  const d = decideReuse(kit, p, toPolicyRequest([], uri), []);
  assert.equal(d.kind, 'fresh');
  if (d.kind !== 'fresh') return;
  const names = d.headers.map(([n]) => n);
  assert.ok(!names.includes('a') && !names.includes('b') && names.includes('c'));
  const q = stored(kit, [['cache-control', 'private="x", max-age=60'], ['x', 'secret']]);
  assert.equal(q.responseHeaders().x, undefined);
});

test('remembered Cache-Control readings answer as the plain reading, for repeated and new values alike', async () => {
  const { normalizeCacheControl, normalizedCacheControl, responseCacheControl, withoutQualifiedDirectives, remembered } = await import('../../src/cache/cache-control.ts');
  const values = ['public, max-age=3600', 'MaX-AgE="60", private="set-cookie, x-a"', 'no-cache="x-b", s-maxage=1', 'max-age=1a', ''];
  for (let round = 0; round < 3; round++) {
    for (const v of values) {
      assert.equal(normalizedCacheControl(v), normalizeCacheControl(v));
      const { value, omit } = withoutQualifiedDirectives(v);
      assert.deepEqual(responseCacheControl(v), { cc: normalizeCacheControl(value), omit });
    }
  }
  // Bounded: a full memo forgets everything and starts over; every answer stays the plain reading.
  let reads = 0;
  const read = remembered((v) => { reads++; return v.length; }, 2);
  assert.deepEqual(['a', 'bb', 'a', 'ccc', 'a', 'a'].map(read), [1, 2, 1, 3, 1, 1]);
  assert.equal(reads, 4); // a, bb, (a remembered), ccc clears, a again, (a remembered)
  const long = 'x'.repeat(300);
  read(long); read(long);
  assert.equal(reads, 6); // values over 256 characters are never kept
});

test("the kit's responseHeaders is the library's with the stored Date kept (Age, hop-by-hop, heuristics over a day alike)", async () => {
  const { default: CachePolicy } = await import('http-cache-semantics');
  const { heuristicFraction } = await import('../../src/cache/policy-kit.ts');
  const T0 = Date.parse('Mon, 07 Dec 2026 10:00:00 GMT');
  let now = T0;
  const kit = createPolicyKit(() => now);
  class LibraryPolicy extends CachePolicy { now(): number { return now; } }
  const req = { method: 'GET', url: '/x', headers: { host: 'h' } };
  const cases: Record<string, string>[] = [
    { date: 'Mon, 07 Dec 2026 09:59:00 GMT', 'cache-control': 'public, max-age=3600', etag: '"a"', 'content-type': 'text/plain' },
    // heuristic freshness from a Last-Modified years ago, read days later (the library's Warning 113 case)
    { date: 'Mon, 07 Dec 2026 09:00:00 GMT', 'last-modified': 'Mon, 01 Jan 2024 00:00:00 GMT', warning: '299 - "kept"' },
    { date: 'Mon, 07 Dec 2026 09:00:00 GMT', 'cache-control': 'max-age=60', connection: 'x-drop, keep-alive', 'x-drop': '1', 'keep-alive': 'timeout=5', age: '30' },
    { 'cache-control': 'public, max-age=3600' }, // no Date: the library's answer (Date: now)
  ];
  for (const resh of cases) {
    now = T0;
    const res = { status: 200, headers: resh };
    const ours = kit.create(req, res);
    const lib = new LibraryPolicy(req, res, { shared: true, cacheHeuristic: heuristicFraction(res) });
    for (const later of [0, 5_000, 3 * 86_400_000]) {
      now = T0 + later;
      const want = lib.responseHeaders();
      const got = ours.responseHeaders();
      assert.deepEqual(got, resh.date === undefined ? want : { ...want, date: resh.date }, `${JSON.stringify(resh)} +${later} ms`);
      assert.deepEqual(Object.keys(got), Object.keys(want), 'same field order');
    }
  }
  assert.equal(ours3DaysAge(kit, req), String(3 * 86_400 + 30));
  function ours3DaysAge(k: typeof kit, r: typeof req): string | undefined {
    now = T0;
    const p = k.create(r, { status: 200, headers: { date: 'Mon, 07 Dec 2026 09:00:00 GMT', age: '30', 'cache-control': 'max-age=60' } });
    now = T0 + 3 * 86_400_000;
    return p.responseHeaders().age as string | undefined;
  }
});

test('a 304 selects and updates the stored response as http-cache-semantics revalidatedPolicy does (ferry builds one policy, not two)', () => {
  const validator = fc.option(fc.constantFrom('"a"', 'W/"a"', '"b"', 'W/"b"', ' W/"a"', ''), { nil: undefined });
  const lm = fc.option(fc.constantFrom(date(T0), date(T0 - 1000), ''), { nil: undefined });
  const extra = fc.subarray(['content-length', 'content-encoding', 'content-range', 'x-v', 'cache-control', 'expires', 'constructor']);
  fc.assert(fc.property(validator, lm, validator, lm, extra, extra, (se, sl, re, rl, storedNames, receivedNames) => {
    const fields = (etag: string | undefined, modified: string | undefined, names: string[], v: string): CachePolicy.Headers => {
      const h: CachePolicy.Headers = { 'cache-control': 'max-age=0' };
      for (const n of names) h[n] = `${n}-${v}`;
      if (etag !== undefined) h.etag = etag;
      if (modified !== undefined) h['last-modified'] = modified;
      return h;
    };
    const stored = fields(se, sl, storedNames, 'stored');
    const received = fields(re, rl, receivedNames.filter((n) => n !== 'constructor'), 'new');
    const lib = new CachePolicy({ url: '/a', headers: { host: 'h' } }, { status: 200, headers: stored }, { shared: true });
    const r = lib.revalidatedPolicy({ url: '/a', headers: { host: 'h' } }, { status: 304, headers: received });
    assert.equal(notModifiedSelects(stored, received), Boolean(r.matches));
    if (!r.matches) return;
    const ours = notModifiedMerge(stored, received);
    const theirs = r.policy.toObject().resh;
    // The library's `in` also finds Object.prototype's `constructor` (and then stores that function): ours keeps the field.
    if (Object.hasOwn(stored, 'constructor')) { assert.equal(ours['constructor'], stored['constructor']); Reflect.deleteProperty(ours, 'constructor'); Reflect.deleteProperty(theirs, 'constructor'); }
    assert.deepEqual(ours, theirs);
  }), { numRuns: 2000 });
});

test('the kit builds the policy the library\'s constructor builds (its Cache-Control readings remembered per value)', () => {
  const kit = createPolicyKit(() => T0);
  const cc = fc.option(fc.constantFrom('max-age=60', 'public, max-age=3600', 'no-cache', 'private, no-store', 's-maxage=5, stale-while-revalidate=30', 'max-age="7"', 'max-age=1, max-age=2', ' no-transform ', ''), { nil: undefined });
  const pragma = fc.option(fc.constantFrom('no-cache', 'x-no-cache-y', 'other'), { nil: undefined });
  const vary = fc.option(fc.constantFrom('accept', '*', ''), { nil: undefined });
  const auth = fc.option(fc.constantFrom('Bearer x', ''), { nil: undefined });
  fc.assert(fc.property(cc, pragma, vary, cc, auth, fc.constantFrom(200, 404, 599), fc.boolean(), (rcc, rpragma, rvary, qcc, qauth, status, withStatus) => {
    const resh: CachePolicy.Headers = { date: date(T0) };
    if (rcc !== undefined) resh['cache-control'] = rcc;
    if (rpragma !== undefined) resh.pragma = rpragma;
    if (rvary !== undefined) resh.vary = rvary;
    const reqh: CachePolicy.Headers = { host: 'example.com' };
    if (qcc !== undefined) reqh['cache-control'] = qcc;
    if (qauth !== undefined) reqh.authorization = qauth;
    const req = { method: 'GET', url: '/a', headers: reqh };
    const res = withStatus ? { status, headers: resh } : { headers: resh };
    // Twice: the second reading comes from the remembered one, and must not carry the first policy's changes.
    for (let i = 0; i < 2; i++) {
      const ours = kit.create(req, res).toObject();
      const lib = new CachePolicy(req, res, { shared: true, cacheHeuristic: 0.1 }).toObject();
      assert.deepEqual({ ...ours, t: 0 }, { ...lib, t: 0 });
      assert.equal(ours.t, T0);
    }
  }), { numRuns: 1000 });
});

test("the kit's kept maxAge, Age field and timeToLive answer as the library's own methods, over time and across a 304's new fields", () => {
  let now = T0;
  const kit = createPolicyKit(() => now);
  const cc = fc.option(fc.constantFrom('max-age=60', 'public, max-age=3600', 's-maxage=5, stale-while-revalidate=30', 'max-age=10, stale-if-error=600', 'max-age=-5', 'no-cache', 'max-age=0, stale-while-revalidate=x'), { nil: undefined });
  const age = fc.option(fc.constantFrom('0', '30', '7200', 'x', '-3'), { nil: undefined });
  const expires = fc.option(fc.constantFrom(-60, 0, 120, 86_400), { nil: undefined });
  const lastModified = fc.option(fc.constantFrom(3_600, 864_000), { nil: undefined });
  const fields = (c: string | undefined, a: string | undefined, e: number | undefined, lm: number | undefined, at: number): CachePolicy.Headers => {
    const h: CachePolicy.Headers = { date: date(at) };
    if (c !== undefined) h['cache-control'] = c;
    if (a !== undefined) h.age = a;
    if (e !== undefined) h.expires = date(at + e * 1000);
    if (lm !== undefined) h['last-modified'] = date(at - lm * 1000);
    return h;
  };
  /** The library's own answers for `p` now, computed afresh (its methods, not the kit's kept values). */
  const library = (p: CachePolicy) => {
    const maxAge = CachePolicy.prototype.maxAge.call(p);
    const ageField = Number.isFinite(parseInt(p.toObject().resh.age as string, 10)) ? parseInt(p.toObject().resh.age as string, 10) : 0;
    const age = ageField + (now - p.toObject().t) / 1000;
    const rescc = p.toObject().rescc;
    const n = (v: unknown) => (Number.isFinite(parseInt(v as string, 10)) ? parseInt(v as string, 10) : 0);
    const left = maxAge - age;
    return { maxAge, age, ttl: Math.round(Math.max(0, left, left + n(rescc['stale-if-error']), left + n(rescc['stale-while-revalidate'])) * 1000) };
  };
  fc.assert(fc.property(cc, age, expires, lastModified, cc, age, expires, lastModified, fc.integer({ min: 0, max: 90_000 }), (c1, a1, e1, lm1, c2, a2, e2, lm2, later) => {
    now = T0;
    const p = kit.create({ method: 'GET', url: '/a', headers: { host: 'example.com' } }, { status: 200, headers: fields(c1, a1, e1, lm1, T0) });
    const check = () => {
      const lib = library(p);
      assert.equal(p.maxAge(), lib.maxAge);
      assert.equal(p.age(), lib.age);
      assert.equal(p.timeToLive(), lib.ttl);
    };
    check();
    now = T0 + later * 1000;
    check();
    // A 304's merged fields replace the stored ones (policy.ts decideRevalidation → withStoredHeaders): read anew.
    kit.withStoredHeaders(p, fields(c2 ?? c1, a2, e2, lm2, now));
    check();
  }), { numRuns: 500 });
});
