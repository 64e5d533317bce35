/**
 * @module The statistics of one proxy process: the pure counters, the prom-client metrics, and — under
 * `--workers N` — totals over every worker. What HTTP paths show them is stats-filter.ts.
 */
import { createCounterState, formatSnapshot, mergeCounters, recordFinish, recordStart, type FinishedRequest, type StatsSnapshot } from './counters.ts';
import { joinStatsAggregation, type WorkerPart } from './cluster.ts';
import { createPrometheusMetrics, formatPrometheus, mergeMetricsJson } from './prometheus.ts';
import { formatTunnelJson, registerTunnelMetrics, sumTunnelTotals, type TunnelProvider, type TunnelTotals } from '../proxy/tunnel/tunnel-metrics.ts';

export interface ProxyStatsOptions {
  /** Wall clock, ms; injected for tests. */
  now?: () => number;
  /** The proxy caches: show `cache.*` from the start. */
  cache?: boolean;
  /** CONNECT tunnel and upgrade counters of this process (forward-proxy engineer): `tunnels` / `upgrades` in /stats. */
  tunnels?: TunnelProvider;
}

export interface ProxyStats {
  recordStart(): void;
  recordFinish(r: FinishedRequest): void;
  /** GET /stats: totals over all workers when running under --workers. */
  snapshot(): Promise<StatsSnapshot>;
  /** GET /metrics: Prometheus text, totals over all workers. */
  metrics(): Promise<{ contentType: string; text: string }>;
  close(): void;
}

export function createProxyStats(options: ProxyStatsOptions = {}): ProxyStats {
  const now = options.now ?? Date.now;
  const state = createCounterState(now());
  const prom = createPrometheusMetrics(state.startedAtMs);
  if (options.tunnels) registerTunnelMetrics(prom.registry, options.tunnels);
  // tunnel figures ride along with each worker's part (plain JSON over the cluster IPC)
  const local = async (): Promise<WorkerPart> => ({ counters: structuredClone(state), metrics: await prom.json(), ...(options.tunnels ? { tunnels: options.tunnels() } : {}) });
  // every request changes total or inFlight; tunnels change bytes without requests
  const fingerprint = () => `${state.total}:${state.inFlight}${options.tunnels ? JSON.stringify(options.tunnels()) : ''}`;
  const cluster = joinStatsAggregation(local, fingerprint);
  const parts = async (): Promise<WorkerPart[]> => (await cluster.collect()) ?? [await local()];
  return {
    recordStart() {
      recordStart(state);
      prom.onStart();
    },
    recordFinish(r) {
      recordFinish(state, r);
      prom.onFinish(r, r.cacheResult);
    },
    async snapshot() {
      const all = await parts();
      const merged = all.length > 0 ? mergeCounters(all.map((p) => p.counters)) : state;
      const snap = formatSnapshot(merged, now(), { cache: options.cache ?? false });
      const live = all.filter((p) => p.retired !== true).length;
      if (all.length > 1) snap.workers = live;
      if (options.tunnels) {
        const t = sumTunnelTotals(all.map((p) => (p as WorkerPart & { tunnels?: TunnelTotals }).tunnels));
        snap.tunnels = formatTunnelJson(t.connect);
        snap.upgrades = formatTunnelJson(t.upgrade);
      }
      return snap;
    },
    async metrics() {
      return formatPrometheus((await parts()).map((p) => p.metrics));
    },
    close() { cluster.stop(); },
  };
}

/**
 * The primary's merge of exited workers' last parts (installStatsAggregator): counts are kept, what was live when
 * the worker died (requests in flight, open tunnels) is zero now.
 */
export async function retireWorkerParts(parts: WorkerPart[]): Promise<WorkerPart> {
  const counters = { ...mergeCounters(parts.map((p) => p.counters)), inFlight: 0 };
  const withTunnels = parts as Array<WorkerPart & { tunnels?: TunnelTotals }>;
  const t = sumTunnelTotals(withTunnels.map((p) => p.tunnels));
  const tunnels = { connect: { ...t.connect, open: 0 }, upgrade: { ...t.upgrade, open: 0 } };
  return { counters, metrics: await mergeMetricsJson(parts.map((p) => p.metrics), { zeroSummedGauges: true }), tunnels, retired: true } as WorkerPart;
}
