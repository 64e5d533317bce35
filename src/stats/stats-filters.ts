/**
 * @module The statistics filters of a proxy, built from its options: the stats filter (first in the filter list)
 * and, when the inspector is on, the inspector filter (last). createProxy places the two; this is the only place
 * that turns proxy options into stats options.
 */
import type { ProxyOptions } from '../proxy/options.ts';
import type { ProxyFilter } from '../proxy/phases.ts';
import type { TunnelProvider } from '../proxy/tunnel/tunnel-metrics.ts';
import { createInspectorFilter } from './inspector-filter.ts';
import { createProxyStats, type ProxyStats, type ProxyStatsOptions } from './proxy-stats.ts';
import { redactionSet } from './redact.ts';
import { createStatsFilter, type StatsPaths } from './stats-filter.ts';

export interface StatsFilters { first: ProxyFilter; last: ProxyFilter | null; stats: ProxyStats }

/**
 * `deps.answer`: which paths the first filter answers (default the options' paths; none when an admin listener
 * serves them: the filter then only counts). `deps.config`: the configuration generation shown in /stats.
 */
export function createStatsFilters(options: ProxyOptions, deps: { tunnels: TunnelProvider; cacheStore: ProxyStatsOptions['cacheStore']; answer?: StatsPaths; config?: ProxyStatsOptions['config']; routing?: ProxyStatsOptions['routing'] }): StatsFilters | null {
  if (options.statsPath === '' && options.metricsPath === '') return null;
  // the inspector is only reachable through the stats path
  const inspector = options.inspector && options.statsPath !== ''
    ? { size: options.inspector.size, redact: redactionSet({ jwtHeader: options.jwt?.header ?? options.inspector.jwtHeader, extra: options.inspector.redactHeaders }) }
    : null;
  const stats = createProxyStats({ cache: options.cache !== null, tunnels: deps.tunnels, cacheStore: deps.cacheStore, inspector, ...(deps.config ? { config: deps.config } : {}), ...(deps.routing ? { routing: deps.routing } : {}) });
  return { first: createStatsFilter(stats, deps.answer ?? options), last: inspector ? createInspectorFilter(stats) : null, stats };
}
