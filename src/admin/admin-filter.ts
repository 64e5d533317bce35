/**
 * @module The admin listener's one filter (`--admin-listen`, docs/reload-admin.md): `/healthz` (the process is
 * alive), `/readyz` (200 when every pool has a healthy target, else 503 naming the pools that have none; a role
 * without pools is ready while it serves), `/config` (the effective configuration, secrets redacted), then the
 * role's statistics pages and the cache purge endpoint; anything else is 404. It answers every request in `route`:
 * nothing on the admin listener is ever forwarded.
 */
import type { HeaderList } from '../http/headers.ts';
import type { RequestContext } from '../proxy/context.ts';
import type { LocalReply, PhaseResult, ProxyFilter } from '../proxy/phases.ts';

export interface AdminSource {
  /** Answers the statistics pages (/stats, /metrics, the dashboard's assets), or CONTINUE for other paths. */
  statsRoute(ctx: RequestContext): Promise<PhaseResult>;
  /** The cache purge endpoint, or CONTINUE (absent: no cache). */
  purgeRoute?: (ctx: RequestContext) => Promise<PhaseResult>;
  /** Pools without a healthy target ([] for roles without pools); `serving` false while the role is not listening. */
  readiness(): { serving: boolean; unhealthyPools: string[] };
  /** The effective configuration, secrets already redacted. */
  config(): Record<string, unknown>;
}

const NO_STORE: HeaderList = [['cache-control', 'no-store']];

function json(status: number, value: unknown, extra: HeaderList = []): PhaseResult {
  const reply: LocalReply = { status, headers: [['content-type', 'application/json'], ...NO_STORE, ...extra], body: `${JSON.stringify(value, null, 2)}\n` };
  return { kind: 'respond', reply };
}

function pathOf(target: string): string {
  const q = target.indexOf('?');
  return q < 0 ? target : target.slice(0, q);
}

/** The probes and /config answer GET and HEAD only. */
function readOnly(ctx: RequestContext): PhaseResult | null {
  const m = ctx.request.method;
  return m === 'GET' || m === 'HEAD' ? null : json(405, { error: `${m} is not allowed here; use GET` }, [['allow', 'GET, HEAD']]);
}

export function createAdminFilter(source: AdminSource): ProxyFilter {
  return {
    name: 'admin',
    async route(ctx) {
      switch (pathOf(ctx.request.target)) {
        case '/healthz':
          return readOnly(ctx) ?? json(200, { status: 'alive', pid: process.pid });
        case '/readyz': {
          const r = readOnly(ctx);
          if (r) return r;
          const { serving, unhealthyPools } = source.readiness();
          if (!serving) return json(503, { ready: false, reason: 'not serving' }, [['retry-after', '1']]);
          if (unhealthyPools.length > 0) return json(503, { ready: false, unhealthyPools }, [['retry-after', '1']]);
          return json(200, { ready: true });
        }
        case '/config':
          return readOnly(ctx) ?? json(200, source.config());
        default: {
          const stats = await source.statsRoute(ctx);
          if (stats.kind === 'respond') return stats;
          const purge = source.purgeRoute ? await source.purgeRoute(ctx) : stats;
          if (purge.kind === 'respond') return purge;
          return { kind: 'respond', reply: { status: 404, headers: [['content-type', 'text/plain; charset=utf-8'], ...NO_STORE], body: 'Not Found: the admin listener serves /stats, /metrics, /healthz, /readyz, /config and the cache purge endpoint\n' } };
        }
      }
    },
  };
}
