/**
 * @module The admin listener (`--admin-listen HOST:PORT`): a second hardened server of the same process that runs
 * only the admin filter (admin-filter.ts) through the proxy runner, so its replies are written, HEAD-trimmed and
 * timed out like every other local reply. Nothing on it is forwarded or counted in the role's statistics.
 */
import type { Server } from 'node:http';
import { createPipeline } from '../proxy/pipeline.ts';
import { CONTINUE, type PhaseResult } from '../proxy/phases.ts';
import type { RequestContext } from '../proxy/context.ts';
import { closeServer, createHardenedServer, DEFAULT_MAX_HEADERS_COUNT } from '../server/http-server.ts';
import { listen, logListening, type ListeningAddress } from '../server/listen.ts';
import type { Logger } from '../server/logger.ts';
import type { Closable } from '../server/shutdown.ts';
import type { HostPort } from '../util/units.ts';
import { createAdminFilter, type AdminSource } from './admin-filter.ts';
import { jsonToPrometheus } from './json-metrics.ts';

export interface AdminListener { server: Server; address: ListeningAddress; close(): Promise<void> }

/** Bind the admin listener and print its "listening" line (with `admin: true`). */
export async function startAdminListener(role: string, at: HostPort, source: AdminSource, log: Logger): Promise<AdminListener> {
  const pipeline = createPipeline({
    filters: [createAdminFilter(source)], client: null, log, maxBodyBytes: 0, maxHeadersCount: DEFAULT_MAX_HEADERS_COUNT,
    onBodyBytes: null, upgradeBody: null, connectBody: null,
  });
  const server = createHardenedServer((req, res) => pipeline.request(req, res), { log });
  const address = await listen(server, at);
  logListening(log, `${role} admin`, address, { admin: true, pid: process.pid });
  return { server, address, close: () => closeServer(server) };
}

/**
 * The statistics pages of a role whose figures are one JSON object (relay-client, relay-server, origin): `/stats`
 * as JSON, `/metrics` as Prometheus gauges of its numbers (json-metrics.ts).
 */
export function jsonStatsRoute(role: string, stats: () => Promise<Record<string, unknown>> | Record<string, unknown>): (ctx: RequestContext) => Promise<PhaseResult> {
  const prefix = `ferry_${role.replace(/-/g, '_')}`;
  return async (ctx) => {
    const q = ctx.request.target.indexOf('?');
    const path = q < 0 ? ctx.request.target : ctx.request.target.slice(0, q);
    if (path !== '/stats' && path !== '/metrics') return CONTINUE;
    if (ctx.request.method !== 'GET' && ctx.request.method !== 'HEAD') {
      return { kind: 'respond', reply: { status: 405, headers: [['allow', 'GET, HEAD']], body: '' } };
    }
    const value = await stats();
    if (path === '/stats') {
      return { kind: 'respond', reply: { status: 200, headers: [['content-type', 'application/json'], ['cache-control', 'no-store']], body: `${JSON.stringify(value, null, 2)}\n` } };
    }
    return { kind: 'respond', reply: { status: 200, headers: [['content-type', 'text/plain; version=0.0.4; charset=utf-8'], ['cache-control', 'no-store']], body: jsonToPrometheus(prefix, value) } };
  };
}

/** The admin listener of a role without pools or a reloadable configuration (relays, origin). */
export async function startRoleAdmin(role: string, at: HostPort, o: {
  server: Server; log: Logger; stats: () => Promise<Record<string, unknown>> | Record<string, unknown>; config: () => Record<string, unknown>;
}): Promise<AdminListener> {
  return startAdminListener(role, at, {
    statsRoute: jsonStatsRoute(role, o.stats),
    readiness: () => ({ serving: o.server.listening, unhealthyPools: [] }),
    config: o.config,
  }, o.log);
}

/** A role's Closable (server/shutdown.ts) that also closes its admin listener. */
export function withAdmin(main: Closable, admin: AdminListener | null): Closable {
  if (admin === null) return main;
  return {
    close: async () => { await Promise.all([main.close(), admin.close()]); },
    destroy: () => { main.destroy(); admin.server.closeAllConnections(); },
  };
}

/** What the origin shows at /stats on its admin listener: it keeps no request counters, only process figures. */
export function processStats(role: string, startedAtMs: number): () => Record<string, unknown> {
  return () => {
    const m = process.memoryUsage();
    return { role, pid: process.pid, startedAt: new Date(startedAtMs).toISOString(), uptimeSeconds: Math.floor((Date.now() - startedAtMs) / 1000),
      memory: { rss: m.rss, heapUsed: m.heapUsed, external: m.external } };
  };
}
