/**
 * @module The Prometheus view of the statistics (GET /metrics), kept by prom-client in a registry of its own (never
 * the global one, so several proxies in one process stay apart). Aggregation across workers uses prom-client's
 * AggregatorRegistry.aggregate over each worker's JSON. No HTTP here.
 */
import type { Counter, MetricObjectWithValues, MetricValue, Registry } from 'prom-client';
import { statusKey, type FinishedRequest } from './counters.ts';
import { promClient } from './prom-client.ts';

/** Seconds; from a fast cache hit to a slow upstream. */
export const DURATION_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export type MetricsJson = Array<MetricObjectWithValues<MetricValue<string>>>;

export interface PrometheusMetrics {
  /**
   * Adds metrics to the registry: `register` runs when the registry is made, on the first read (prom-client is loaded
   * only then, prom-client.ts), or at once when it exists.
   */
  extend(register: (registry: Registry) => void): void;
  onStart(): void;
  onFinish(r: FinishedRequest, cacheResult?: string): void;
  /**
   * This process's metrics as JSON (what a worker sends to be aggregated). `processMaxAgeMs`: the process figures
   * (prom-client's default metrics) may be reused from a read at most this old (processMetricsJson).
   */
  json(processMaxAgeMs?: number): Promise<MetricsJson>;
}

let processRegistry: Registry | null = null;

/**
 * prom-client's default metrics (process_*: CPU, RSS, open fds; nodejs_*: heap, event-loop lag, GC pauses), in one
 * registry per process shared by every proxy in it: they describe the process, and each call of
 * collectDefaultMetrics starts its own event-loop monitor and GC observer.
 */
export function processMetricsRegistry(): Registry {
  if (processRegistry) return processRegistry;
  const { Registry, collectDefaultMetrics } = promClient();
  processRegistry = new Registry();
  collectDefaultMetrics({ register: processRegistry });
  return processRegistry;
}

let processRead: { atMs: number; json: Promise<MetricsJson> } | null = null;

/**
 * The process registry as JSON, read again only when the last read is older than `maxAgeMs` (0: always). Reading it
 * costs ~0.65 ms (prom-client's default collectors: /proc/self/stat and /proc/self/fd, heap spaces, handles), 98 % of
 * a worker's once-a-second push under --workers (ferry's own registry reads in ~10 µs): the push reuses a read up
 * to 10 s old (stats/cluster.ts), a scrape of /metrics never.
 */
export function processMetricsJson(maxAgeMs: number): Promise<MetricsJson> {
  const now = performance.now();
  if (processRead === null || !(now - processRead.atMs < maxAgeMs)) {
    processRead = { atMs: now, json: processMetricsRegistry().getMetricsAsJSON() as Promise<MetricsJson> };
  }
  return processRead.json;
}

export function createPrometheusMetrics(startedAtMs: number): PrometheusMetrics {
  // Per request only plain numbers change (the hot path); prom-client reads them when scraped, through each metric's
  // collect() hook. prom-client's own inc/observe hash label sets and cost ~2 % of a small proxied request.
  const tally = createTally();
  let made: Registry | null = null;
  const extensions: Array<(registry: Registry) => void> = [];
  const registry = (): Registry => {
    if (made !== null) return made;
    made = makeRegistry(tally, startedAtMs);
    for (const register of extensions) register(made);
    return made;
  };
  return {
    extend(register) {
      if (made !== null) register(made);
      else extensions.push(register);
    },
    onStart() { tally.inFlight++; },
    onFinish(r, cacheResult) {
      tally.inFlight--;
      const code = statusKey(r.status);
      tally.byCode.set(code, (tally.byCode.get(code) ?? 0) + 1);
      if (r.bytesIn > 0) tally.bytesIn += r.bytesIn;
      if (r.bytesOut > 0) tally.bytesOut += r.bytesOut;
      if (r.upstreamError) tally.upstreamErrors++;
      if (cacheResult !== undefined) tally.byCache.set(cacheResult, (tally.byCache.get(cacheResult) ?? 0) + 1);
      const seconds = Math.max(0, r.durationMs) / 1000;
      let i = 0;
      while (i < DURATION_BUCKETS_SECONDS.length && seconds > DURATION_BUCKETS_SECONDS[i]!) i++; // `le`: bounds are inclusive
      tally.buckets[i]!++;
      tally.durationSum += seconds;
      tally.durationCount++;
    },
    json: async (processMaxAgeMs = 0) => [...await registry().getMetricsAsJSON(), ...await processMetricsJson(processMaxAgeMs)] as MetricsJson,
  };
}

type Tally = ReturnType<typeof createTally>;

/** The figures the request path updates: plain numbers, read by prom-client only when scraped. */
function createTally() {
  return {
    inFlight: 0,
    byCode: new Map<string, number>(),
    bytesIn: 0,
    bytesOut: 0,
    upstreamErrors: 0,
    byCache: new Map<string, number>(),
    /** Per DURATION_BUCKETS_SECONDS bound (not cumulative); the last entry is above every bound (+Inf only). */
    buckets: new Array<number>(DURATION_BUCKETS_SECONDS.length + 1).fill(0),
    durationSum: 0,
    durationCount: 0,
  };
}

/** ferry's metrics over `tally`, each read through its collect() hook when the registry is. */
function makeRegistry(tally: Tally, startedAtMs: number): Registry {
  const { Counter, Gauge, Registry } = promClient();
  const registry = new Registry();
  const registers = [registry];
  const countByLabel = (counter: Counter<string>, label: string, map: Map<string, number>) => {
    counter.reset();
    for (const [value, n] of map) counter.inc({ [label]: value }, n);
  };
  const total = (counter: Counter, n: number) => {
    counter.reset();
    if (n > 0) counter.inc(n);
  };
  new Counter({ name: 'ferry_requests_total', help: 'Proxied requests finished, by response status (0: no response was sent)', labelNames: ['code'], registers, collect() { countByLabel(this, 'code', tally.byCode); } });
  new Gauge({ name: 'ferry_requests_in_flight', help: 'Proxied requests being served now', registers, collect() { this.set(tally.inFlight); } });
  new Counter({ name: 'ferry_request_body_bytes_total', help: 'Request body bytes read from clients', registers, collect() { total(this, tally.bytesIn); } });
  new Counter({ name: 'ferry_response_body_bytes_total', help: 'Response body bytes written to clients', registers, collect() { total(this, tally.bytesOut); } });
  new Counter({ name: 'ferry_upstream_errors_total', help: 'Requests whose upstream failed (refused, timed out, cut)', registers, collect() { total(this, tally.upstreamErrors); } });
  new Counter({ name: 'ferry_cache_requests_total', help: 'Requests by cache result (RFC 9211 Cache-Status)', labelNames: ['result'], registers, collect() { countByLabel(this, 'result', tally.byCache); } });
  registry.registerMetric(durationHistogram(tally) as never);
  // The earliest boot over workers, like process_start_time_seconds.
  new Gauge({ name: 'ferry_start_time_seconds', help: 'Start time of the proxy, seconds since the epoch', registers, aggregator: 'min' }).set(Math.floor(startedAtMs / 1000));
  return registry;
}

/**
 * ferry_request_duration_seconds in the JSON shape prom-client's Histogram#get produces (cumulative `_bucket` values
 * by `le`, then `+Inf`, `_sum`, `_count`), so AggregatorRegistry sums it over workers like any histogram.
 */
function durationHistogram(tally: { buckets: number[]; durationSum: number; durationCount: number }) {
  const name = 'ferry_request_duration_seconds';
  return {
    name,
    help: 'Time from accepting a request to its last byte',
    type: 'histogram',
    aggregator: 'sum',
    get: async () => {
      const values: Array<MetricValue<string> & { metricName: string }> = [];
      let acc = 0;
      DURATION_BUCKETS_SECONDS.forEach((le, i) => {
        acc += tally.buckets[i]!;
        values.push({ labels: { le }, value: acc, metricName: `${name}_bucket` });
      });
      values.push(
        { labels: { le: '+Inf' }, value: tally.durationCount, metricName: `${name}_bucket` },
        { labels: {}, value: tally.durationSum, metricName: `${name}_sum` },
        { labels: {}, value: tally.durationCount, metricName: `${name}_count` },
      );
      return { name, help: 'Time from accepting a request to its last byte', type: 'histogram', values, aggregator: 'sum' };
    },
    reset() { /* the figures live in the tally */ },
  };
}

/**
 * Several workers' metrics as one part. `zeroSummedGauges`: gauges summed over workers are "now" values (in flight,
 * open) and are set to 0, as for a worker that has exited; min/max gauges such as the start time are kept.
 */
export async function mergeMetricsJson(parts: readonly MetricsJson[], options: { zeroSummedGauges?: boolean } = {}): Promise<MetricsJson> {
  const merged = await promClient().AggregatorRegistry.aggregate(parts as MetricsJson[]).getMetricsAsJSON() as MetricsJson;
  if (!options.zeroSummedGauges) return merged;
  // (prom-client's typings declare `type` as a numeric enum; at run time it is the string 'gauge')
  return merged.map((m) => (String(m.type) === 'gauge' && (m.aggregator ?? 'sum') === 'sum' ? { ...m, values: m.values.map((v) => ({ ...v, value: 0 })) } : m)) as MetricsJson;
}

/** Prometheus text exposition of one or several workers' metrics. */
export async function formatPrometheus(parts: readonly MetricsJson[]): Promise<{ contentType: string; text: string }> {
  const registry = promClient().AggregatorRegistry.aggregate(parts as MetricsJson[]);
  // prom-client writes a NaN value (event-loop lag before its first sample) as `Nan`; the text format spells it `NaN`
  return { contentType: registry.contentType, text: (await registry.metrics()).replace(/ Nan$/gm, ' NaN') };
}
