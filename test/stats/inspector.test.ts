/**
 * The request inspector's pure parts: redaction of secret header fields (redact.ts), the bounded ring of requests
 * (inspector.ts) and the per-second series the dashboard draws (series.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { HeaderList } from '../../src/http/headers.ts';
import { createCounterState, recordFinish, recordStart } from '../../src/stats/counters.ts';
import { createInspector, type InspectedRequest } from '../../src/stats/inspector.ts';
import { MAX_SHOWN_VALUE_CHARS, REDACTED, redactHeaders, redactionSet, redactTarget } from '../../src/stats/redact.ts';
import { createSeries, type HealthSample } from '../../src/stats/series.ts';

const SECRETS = redactionSet({ jwtHeader: 'X-My-JWT', extra: ['X-Api-Key', ' x-session '] });

test('credentials, cookies, the JWT header and --redact-headers are redacted, whatever their case', () => {
  const heads: HeaderList = [
    ['Authorization', 'Bearer s3cr3t'], ['proxy-authorization', 'Basic dTpw'], ['Cookie', 'sid=1'], ['set-cookie', 'a=b'],
    ['x-my-jwt', 'eyJ.x.y'], ['X-API-KEY', 'k'], ['x-session', 'z'], ['accept', '*/*'], ['x-request-id', 'r1'],
  ];
  assert.deepEqual(redactHeaders(heads, SECRETS), [
    ['authorization', REDACTED], ['proxy-authorization', REDACTED], ['cookie', REDACTED], ['set-cookie', REDACTED],
    ['x-my-jwt', REDACTED], ['x-api-key', REDACTED], ['x-session', REDACTED], ['accept', '*/*'], ['x-request-id', 'r1'],
  ]);
  assert.deepEqual(heads[0], ['Authorization', 'Bearer s3cr3t'], 'the original head is not changed');
});

test('property: no value of a redacted field survives anywhere in the output; other fields keep order and values', () => {
  const name = fc.constantFrom('authorization', 'Cookie', 'SET-COOKIE', 'x-my-jwt', 'x-api-key', 'accept', 'x-other', 'via');
  const plain = fc.string({ maxLength: 40 }).filter((v) => !v.includes('S3CR3T'));
  fc.assert(fc.property(fc.array(fc.tuple(name, plain), { maxLength: 12 }), (drawn) => {
    // every value of a secret field carries a marker that no other value has
    const heads: HeaderList = drawn.map(([n, v], i) => [n, SECRETS.has(n.toLowerCase()) ? `S3CR3T-${i}-${v}` : v]);
    const out = redactHeaders(heads, SECRETS);
    assert.ok(!JSON.stringify(out).includes('S3CR3T'));
    assert.deepEqual(out.map(([n]) => n), heads.map(([n]) => n.toLowerCase()));
    heads.forEach(([n, v], i) => assert.equal(out[i]![1], SECRETS.has(n.toLowerCase()) ? REDACTED : v));
  }));
});

test('credentials in an absolute-form target are redacted; other targets are kept', () => {
  assert.equal(redactTarget('http://user:pa55@example.com:8080/p?q=1'), `http://${REDACTED}@example.com:8080/p?q=1`);
  assert.equal(redactTarget('HTTP://token@example.com/'), `HTTP://${REDACTED}@example.com/`);
  assert.equal(redactTarget('http://example.com/a@b'), 'http://example.com/a@b');
  assert.equal(redactTarget('/p?mail=a@b'), '/p?mail=a@b');
  assert.equal(redactTarget('example.com:443'), 'example.com:443');
});

test('long values are shortened for display', () => {
  const [[, v]] = redactHeaders([['x-long', 'a'.repeat(5000)]], SECRETS) as [[string, string]];
  assert.ok(v.length < MAX_SHOWN_VALUE_CHARS + 30);
  assert.match(v, /… \(5000 chars\)$/);
});

const entry = (i: number): InspectedRequest => ({
  id: `r${i}`, startedAt: i, method: 'GET', target: `/p/${i}`, httpVersion: '1.1', status: 200, durationMs: 1, bytesIn: 0, bytesOut: i,
  upstream: 'http://u:1', cache: '', error: '', requestHeaders: [['authorization', `secret-${i}`], ['accept', '*/*']], responseHeaders: [['set-cookie', `c-${i}`]],
});

test('the inspector keeps the last N requests, oldest first, with redacted heads', () => {
  const insp = createInspector(3, SECRETS);
  assert.deepEqual(insp.rowsSince(0), []);
  for (let i = 1; i <= 5; i++) insp.record(entry(i));
  const rows = insp.rowsSince(0);
  assert.deepEqual(rows.map((r) => [r.seq, r.target]), [[3, '/p/3'], [4, '/p/4'], [5, '/p/5']]);
  assert.deepEqual(rows[0]!.requestHeaders, [['authorization', REDACTED], ['accept', '*/*']]);
  assert.deepEqual(rows[0]!.responseHeaders, [['set-cookie', REDACTED]]);
  assert.ok(!JSON.stringify(rows).includes('secret-'));
  assert.deepEqual(insp.rowsSince(4).map((r) => r.seq), [5]);
  assert.deepEqual(insp.rowsSince(5), []);
  assert.equal(insp.lastSeq(), 5);
});

test('property: whatever is recorded, the inspector holds at most N and returns exactly the newest ones after a seq', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 70 }), (size, n, after) => {
    const insp = createInspector(size, SECRETS);
    for (let i = 1; i <= n; i++) insp.record(entry(i));
    const seqs = insp.rowsSince(after).map((r) => r.seq);
    const want: number[] = [];
    for (let s = Math.max(after + 1, n - size + 1, 1); s <= n; s++) want.push(s);
    assert.deepEqual(seqs, want);
    assert.ok(seqs.every((s) => insp.rowsSince(s - 1)[0]!.target === `/p/${s}`));
  }));
});

test('an inspector size outside 1..10000 is refused', () => {
  assert.throws(() => createInspector(0, SECRETS), RangeError);
  assert.throws(() => createInspector(10_001, SECRETS), RangeError);
});

const HEALTH: HealthSample = { rssBytes: 1, heapUsedBytes: 1, heapTotalBytes: 1, loopP99Ms: 0, loopMaxMs: 0, gcMs: 0, gcMaxMs: 0 };

test('series: one point per tick with the differences since the previous one, latency of that interval only', () => {
  const T0 = 1_000_000;
  const state = createCounterState(T0);
  const series = createSeries(3);
  const finish = (status: number, ms: number, upstreamError = false) => { recordStart(state); recordFinish(state, { status, bytesIn: 5, bytesOut: 100, durationMs: ms, upstreamError }); };
  finish(200, 1); finish(200, 1); finish(404, 1);
  const p1 = series.sample(state, T0 + 1000, HEALTH);
  assert.deepEqual([p1.dt, p1.requests, p1.s2xx, p1.s4xx, p1.s5xx, p1.bytesOut, p1.bytesIn], [1, 3, 2, 1, 0, 300, 15]);
  assert.ok(p1.p99! >= 1 && p1.p99! < 1.1);
  finish(502, 200, true); finish(0, 50);
  recordStart(state);
  const p2 = series.sample(state, T0 + 2500, HEALTH);
  assert.deepEqual([p2.dt, p2.requests, p2.s2xx, p2.s5xx, p2.noResponse, p2.upstreamErrors, p2.inFlight], [1.5, 2, 0, 1, 1, 1, 1]);
  assert.ok(p2.p50! >= 50 && p2.p50! < 55, `p50 ${p2.p50}: the 1 ms requests of the first second are not in it`);
  const p3 = series.sample(state, T0 + 3500, HEALTH);
  assert.equal(p3.requests, 0);
  assert.equal(p3.p50, null);
  series.sample(state, T0 + 4500, HEALTH);
  assert.deepEqual(series.points().map((p) => p.t), [T0 + 2500, T0 + 3500, T0 + 4500], 'bounded to its capacity');
});
