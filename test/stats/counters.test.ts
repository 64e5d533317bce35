import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  createCounterState, formatSnapshot, latencyBucketOf, latencyBucketUpperMs, latencyPercentile, mergeCounters,
  recordFinish, recordStart, upstreamErrorKind, type FinishedRequest,
} from '../../src/stats/counters.ts';
import { cacheResultOf, type CacheOutcome } from '../../src/cache/cache-status.ts';

const T0 = Date.parse('2026-11-22T00:00:00.000Z');
const req = (status: number, durationMs = 1, more: Partial<FinishedRequest> = {}): FinishedRequest =>
  ({ status, bytesIn: 10, bytesOut: 100, durationMs, upstreamError: false, ...more });

test('a fresh registry reports boot time, zero counts and uptime from the injected clock', () => {
  const s = createCounterState(T0);
  const snap = formatSnapshot(s, T0 + 61_500);
  assert.equal(snap.startedAt, '2026-11-22T00:00:00.000Z');
  assert.equal(snap.uptimeSeconds, 61);
  assert.deepEqual(snap.requests, { total: 0, inFlight: 0, byStatus: {} });
  assert.deepEqual(snap.bytes, { in: 0, out: 0 });
  assert.deepEqual(snap.upstream, { errors: 0, byKind: {} });
  assert.equal(snap.latencyMs.count, 0);
  assert.equal(snap.cache, undefined);
});

test('requests are in flight from start to finish, then counted by status', () => {
  const s = createCounterState(T0);
  recordStart(s);
  recordStart(s);
  assert.equal(formatSnapshot(s, T0).requests.inFlight, 2);
  recordFinish(s, req(200));
  recordFinish(s, req(502, 3, { upstreamError: true, upstreamErrorKind: upstreamErrorKind('FERRY_ERR_UPSTREAM_CONNECT') }));
  const snap = formatSnapshot(s, T0);
  assert.deepEqual(snap.requests, { total: 2, inFlight: 0, byStatus: { 200: 1, 502: 1 } });
  assert.deepEqual(snap.bytes, { in: 20, out: 200 });
  assert.deepEqual(snap.upstream, { errors: 1, byKind: { connect: 1 } });
});

test('percentiles come from the buckets and are within one bucket of the exact value', () => {
  const s = createCounterState(T0);
  const samples = Array.from({ length: 1000 }, (_, i) => (i + 1) * 0.7);
  for (const ms of samples) { recordStart(s); recordFinish(s, req(200, ms)); }
  for (const p of [50, 90, 99]) {
    const exact = samples[Math.ceil((p / 100) * samples.length) - 1]!;
    const got = latencyPercentile(s, p);
    assert.ok(got >= exact && got <= exact * 2 ** (1 / 8) + 1e-9, `p${p}: ${got} vs ${exact}`);
  }
  assert.equal(latencyPercentile(s, 100), 700);
  const snap = formatSnapshot(s, T0);
  assert.equal(snap.latencyMs.count, 1000);
  assert.equal(snap.latencyMs.max, 700);
  assert.equal(snap.latencyMs.mean, 350.35);
});

test('every duration falls in a bucket whose upper bound covers it (property)', () => {
  fc.assert(fc.property(fc.double({ min: 0, max: 1e7, noNaN: true }), (ms) => {
    const i = latencyBucketOf(ms);
    assert.ok(ms <= latencyBucketUpperMs(i) || i === latencyBucketOf(Infinity));
    if (i > 0 && ms > 0.05) assert.ok(ms > latencyBucketUpperMs(i - 1) * (1 - 1e-12));
  }));
});

test('merging workers sums every counter and keeps the earliest boot (property)', () => {
  const arb = fc.array(fc.record({ status: fc.constantFrom(200, 206, 404, 502), ms: fc.double({ min: 0, max: 5000, noNaN: true }), err: fc.boolean() }), { maxLength: 30 });
  fc.assert(fc.property(fc.array(arb, { minLength: 1, maxLength: 4 }), (workers) => {
    const states = workers.map((reqs, w) => {
      const s = createCounterState(T0 + w * 1000);
      for (const r of reqs) { recordStart(s); recordFinish(s, req(r.status, r.ms, { upstreamError: r.err })); }
      return s;
    });
    const all = createCounterState(T0);
    for (const r of workers.flat()) { recordStart(all); recordFinish(all, req(r.status, r.ms, { upstreamError: r.err })); }
    const merged = mergeCounters(states);
    assert.deepEqual(formatSnapshot(merged, T0 + 5000), formatSnapshot(all, T0 + 5000));
  }));
});

// The result /stats counts is read from the request's cache outcome (ctx.cache), never parsed back from Cache-Status.
const CACHE_RESULTS: Array<[CacheOutcome, string]> = [
  [{ kind: 'hit' }, 'hit'],
  [{ kind: 'hit', ttl: 30, detail: 'collapsed' }, 'hit'],
  [{ kind: 'forward', reason: 'uri-miss', stored: true }, 'uri-miss'],
  [{ kind: 'forward', reason: 'stale', fwdStatus: 304 }, 'stale'],
  [{ kind: 'forward', reason: 'miss', detail: 'upstream-error' }, 'miss'],
  [{ kind: 'forward', reason: 'bypass', detail: 'request-body' }, 'bypass'],
];
for (const [outcome, result] of CACHE_RESULTS) {
  test(`cache outcome ${JSON.stringify(outcome)} counts as ${result}`, () => {
    assert.equal(cacheResultOf(outcome), result);
  });
}

test('cache figures appear when caching is on, with hits, misses and the ratio', () => {
  const s = createCounterState(T0);
  assert.deepEqual(formatSnapshot(s, T0, { cache: true }).cache, { hits: 0, misses: 0, hitRatio: 0, byResult: {} });
  for (const r of ['hit', 'hit', 'hit', 'uri-miss', 'stale']) { recordStart(s); recordFinish(s, req(200, 1, { cacheResult: r })); }
  assert.deepEqual(formatSnapshot(s, T0).cache, { hits: 3, misses: 1, hitRatio: 0.6, byResult: { hit: 3, 'uri-miss': 1, stale: 1 } });
});

test('upstream error kinds come from the error code and add up over workers', () => {
  assert.equal(upstreamErrorKind('FERRY_ERR_UPSTREAM_TIMEOUT'), 'timeout');
  assert.equal(upstreamErrorKind('FERRY_ERR_UPSTREAM_CONNECT_TIMEOUT'), 'connect-timeout');
  assert.equal(upstreamErrorKind('FERRY_ERR_UPSTREAM'), 'other');
  const a = createCounterState(T0);
  const b = createCounterState(T0);
  recordFinish(a, req(504, 1, { upstreamError: true, upstreamErrorKind: 'timeout' }));
  recordFinish(b, req(504, 1, { upstreamError: true, upstreamErrorKind: 'timeout' }));
  recordFinish(b, req(502, 1, { upstreamError: true }));
  assert.deepEqual(formatSnapshot(mergeCounters([a, b]), T0).upstream, { errors: 3, byKind: { timeout: 2, other: 1 } });
});
