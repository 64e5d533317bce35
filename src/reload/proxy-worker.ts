/**
 * @module One `ferry proxy` process (or worker) with hot reload and the optional admin listener: the reloadable
 * switch (proxy-switch.ts) in the hardened server, SIGHUP / --watch-config reloads (config-reload.ts), the admin
 * listener (admin/admin-server.ts), graceful shutdown of both listeners.
 */
import type { Server } from 'node:http';
import { effectiveConfig } from '../admin/config-view.ts';
import { startAdminListener, type AdminListener } from '../admin/admin-server.ts';
import { proxyAdminSource } from '../admin/proxy-admin.ts';
import { resolveCommandFlags } from '../cli/config.ts';
import type { CommandSpec, FlagValues } from '../cli/flags.ts';
import { serveProxy } from '../proxy/create-proxy.ts';
import type { ProxyOptions } from '../proxy/options.ts';
import { listen, logListening } from '../server/listen.ts';
import type { Logger } from '../server/logger.ts';
import { onShutdownSignal } from '../server/shutdown.ts';
import type { HostPort } from '../util/units.ts';
import { reloadTls } from '../server/tls-listener.ts';
import { installReload, onConfigReload } from './config-reload.ts';
import { createProxySwitch } from './proxy-switch.ts';

/**
 * Flags a running proxy cannot change (camelCase): the sockets it listens on, its processes, how it logs and stops,
 * the largest head Node's parser takes, and the statistics pages (their counters outlive every generation).
 */
export const PROXY_RESTART_ONLY: readonly string[] = [
  'listen', 'workers', 'adminListen', 'watchConfig', 'config', 'logLevel', 'shutdownGrace', 'maxHeaderSize',
  'statsPath', 'metricsPath', 'inspector', 'inspectorSize', 'redactHeaders',
  // the listener's TLS pairs are named at start; their files are re-read on every reload (server/tls-listener.ts)
  'tlsCert', 'tlsKey', 'tlsMinVersion', 'http2',
];

export interface ProxyWorkerPlan {
  spec: CommandSpec;
  flags: FlagValues;
  env: NodeJS.ProcessEnv;
  /** The command line after the command name (resolved again on every reload). */
  argv: readonly string[];
  log: Logger;
  options: ProxyOptions;
  /** Flags → options, as at start (throws on a bad value). */
  resolve(flags: FlagValues): Promise<ProxyOptions>;
  /** Extra fields of the "listening" line. */
  announce(options: ProxyOptions): Record<string, unknown>;
}

/** Limits the server itself enforces, applied again on a reload (max-header-size is fixed when Node's parser is made). */
function applyServerLimits(server: Server, o: ProxyOptions): void {
  server.maxConnections = o.maxConnections;
  server.maxHeadersCount = o.maxHeadersCount + 1; // as server/connection.ts acceptHooks
  server.headersTimeout = o.headersTimeoutMs;
  server.requestTimeout = Math.max(server.requestTimeout, o.headersTimeoutMs);
  server.keepAliveTimeout = o.idleTimeoutMs;
  server.timeout = o.idleTimeoutMs;
}

export async function startProxyWorker(plan: ProxyWorkerPlan): Promise<void> {
  const { log, flags } = plan;
  const file = typeof flags.config === 'string' ? flags.config : null;
  const adminAt = flags.adminListen as HostPort | undefined;
  const sw = createProxySwitch(plan.options, { file, adminListener: adminAt !== undefined });
  const proxyServer = serveProxy(sw);
  const reloader = installReload({
    log, file, watch: flags.watchConfig === true, restartOnly: PROXY_RESTART_ONLY, flags,
    resolve: () => resolveCommandFlags(plan.spec, plan.argv, plan.env),
    async apply(next) {
      const options = await plan.resolve(next);
      const info = await sw.swap(options, file);
      applyServerLimits(proxyServer.server, options);
      return info;
    },
    info: () => sw.config,
  });
  // (installed before listening: a SIGHUP during start-up reloads instead of ending the process)
  // TLS certificate files are re-read with every accepted reload (a broken pair is refused there, the old one kept)
  if (plan.options.tls) onConfigReload(async () => () => { reloadTls(proxyServer.server); });
  await sw.ready();
  const address = await listen(proxyServer.server, flags.listen as HostPort);
  logListening(log, 'proxy', address, { ...plan.announce(plan.options), pid: process.pid });
  let admin: AdminListener | null = null;
  if (adminAt !== undefined) {
    const source = proxyAdminSource(sw, () => proxyServer.server.listening, () => effectiveConfig(plan.spec, reloader.flags()));
    admin = await startAdminListener('proxy', adminAt, source, log);
  }
  onShutdownSignal(log, {
    async close() {
      reloader.stop();
      await Promise.all([proxyServer.close(), admin?.close()]);
    },
    destroy() {
      proxyServer.destroy();
      admin?.server.closeAllConnections();
    },
  }, flags.shutdownGrace as number);
}
