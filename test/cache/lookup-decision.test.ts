/** The pure lookup decision (lookup-decision.ts) with an injected clock: no store, no sockets, no waiting. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { HeaderList } from '../../src/http/headers.ts';
import { decideBeforeLookup, decideLookup, type Stored } from '../../src/cache/lookup-decision.ts';
import { createPolicyKit, decideStore, toPolicyRequest } from '../../src/cache/policy.ts';
import type { KeyParts } from '../../src/cache/key.ts';
import type { RequestHead } from '../../src/proxy/phases.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const parts: KeyParts = { scheme: 'http', host: 'example.com', path: '/a' };
const get = (headers: HeaderList = [], method = 'GET'): RequestHead => ({ method, target: '/a', httpVersion: '1.1', headers: [['host', 'example.com'], ...headers] });

function clocked(start = T0) {
  let now = start;
  return { kit: createPolicyKit(() => now), advance: (s: number) => { now += s * 1000; } };
}

/** A stored entry for `res` (with a validator, so even no-cache is stored), as the fill path stores it now. */
function entry(kit: ReturnType<typeof createPolicyKit>, res: HeaderList): Stored {
  const d = decideStore(kit, toPolicyRequest([['host', 'example.com']], { host: 'example.com', path: '/a' }), [], 200, [['etag', '"v1"'], ...res]);
  assert.equal(d.kind, 'store');
  return { record: { kind: 'entry', policy: d.kind === 'store' ? d.policy.toObject() : assert.fail(), size: 3 }, varyMiss: false };
}
const NOTHING: Stored = { record: null, varyMiss: false };

test('before the lookup: other methods, no key and a GET with a body bypass, each with its reason', () => {
  assert.deepEqual(decideBeforeLookup(get([], 'POST'), parts), { kind: 'bypass', reason: 'method' });
  assert.deepEqual(decideBeforeLookup(get(), null), { kind: 'bypass', reason: 'no-key' });
  assert.deepEqual(decideBeforeLookup(get([['content-length', '3']]), parts), { kind: 'bypass', reason: 'request-body' });
  assert.equal(decideBeforeLookup(get(), parts), null);
  assert.equal(decideBeforeLookup(get([], 'HEAD'), parts), null);
});

test('nothing stored: miss, vary-miss, or a 504 for only-if-cached', () => {
  const { kit } = clocked();
  assert.deepEqual(decideLookup(kit, get(), parts, NOTHING), { kind: 'miss', reason: 'miss', found: false });
  assert.deepEqual(decideLookup(kit, get(), parts, { record: null, varyMiss: true }), { kind: 'miss', reason: 'vary-miss', found: false });
  assert.deepEqual(decideLookup(kit, get([['cache-control', 'only-if-cached']]), parts, NOTHING), { kind: 'miss', reason: 'only-if-cached', found: false });
});

test('a stored entry: fresh, then stale-while-revalidate, then revalidate as the clock moves', () => {
  const { kit, advance } = clocked();
  const e = entry(kit, [['cache-control', 'max-age=10, stale-while-revalidate=20']]);
  const d = decideLookup(kit, get(), parts, e);
  assert.equal(d.kind, 'fresh');
  assert.equal(d.kind === 'fresh' ? d.ttl : NaN, 10);
  advance(15);
  assert.equal(decideLookup(kit, get(), parts, e).kind, 'stale-while-revalidate');
  advance(20);
  assert.deepEqual(decideLookup(kit, get(), parts, e), { kind: 'revalidate', reason: 'stale' });
  assert.deepEqual(decideLookup(kit, get([['cache-control', 'only-if-cached']]), parts, e), { kind: 'miss', reason: 'only-if-cached', found: true });
});

test('a fresh entry the request asks to revalidate, or may not use (Cookie), with the reason', () => {
  const { kit } = clocked();
  const e = entry(kit, [['cache-control', 'max-age=60']]);
  assert.deepEqual(decideLookup(kit, get([['cache-control', 'no-cache']]), parts, e), { kind: 'revalidate', reason: 'request' });
  assert.deepEqual(decideLookup(kit, get([['cookie', 'a=1']]), parts, e), { kind: 'bypass', reason: 'cookie' });
});

test('property: a max-age=N entry is fresh exactly while less than N seconds have passed, with ttl = N - age', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 0, max: 200_000 }), (maxAge, elapsed) => {
    const { kit, advance } = clocked();
    const e = entry(kit, [['cache-control', `max-age=${maxAge}`]]);
    advance(elapsed);
    const d = decideLookup(kit, get(), parts, e);
    if (elapsed < maxAge) {
      assert.equal(d.kind, 'fresh');
      assert.equal(d.kind === 'fresh' ? d.ttl : NaN, maxAge - elapsed);
    } else {
      assert.deepEqual(d, { kind: 'revalidate', reason: 'stale' });
    }
  }));
});

test('property: with only-if-cached the decision never contacts the origin (answer from the store or 504)', () => {
  const directives = fc.constantFrom('max-age=5', 'max-age=0', 'no-cache', 'max-age=5, stale-while-revalidate=5', 'max-age=5, must-revalidate');
  fc.assert(fc.property(directives, fc.integer({ min: 0, max: 20 }), fc.boolean(), (cc, elapsed, present) => {
    const { kit, advance } = clocked();
    const stored = present ? entry(kit, [['cache-control', cc]]) : NOTHING;
    advance(elapsed);
    const d = decideLookup(kit, get([['cache-control', 'only-if-cached']]), parts, stored);
    assert.ok(d.kind === 'fresh' || d.kind === 'stale-while-revalidate' || (d.kind === 'miss' && d.reason === 'only-if-cached' && d.found === present), JSON.stringify(d));
  }));
});

test('property: the decision is pure — same inputs, same clock, same answer; and no entry never reads as a hit', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 600 }), fc.integer({ min: 0, max: 1200 }), fc.boolean(), (maxAge, elapsed, varyMiss) => {
    const { kit, advance } = clocked();
    const e = entry(kit, [['cache-control', `max-age=${maxAge}`]]);
    advance(elapsed);
    assert.deepEqual(decideLookup(kit, get(), parts, e), decideLookup(kit, get(), parts, e));
    const none = decideLookup(kit, get(), parts, { record: null, varyMiss });
    assert.deepEqual(none, { kind: 'miss', reason: varyMiss ? 'vary-miss' : 'miss', found: false });
  }));
});
