/**
 * @module The dashboard's time series: one point per tick (about a second) over the last 15 minutes, computed from
 * the differences between successive counter states. Pure; the clock and the process figures are passed in.
 */
import { latencyBucketUpperMs, type CounterState } from './counters.ts';

export const SERIES_SECONDS = 15 * 60;

/** Process figures at a tick (health.ts). */
export interface HealthSample {
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  /** Event-loop delay over the interval, ms. */
  loopP99Ms: number;
  loopMaxMs: number;
  /** GC pauses over the interval: total and longest, ms. */
  gcMs: number;
  gcMaxMs: number;
}

/**
 * Counts are per interval (`dt` seconds long: divide for a rate); latency percentiles are of the requests that
 * finished in the interval (null when none did).
 */
export interface SeriesPoint extends HealthSample {
  /** End of the interval, ms since the epoch. */
  t: number;
  dt: number;
  requests: number;
  s1xx: number; s2xx: number; s3xx: number; s4xx: number; s5xx: number;
  /** Finished without a response (client gone, connection cut). */
  noResponse: number;
  bytesIn: number;
  bytesOut: number;
  upstreamErrors: number;
  /** Requests in flight at the end of the interval. */
  inFlight: number;
  p50: number | null; p90: number | null; p99: number | null;
}

export const STATUS_CLASSES = ['s1xx', 's2xx', 's3xx', 's4xx', 's5xx'] as const;

export interface Series {
  /** Add the point for the interval ending at `nowMs`; returns it. */
  sample(state: CounterState, nowMs: number, health: HealthSample): SeriesPoint;
  /** Oldest first, at most SERIES_SECONDS (plus a few) points. */
  points(): readonly SeriesPoint[];
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;

function classCounts(byStatus: Record<string, number>): number[] {
  const out = [0, 0, 0, 0, 0, 0]; // no response, 1xx … 5xx
  for (const [code, n] of Object.entries(byStatus)) {
    const c = Math.floor(Number(code) / 100);
    out[c >= 1 && c <= 5 ? c : 0]! += n;
  }
  return out;
}

/** Nearest-rank percentile of a bucket histogram (upper bound of the bucket, like counters.ts). */
function percentileOf(buckets: readonly number[], count: number, p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * count));
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    seen += buckets[i]!;
    if (seen >= rank) return round3(latencyBucketUpperMs(i));
  }
  return round3(latencyBucketUpperMs(buckets.length - 1));
}

export function createSeries(capacity: number = SERIES_SECONDS): Series {
  const points: SeriesPoint[] = [];
  let prev: { t: number; total: number; classes: number[]; bytesIn: number; bytesOut: number; errors: number; latency: number[] } | null = null;
  return {
    sample(state, nowMs, health) {
      const classes = classCounts(state.byStatus);
      const base = prev ?? { t: state.startedAtMs, total: 0, classes: [0, 0, 0, 0, 0, 0], bytesIn: 0, bytesOut: 0, errors: 0, latency: [] };
      const delta = state.latency.map((n, i) => n - (base.latency[i] ?? 0));
      const finished = state.total - base.total;
      const pct = (p: number) => (finished > 0 ? Math.min(percentileOf(delta, finished, p), round3(state.latencyMaxMs)) : null);
      const d = (i: number) => classes[i]! - base.classes[i]!;
      const point: SeriesPoint = {
        t: nowMs,
        dt: round3(Math.max(0.001, (nowMs - base.t) / 1000)),
        requests: finished,
        noResponse: d(0), s1xx: d(1), s2xx: d(2), s3xx: d(3), s4xx: d(4), s5xx: d(5),
        bytesIn: state.bytesIn - base.bytesIn,
        bytesOut: state.bytesOut - base.bytesOut,
        upstreamErrors: state.upstreamErrors - base.errors,
        inFlight: state.inFlight,
        p50: pct(50), p90: pct(90), p99: pct(99),
        ...health,
      };
      prev = { t: nowMs, total: state.total, classes, bytesIn: state.bytesIn, bytesOut: state.bytesOut, errors: state.upstreamErrors, latency: state.latency.slice() };
      points.push(point);
      if (points.length > capacity) points.splice(0, points.length - capacity);
      return point;
    },
    points: () => points,
  };
}
