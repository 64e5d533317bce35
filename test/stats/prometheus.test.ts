import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrometheusMetrics, formatPrometheus, processMetricsJson } from '../../src/stats/prometheus.ts';
import { SNAPSHOT_PROCESS_MAX_AGE_MS } from '../../src/stats/cluster.ts';
import { parsePrometheusText } from './prometheus-parse.ts';

const T0 = Date.parse('2026-11-22T00:00:00.000Z');

test('metrics count finished requests, bytes, errors and durations', async () => {
  const m = createPrometheusMetrics(T0);
  for (const [status, ms, err] of [[200, 3, false], [200, 40, false], [502, 1500, true]] as const) {
    m.onStart();
    m.onFinish({ status, bytesIn: 5, bytesOut: 50, durationMs: ms, upstreamError: err }, status === 200 ? 'hit' : undefined);
  }
  m.onStart();
  const { contentType, text } = await formatPrometheus([await m.json()]);
  assert.match(contentType, /^text\/plain; version=0\.0\.4/);
  const samples = parsePrometheusText(text);
  const v = (name: string, labels = '') => samples.get(`${name}${labels}`);
  assert.equal(v('ferry_requests_total', '{code="200"}'), 2);
  assert.equal(v('ferry_requests_total', '{code="502"}'), 1);
  assert.equal(v('ferry_requests_in_flight'), 1);
  assert.equal(v('ferry_request_body_bytes_total'), 15);
  assert.equal(v('ferry_response_body_bytes_total'), 150);
  assert.equal(v('ferry_upstream_errors_total'), 1);
  assert.equal(v('ferry_cache_requests_total', '{result="hit"}'), 2);
  assert.equal(v('ferry_request_duration_seconds_count'), 3);
  assert.equal(v('ferry_request_duration_seconds_bucket', '{le="0.005"}'), 1);
  assert.equal(v('ferry_request_duration_seconds_bucket', '{le="0.05"}'), 2);
  assert.equal(v('ferry_request_duration_seconds_bucket', '{le="+Inf"}'), 3);
  assert.ok(Math.abs(v('ferry_request_duration_seconds_sum')! - 1.543) < 1e-9);
  assert.equal(v('ferry_start_time_seconds'), T0 / 1000);
});

test('workers aggregate: counters and histograms sum, the start time is the earliest', async () => {
  const a = createPrometheusMetrics(T0 + 5000);
  const b = createPrometheusMetrics(T0);
  for (const m of [a, b, b]) { m.onStart(); m.onFinish({ status: 200, bytesIn: 1, bytesOut: 2, durationMs: 10, upstreamError: false }); }
  const samples = parsePrometheusText((await formatPrometheus([await a.json(), await b.json()])).text);
  assert.equal(samples.get('ferry_requests_total{code="200"}'), 3);
  assert.equal(samples.get('ferry_request_duration_seconds_count'), 3);
  assert.equal(samples.get('ferry_requests_in_flight'), 0);
  assert.equal(samples.get('ferry_start_time_seconds'), T0 / 1000);
});

test("prom-client's default process metrics are exported too (RSS, heap, event-loop lag, GC)", async () => {
  const m = createPrometheusMetrics(T0);
  await m.json(); // starts the process metrics (and their GC observer)
  let keep = 0;
  let samples = new Map<string, number>();
  const hasGc = () => [...samples.keys()].some((k) => k.startsWith('nodejs_gc_duration_seconds_count'));
  // GC entries reach observers asynchronously, later on a loaded machine (a single 50 ms wait failed there): make
  // garbage and look again, a bounded number of times
  for (let round = 0; round < 40 && !hasGc(); round++) {
    for (let i = 0; i < 2000; i++) keep += new Array(10_000).fill(i).length; // garbage: young-generation GCs
    await new Promise((r) => setTimeout(r, 50));
    samples = parsePrometheusText((await formatPrometheus([await m.json()])).text);
  }
  assert.ok(keep > 0);
  for (const name of ['process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_p99_seconds', 'process_cpu_seconds_total']) {
    assert.ok(samples.has(name), `${name} missing`);
  }
  assert.ok(samples.get('process_resident_memory_bytes')! > 1e6);
  assert.ok(hasGc(), 'GC pause histogram missing');
});

test('the process figures are read again for a scrape, and reused by a worker\'s periodic push while younger than SNAPSHOT_PROCESS_MAX_AGE_MS', async () => {
  const fresh = await processMetricsJson(0);
  assert.ok(fresh.some((m) => m.name === 'process_cpu_seconds_total'));
  assert.equal(await processMetricsJson(SNAPSHOT_PROCESS_MAX_AGE_MS), fresh, 'the push reuses the last read');
  const again = await processMetricsJson(0);
  assert.notEqual(again, fresh, 'a scrape reads them again');
  const prom = createPrometheusMetrics(Date.now());
  const pushed = await prom.json(SNAPSHOT_PROCESS_MAX_AGE_MS);
  assert.ok(pushed.some((m) => m.name === 'ferry_requests_total') && pushed.some((m) => m.name === 'process_cpu_seconds_total'), 'a pushed part still carries both registries');
  assert.deepEqual(pushed.filter((m) => m.name.startsWith('process_')), again.filter((m) => m.name.startsWith('process_')));
});
