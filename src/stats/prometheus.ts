/**
 * @module The Prometheus view of the statistics (GET /metrics), kept by prom-client in a registry of its own (never
 * the global one, so several proxies in one process stay apart). Aggregation across workers uses prom-client's
 * AggregatorRegistry.aggregate over each worker's JSON. No HTTP here.
 */
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import type { FinishedRequest } from './counters.ts';

/** Seconds; from a fast cache hit to a slow upstream. */
export const DURATION_BUCKETS_SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export type MetricsJson = Array<MetricObjectWithValues<MetricValue<string>>>;

export interface PrometheusMetrics {
  readonly registry: Registry;
  onStart(): void;
  onFinish(r: FinishedRequest, cacheResult?: string): void;
  /** This process's metrics as JSON (what a worker sends to be aggregated). */
  json(): Promise<MetricsJson>;
}

export function createPrometheusMetrics(startedAtMs: number): PrometheusMetrics {
  const registry = new Registry();
  const registers = [registry];
  const requests = new Counter({ name: 'ferry_requests_total', help: 'Proxied requests finished, by response status (0: no response was sent)', labelNames: ['code'], registers });
  const inFlight = new Gauge({ name: 'ferry_requests_in_flight', help: 'Proxied requests being served now', registers });
  const bytesIn = new Counter({ name: 'ferry_request_body_bytes_total', help: 'Request body bytes read from clients', registers });
  const bytesOut = new Counter({ name: 'ferry_response_body_bytes_total', help: 'Response body bytes written to clients', registers });
  const upstreamErrors = new Counter({ name: 'ferry_upstream_errors_total', help: 'Requests whose upstream failed (refused, timed out, cut)', registers });
  const cache = new Counter({ name: 'ferry_cache_requests_total', help: 'Requests by cache result (RFC 9211 Cache-Status)', labelNames: ['result'], registers });
  const duration = new Histogram({ name: 'ferry_request_duration_seconds', help: 'Time from accepting a request to its last byte', buckets: DURATION_BUCKETS_SECONDS, registers });
  // The earliest boot over workers, like process_start_time_seconds.
  new Gauge({ name: 'ferry_start_time_seconds', help: 'Start time of the proxy, seconds since the epoch', registers, aggregator: 'min' }).set(Math.floor(startedAtMs / 1000));
  return {
    registry,
    onStart() { inFlight.inc(); },
    onFinish(r, cacheResult) {
      inFlight.dec();
      requests.inc({ code: String(r.status) });
      if (r.bytesIn > 0) bytesIn.inc(r.bytesIn);
      if (r.bytesOut > 0) bytesOut.inc(r.bytesOut);
      if (r.upstreamError) upstreamErrors.inc();
      if (cacheResult !== undefined) cache.inc({ result: cacheResult });
      duration.observe(Math.max(0, r.durationMs) / 1000);
    },
    json: () => registry.getMetricsAsJSON(),
  };
}

/** Prometheus text exposition of one or several workers' metrics. */
export async function formatPrometheus(parts: readonly MetricsJson[]): Promise<{ contentType: string; text: string }> {
  const registry = AggregatorRegistry.aggregate(parts as MetricsJson[]);
  return { contentType: registry.contentType, text: await registry.metrics() };
}
