/**
 * @module The proxy's admin source (admin-filter.ts AdminSource) over its reloadable switch: the statistics pages
 * with the dashboard (the same stats-filter.ts route the proxy listener uses without an admin listener), the purge
 * endpoint of the current generation's cache, readiness from its pools, and the effective configuration.
 */
import { CONTINUE } from '../proxy/phases.ts';
import type { ProxySwitch } from '../reload/proxy-switch.ts';
import { createStatsFilter, matchStatsPath } from '../stats/stats-filter.ts';
import type { AdminSource } from './admin-filter.ts';

export function proxyAdminSource(sw: ProxySwitch, listening: () => boolean, config: () => Record<string, unknown>): AdminSource {
  const { statsPath, metricsPath } = sw.options;
  const paths = { statsPath: statsPath || '/stats', metricsPath: metricsPath || '/metrics' };
  const statsFilter = sw.stats ? createStatsFilter(sw.stats.stats, paths) : null;
  return {
    async statsRoute(ctx) {
      if (statsFilter === null || matchStatsPath(ctx.request.target, paths) === null) return CONTINUE;
      return statsFilter.route!(ctx);
    },
    async purgeRoute(ctx) {
      const route = sw.cacheFilter()?.route;
      return route ? route(ctx) : CONTINUE;
    },
    readiness: () => ({ serving: listening(), unhealthyPools: sw.unhealthyPools() }),
    config: () => ({ ...config(), generation: sw.config }),
  };
}
