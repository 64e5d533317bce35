/** @module `ferry proxy`: resolves flags into ProxyOptions (validated once) and starts the role. */
import type { HostPort } from '../../util/units.ts';
import { resolveProxyOptions, type ProxyInit, type ProxyOptions } from '../../proxy/options.ts';
import { createLogger, type Logger, type LogLevel } from '../../server/logger.ts';
import { startProxyWorker } from '../../reload/proxy-worker.ts';
import { resolveH2MaxConcurrentStreams, resolveTlsListenerFlags, resolveUpstreamTlsFlags } from './tls-flags.ts';
import { runWorkers } from '../../server/workers.ts';
import type { CliCommand } from '../command.ts';
import { UsageError } from '../../errors.ts';
import type { FlagValues } from '../flags.ts';
import { PROXY_FLAGS } from './proxy-flags.ts';
import { resolveJwtOptions, type JwtFlags } from '../../proxy/filters/jwt-config.ts';
import { installStatsAggregator } from '../../stats/cluster.ts';
import { resolveInspectorFlags } from '../../stats/inspector-flags.ts';
import { retireWorkerParts } from '../../stats/proxy-stats.ts';
import type { CacheFlags } from '../../cache/create-cache.ts';
import { resolveForwardOptions } from '../../proxy/forward/forward-options.ts';
import { ROUTING_SECTIONS, routingFromFile } from '../routing-sections.ts';
import { describeUpstreamProxy, resolveUpstreamProxy } from '../../proxy/upstream-proxy.ts';
import { PACE_BYTES } from '../../proxy/gc-pacer.ts';
import { createScavengePacer } from '../../server/scavenge-pacer.ts';
import { capYoungGeneration } from '../../server/young-generation.ts';
import { clampConnections, readOpenFileLimit } from '../../server/fd-limit.ts';

/**
 * Flags → ProxyOptions. Each feature maps its own flags in its marked block (its own resolveX function does the
 * checks and throws UsageError); core flags are mapped here.
 */
/** --max-connections, clamped to what the open-file limit allows (server/fd-limit.ts), with one log line when it is. */
function connectionCap(requested: number, log: Logger): number {
  const softLimit = readOpenFileLimit();
  const { value, clamped } = clampConnections(requested, softLimit);
  if (clamped) {
    log.warn({ event: 'max-connections-clamped', requested, maxConnections: value, openFileLimit: softLimit },
      `--max-connections ${requested} lowered to ${value}: the open-file limit is ${softLimit} (two descriptors per proxied connection; raise it with ulimit -n)`);
  }
  return value;
}

export async function resolveProxyFlags(flags: FlagValues, env: NodeJS.ProcessEnv, log: Logger): Promise<ProxyOptions> {
  const init: ProxyInit = {
    upstreams: (flags.upstream as URL[] | undefined) ?? [],
    forwarded: flags.forwarded === true,
    upstreamTimeoutMs: flags.upstreamTimeout as number,
    connectTimeoutMs: flags.connectTimeout as number,
    maxHeaderBytes: flags.maxHeaderSize as number,
    maxHeadersCount: flags.maxHeadersCount as number,
    maxBodyBytes: (flags.maxBody as number | undefined) ?? null,
    headersTimeoutMs: flags.headersTimeout as number,
    idleTimeoutMs: flags.idleTimeout as number,
    maxConnections: connectionCap(flags.maxConnections as number, log),
    statsPath: flags.statsPath as string,
    metricsPath: flags.metricsPath as string,
    log,
    // The process is ferry's own here, so it may pace scavenges (the library alone never does).
    onBodyBytes: createScavengePacer(PACE_BYTES),
  };
  // ── feature options (forward proxy, JWT, cache, upstream proxy): one block each below ──
  // JWT: secret from --jwt-secret-file or FERRY_JWT_SECRET only (RELIABILITY J3), or a private key from
  // --jwt-key-file checked against --jwt-alg; checked once, before any fork. Each worker re-reads the key file.
  init.jwt = resolveJwtOptions(flags as JwtFlags, env, log);
  // Cache: --cache store spec and --cache-purge-token-file, checked once.
  // (the cache modules — stores, ioredis, cacache — are loaded only when caching is asked for: ~17 MiB of RSS)
  if (flags.cache !== undefined || flags.cachePurgeTokenFile !== undefined) {
    const { resolveCacheOptions } = await import('../../cache/create-cache.ts');
    Object.assign(init, resolveCacheOptions(flags as CacheFlags));
  }
  // Forward proxy: --forward, --connect-ports, --proxy-auth[-file], --deny; refuses an open proxy unless --allow-open.
  init.forward = resolveForwardOptions({
    forward: flags.forward === true,
    listenHost: (flags.listen as HostPort).host,
    allowOpen: flags.allowOpen === true,
    ...(flags.connectPorts !== undefined ? { connectPorts: flags.connectPorts as string[] } : {}),
    ...(flags.proxyAuth !== undefined ? { proxyAuth: flags.proxyAuth as string } : {}),
    ...(flags.proxyAuthFile !== undefined ? { proxyAuthFile: flags.proxyAuthFile as string } : {}),
    ...(flags.deny !== undefined ? { deny: flags.deny as string[] } : {}),
  });
  if (init.forward?.allowOpen && init.forward.credentials.length === 0) {
    log.warn({ event: 'open-proxy', listen: (flags.listen as HostPort).host }, 'running an OPEN forward proxy (--allow-open): anyone who can reach it can use it');
  }
  // Dashboard: --inspector, --inspector-size, --redact-headers (the JWT header is always redacted).
  init.inspector = resolveInspectorFlags(flags);
  // --upstream-proxy: every upstream connection (requests, tunnels, upgrades) goes through that proxy.
  init.upstreamProxy = resolveUpstreamProxy(flags.upstreamProxy as string | undefined, env);
  // Routes and pools: the config file's `routes`, `pools` and `pool-defaults` sections (docs/routing.md).
  if (typeof flags.config === 'string') init.routing = routingFromFile(flags.config, init.upstreams as URL[]);
  // TLS: --tls-cert/--tls-key pairs (checked here, before any fork) and the --upstream-ca & co. for https upstreams.
  init.tls = resolveTlsListenerFlags(flags, log);
  init.upstreamTls = resolveUpstreamTlsFlags(flags, log);
  // HTTP/2: --h2c (cleartext prior knowledge on the listener), --upstream-h2 (ALPN h2 to HTTPS upstreams)
  init.h2c = flags.h2c === true;
  init.h2MaxConcurrentStreams = resolveH2MaxConcurrentStreams(flags);
  init.upstreamH2 = flags.upstreamH2 === true;
  if ((init.upstreams?.length ?? 0) === 0 && !init.forward && (init.routing?.pools.length ?? 0) === 0) {
    log.warn({ event: 'no-route' }, 'neither --upstream nor --forward given: every proxied request will get 404');
  }
  return resolveProxyOptions(init);
}

export const proxyCommand: CliCommand = {
  spec: {
    name: 'proxy',
    summary: 'Streaming reverse proxy to --upstream and/or forward proxy (--forward), with Range, JWT signing, statistics and an optional RFC 9111 cache.',
    usage: 'ferry proxy [--listen HOST:PORT] [--upstream URL] [--forward] [flags]',
    flags: PROXY_FLAGS,
    configSections: ROUTING_SECTIONS,
    examples: [
      'ferry proxy --upstream http://127.0.0.1:8081',
      'ferry proxy --listen 0.0.0.0:8080 --upstream http://10.0.0.5:8081 --max-body 100MiB --workers 4',
    ],
  },
  async run(flags, env, argv = []) {
    const log = createLogger('proxy', flags.logLevel as LogLevel);
    if (flags.watchConfig === true && typeof flags.config !== 'string') throw new UsageError('--watch-config needs --config FILE (the file to watch)');
    const options = await resolveProxyFlags(flags, env, log); // validated once, before any fork
    await runWorkers({
      count: flags.workers as number,
      log,
      onPrimary: () => installStatsAggregator(retireWorkerParts), // /stats and /metrics totals over workers, exited ones included
      // hot reload (SIGHUP, --watch-config) and --admin-listen: reload/proxy-worker.ts
      startWorker: () => {
        capYoungGeneration(process.execArgv, env.NODE_OPTIONS); // RSS under load (server/young-generation.ts)
        return startProxyWorker({
          spec: proxyCommand.spec, flags, env, argv, log, options,
          resolve: (next) => resolveProxyFlags(next, env, log),
          announce: (o) => ({
            upstreams: o.upstreams.map((u) => u.href),
            ...(o.forward ? { forward: true, connectPorts: o.forward.connectPorts, proxyAuth: o.forward.credentials.length > 0 } : {}),
            ...(o.upstreamProxy ? { upstreamProxy: describeUpstreamProxy(o.upstreamProxy) } : {}),
          }),
        });
      },
    });
  },
};
