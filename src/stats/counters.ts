/**
 * @module The statistics registry: plain counters and a log-bucketed latency histogram, mergeable across worker
 * processes. Pure: the clock is passed in; no I/O (Prometheus in prometheus.ts, HTTP in stats-route.ts).
 */

/** Latency buckets grow by 2^(1/8) (≈ 9 %) from LATENCY_MIN_MS: percentiles are within one bucket, about ±5 %. */
export const LATENCY_BUCKETS_PER_DOUBLING = 8;
export const LATENCY_MIN_MS = 0.05;
/** 2^26 × 0.05 ms ≈ 56 min; anything slower lands in the last bucket. */
export const LATENCY_BUCKET_COUNT = 26 * LATENCY_BUCKETS_PER_DOUBLING + 1;
export const REPORTED_PERCENTILES = [50, 90, 99, 99.9] as const;

/** What one worker knows; sums over workers give the totals (`mergeCounters`). */
export interface CounterState {
  /** Wall clock at boot of the oldest worker, ms since the epoch. */
  startedAtMs: number;
  total: number;
  inFlight: number;
  /** status code (as a string key) → count. */
  byStatus: Record<string, number>;
  bytesIn: number;
  bytesOut: number;
  upstreamErrors: number;
  /** Upstream errors by kind (upstreamErrorKind): `timeout`, `connect`, `closed`… */
  upstreamErrorKinds: Record<string, number>;
  /** Counts per latency bucket (LATENCY_BUCKET_COUNT entries). */
  latency: number[];
  latencySumMs: number;
  latencyMaxMs: number;
  /** Cache result (cache-status.ts cacheResultOf: `hit` or the forward reason) → count; empty without a cache. */
  cache: Record<string, number>;
}

export interface FinishedRequest {
  /** 0 when no status was sent (client went away, connection cut). */
  status: number;
  bytesIn: number;
  bytesOut: number;
  durationMs: number;
  /** The upstream failed (refused, timeout, died mid-body). */
  upstreamError: boolean;
  /** What failed upstream (upstreamErrorKind of the error code), when upstreamError. */
  upstreamErrorKind?: string;
  /** The cache outcome's result (`ctx.cache`), when a cache took part. */
  cacheResult?: string;
}

export interface StatsSnapshot {
  startedAt: string;
  uptimeSeconds: number;
  requests: { total: number; inFlight: number; byStatus: Record<string, number> };
  bytes: { in: number; out: number };
  upstream: { errors: number; byKind: Record<string, number> };
  latencyMs: { count: number; mean: number; max: number } & Record<`p${string}`, number>;
  cache?: { hits: number; misses: number; hitRatio: number; byResult: Record<string, number>; stored?: { store: string; entries: number | null; bytes: number | null; maxBytes: number | null; health?: { down: boolean; outages: number; failures: number; bypassed: number; writeFailures: number } } };
  workers?: number;
  [more: string]: unknown;
}

export function createCounterState(startedAtMs: number): CounterState {
  return { startedAtMs, total: 0, inFlight: 0, byStatus: {}, bytesIn: 0, bytesOut: 0, upstreamErrors: 0, upstreamErrorKinds: {},
    latency: new Array<number>(LATENCY_BUCKET_COUNT).fill(0), latencySumMs: 0, latencyMaxMs: 0, cache: {} };
}

export function recordStart(state: CounterState): void {
  state.inFlight++;
}

/** Status codes as keys, made once: a request is counted in up to four tallies, each keyed by its status as text. */
const STATUS_KEYS: readonly string[] = Array.from({ length: 600 }, (_, i) => String(i));

/** `String(status)`, without a new string (and a new hash) for the usual codes. */
export function statusKey(status: number): string {
  return STATUS_KEYS[status] ?? String(status);
}

/** A request is counted once it has ended (so `total` and `byStatus` always agree). */
export function recordFinish(state: CounterState, r: FinishedRequest): void {
  state.inFlight = Math.max(0, state.inFlight - 1);
  state.total++;
  const key = statusKey(r.status);
  state.byStatus[key] = (state.byStatus[key] ?? 0) + 1;
  state.bytesIn += r.bytesIn;
  state.bytesOut += r.bytesOut;
  if (r.upstreamError) {
    state.upstreamErrors++;
    const kind = r.upstreamErrorKind ?? 'other';
    state.upstreamErrorKinds[kind] = (state.upstreamErrorKinds[kind] ?? 0) + 1;
  }
  const ms = Math.max(0, r.durationMs);
  state.latency[latencyBucketOf(ms)]!++;
  state.latencySumMs += ms;
  state.latencyMaxMs = Math.max(state.latencyMaxMs, ms);
  if (r.cacheResult !== undefined) state.cache[r.cacheResult] = (state.cache[r.cacheResult] ?? 0) + 1;
}

/**
 * The kind of an upstream failure from ferry's error code: `FERRY_ERR_UPSTREAM_CONNECT_TIMEOUT` → `connect-timeout`,
 * `FERRY_ERR_UPSTREAM_TIMEOUT` → `timeout`, `FERRY_ERR_UPSTREAM` → `other`.
 */
export function upstreamErrorKind(code: string): string {
  const kind = code.replace(/^FERRY_ERR_/, '').replace(/^UPSTREAM_?/, '').toLowerCase().replace(/_/g, '-');
  return kind === '' ? 'other' : kind;
}

const MISS_RESULTS = new Set(['uri-miss', 'vary-miss', 'miss']);

export function latencyBucketOf(ms: number): number {
  if (!(ms > LATENCY_MIN_MS)) return 0;
  const i = Math.ceil(Math.log2(ms / LATENCY_MIN_MS) * LATENCY_BUCKETS_PER_DOUBLING);
  return Math.min(LATENCY_BUCKET_COUNT - 1, i);
}

/** Upper bound of bucket i: every sample in it is ≤ this. */
export function latencyBucketUpperMs(i: number): number {
  return LATENCY_MIN_MS * 2 ** (i / LATENCY_BUCKETS_PER_DOUBLING);
}

/** Nearest-rank percentile from the buckets, reported as the bucket's upper bound (capped by the true max). */
export function latencyPercentile(state: CounterState, p: number): number {
  const count = state.latency.reduce((a, b) => a + b, 0);
  if (count === 0) return 0;
  const rank = Math.max(1, Math.ceil((p / 100) * count));
  let seen = 0;
  for (let i = 0; i < state.latency.length; i++) {
    seen += state.latency[i]!;
    if (seen >= rank) return Math.min(latencyBucketUpperMs(i), state.latencyMaxMs);
  }
  return state.latencyMaxMs;
}

/** Totals over workers; startedAt is the earliest boot. */
export function mergeCounters(states: readonly CounterState[]): CounterState {
  const out = createCounterState(states.length ? Math.min(...states.map((s) => s.startedAtMs)) : 0);
  for (const s of states) {
    out.total += s.total;
    out.inFlight += s.inFlight;
    for (const [k, v] of Object.entries(s.byStatus)) out.byStatus[k] = (out.byStatus[k] ?? 0) + v;
    out.bytesIn += s.bytesIn;
    out.bytesOut += s.bytesOut;
    out.upstreamErrors += s.upstreamErrors;
    for (const [k, v] of Object.entries(s.upstreamErrorKinds ?? {})) out.upstreamErrorKinds[k] = (out.upstreamErrorKinds[k] ?? 0) + v;
    s.latency.forEach((n, i) => { if (i < out.latency.length) out.latency[i]! += n; });
    out.latencySumMs += s.latencySumMs;
    out.latencyMaxMs = Math.max(out.latencyMaxMs, s.latencyMaxMs);
    for (const [k, v] of Object.entries(s.cache)) out.cache[k] = (out.cache[k] ?? 0) + v;
  }
  return out;
}

const round3 = (n: number): number => Math.round(n * 1000) / 1000;

/** The JSON shape of GET /stats (SPEC: Statistics). `cache.*` appears when the proxy caches or a cache result was seen. */
export function formatSnapshot(state: CounterState, nowMs: number, options: { cache?: boolean } = {}): StatsSnapshot {
  const count = state.latency.reduce((a, b) => a + b, 0);
  const latencyMs: StatsSnapshot['latencyMs'] = { count, mean: count ? round3(state.latencySumMs / count) : 0, max: round3(state.latencyMaxMs) };
  for (const p of REPORTED_PERCENTILES) latencyMs[`p${p}`] = round3(latencyPercentile(state, p));
  return {
    startedAt: new Date(state.startedAtMs).toISOString(),
    uptimeSeconds: Math.max(0, Math.floor((nowMs - state.startedAtMs) / 1000)),
    requests: { total: state.total, inFlight: state.inFlight, byStatus: { ...state.byStatus } },
    bytes: { in: state.bytesIn, out: state.bytesOut },
    upstream: { errors: state.upstreamErrors, byKind: { ...state.upstreamErrorKinds } },
    latencyMs,
    ...(options.cache || Object.keys(state.cache).length > 0 ? { cache: formatCache(state.cache) } : {}),
  };
}

function formatCache(byResult: Record<string, number>): NonNullable<StatsSnapshot['cache']> {
  let hits = 0;
  let misses = 0;
  for (const [k, v] of Object.entries(byResult)) {
    if (k === 'hit') hits += v;
    else if (MISS_RESULTS.has(k)) misses += v;
  }
  const lookups = Object.values(byResult).reduce((a, b) => a + b, 0);
  return { hits, misses, hitRatio: lookups ? round3(hits / lookups) : 0, byResult: { ...byResult } };
}
