/**
 * @module createProxy: options → filter list → pipeline, plus the server factory. The filter list is composed in ONE
 * place (composeFilters below); a feature adds one line there.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { createHardenedServer } from '../server/http-server.ts';
import { createStatsFilters } from '../stats/stats-filters.ts';
import { createAccessLogFilter } from './filters/access-log.ts';
import { createForwardedFilter } from './filters/forwarded.ts';
import { createHopByHopFilter } from './filters/hop-by-hop.ts';
import { createHeadSizeProbe, createRangeParamFilter } from './filters/range-param.ts';
import { createRequestIdFilter } from './filters/request-id.ts';
import { createReverseRouteFilter } from './filters/reverse-route.ts';
import { resolveProxyOptions, type ProxyInit, type ProxyOptions } from './options.ts';
import type { ProxyFilter } from './phases.ts';
import { abortInFlight, createPipeline, isClosing } from './pipeline.ts';
import { createUpstreamClient, type UpstreamClient } from './upstream-client.ts';
import { createCredentialChecker } from './forward/basic-auth.ts';
import { createDenyListFromOptions, createForwardFilter } from './forward/forward-filter.ts';
import { createConnectTunnels } from './tunnel/connect-tunnel.ts';
import { createGuardedLookup, type GuardedLookup } from './forward/destination.ts';
import { createTunnelStats, type TunnelStats } from './tunnel/tunnel-stats.ts';
import type { CacheFilter } from '../cache/cache-filter.ts';
import { createUpgradeRelays } from './upgrade.ts';

export interface Proxy {
  readonly options: ProxyOptions;
  /** Request handler for node:http, Express (`app.use(proxy.handler)`) or Fastify (`reply.hijack()` first). */
  handler(req: IncomingMessage, res: ServerResponse): void;
  /** `server.on('upgrade', proxy.upgrade)` */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** `server.on('connect', proxy.connect)` */
  connect(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Resolves when the filters (some load keys or open stores) are ready; requests before that wait. */
  ready(): Promise<void>;
  /** Close pooled upstream connections and filter resources. */
  close(): Promise<void>;
  /** CONNECT tunnels and upgraded (WebSocket) connections: open, total, bytes (read by stats and tests). */
  readonly tunnelStats: { connect: TunnelStats; upgrade: TunnelStats };
  /** Cut every CONNECT tunnel and upgraded connection (they are not HTTP connections the server can close). */
  destroyTunnels(): void;
  /** End responses that never end by themselves (the dashboard's event streams), at the start of a graceful close. */
  endStreams(): void;
}

/** Shared things a filter may need beside the options. */
export interface FilterDeps {
  client: UpstreamClient;
  tunnelStats: { connect: TunnelStats; upgrade: TunnelStats };
}

/**
 * THE FILTER LIST. Order matters within each phase: route and requestFilter run top to bottom; `cache` phases nest
 * (first outermost); upstreamRequestFilter runs top to bottom, so hop-by-hop removal comes BEFORE every filter that
 * adds a field (RELIABILITY S7: strip first, then add). Add one line for your feature at the marked spot.
 */
function composeFilters(options: ProxyOptions, deps: FilterDeps): Array<ProxyFilter | Promise<ProxyFilter>> {
  // the cache filter reports its store's size to the stats once it exists
  let cache: CacheFilter | null = null;
  const stats = createStatsFilters(options, {
    tunnels: () => ({ connect: deps.tunnelStats.connect.snapshot(), upgrade: deps.tunnelStats.upgrade.snapshot() }),
    cacheStore: () => cache?.getCacheStats() ?? null,
  });
  return [
    // ── route: local endpoints first (stats/metrics/purge), then the forward proxy, then the reverse route ──
    ...(stats ? [stats.first] : []),
    ...(options.forward ? [createForwardFilter({ forward: options.forward, upstreamProxy: options.upstreamProxy, ...(options.forward.resolve ? { resolve: options.forward.resolve } : {}) })] : []),
    createReverseRouteFilter(options.upstreams),
    // ── requestFilter: auth, ?range=, limits ──
    createRangeParamFilter({ probe: createHeadSizeProbe(deps.client, options.upstreamTimeoutMs) }),
    // ── cache: wraps the upstream fetch ──
    // (cache and JWT modules are loaded only when enabled: together they cost ~22 MiB of RSS at idle)
    ...(options.cache !== null ? [import('../cache/create-cache.ts').then((m) => m.createCacheFilterFromOptions({ cache: options.cache!, cachePurgeToken: options.cachePurgeToken, forwarded: options.forwarded })).then((f) => (cache = f))] : []),
    // ── upstreamRequestFilter / upstreamResponseFilter: strip first … ──
    createHopByHopFilter(),
    // … then add: Via, X-Forwarded-*, X-Request-Id, JWT
    createForwardedFilter({ viaName: options.viaName, forwarded: options.forwarded }),
    createRequestIdFilter(),
    ...(options.jwt ? [import('./filters/jwt.ts').then((m) => m.createJwtFilter(options.jwt!))] : []),
    // ── logging ──
    createAccessLogFilter(),
    // ── last: the request inspector sees the response head as sent ──
    ...(stats?.last ? [stats.last] : []),
  ];
}

/** Only in forward mode with a deny list and no upstream proxy (which then makes the connections, not ferry). */
function guardedLookupFor(options: ProxyOptions): GuardedLookup | null {
  const forward = options.forward;
  if (!forward || forward.deny.length === 0 || options.upstreamProxy) return null;
  return createGuardedLookup(createDenyListFromOptions(forward), forward.resolve);
}

export function createProxy(init: ProxyInit | ProxyOptions): Proxy {
  const options = resolveProxyOptions(init);
  // --deny: every upstream socket resolves through the deny list, so the address connected to is one that was checked
  const lookup = guardedLookupFor(options);
  const client = createUpstreamClient({
    connectTimeoutMs: options.connectTimeoutMs,
    headersTimeoutMs: options.upstreamTimeoutMs,
    bodyTimeoutMs: options.idleTimeoutMs,
    maxHeaderBytes: options.maxHeaderBytes,
    upstreamProxy: options.upstreamProxy,
    // forward mode reaches any origin: bound the pool per origin and the number of origins (≤ 64 × 256 sockets)
    ...(options.forward ? { connectionsPerOrigin: 64, maxOrigins: 256 } : {}),
    ...(lookup ? { lookup } : {}),
  });
  const tunnelStats = { connect: createTunnelStats(), upgrade: createTunnelStats() };
  const tunnels = options.forward ? createConnectTunnels({
    connectPorts: options.forward.connectPorts,
    auth: createCredentialChecker(options.forward.credentials),
    deny: createDenyListFromOptions(options.forward),
    connectTimeoutMs: options.connectTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs,
    upstreamProxy: options.upstreamProxy,
    stats: tunnelStats.connect,
    log: options.log,
    ...(options.forward.resolve ? { resolve: options.forward.resolve } : {}),
  }) : null;
  const upgrades = createUpgradeRelays({
    filters: () => filters,
    log: options.log,
    upstreamProxy: options.upstreamProxy,
    connectTimeoutMs: options.connectTimeoutMs,
    upstreamTimeoutMs: options.upstreamTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs,
    viaName: options.viaName,
    stats: tunnelStats.upgrade,
    ...(lookup ? { lookup } : {}),
  });
  let run: ((req: IncomingMessage, res: ServerResponse) => void) | null = null;
  let filters: ProxyFilter[] = [];
  const ready = Promise.all(composeFilters(options, { client, tunnelStats })).then((list) => {
    filters = list;
    run = createPipeline({ filters: list, client, log: options.log, maxBodyBytes: options.maxBodyBytes, maxHeadersCount: options.maxHeadersCount });
  });
  ready.catch(() => { /* reported to whoever awaits ready(); requests get 500 */ });
  return {
    options,
    handler(req, res) {
      if (run) { run(req, res); return; }
      ready.then(() => run!(req, res), (err: unknown) => {
        options.log.error({ event: 'internal-error', err }, 'proxy filters failed to start');
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }).end('Internal Server Error\n');
      });
    },
    tunnelStats,
    destroyTunnels() {
      tunnels?.destroyAll();
      upgrades.destroyAll();
    },
    endStreams() {
      for (const f of filters) (f as ProxyFilter & { endStreams?: () => void }).endStreams?.();
    },
    upgrade(req, socket, head) {
      if (run) { upgrades.onUpgrade(req, socket, head); return; }
      ready.then(() => upgrades.onUpgrade(req, socket, head), () => socket.destroy());
    },
    connect(req, socket, head) {
      // CONNECT is a forward-proxy method: without --forward it is refused, never tunnelled (RFC 9110 §9.3.6).
      if (tunnels) { tunnels.onConnect(req, socket, head); return; }
      socket.end('HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    },
    ready: () => ready,
    async close() {
      tunnels?.destroyAll();
      upgrades.destroyAll();
      await client.close();
      for (const f of filters) {
        const closable = f as ProxyFilter & { close?: () => Promise<void> | void };
        if (typeof closable.close === 'function') await closable.close();
      }
    },
  };
}

export interface ProxyServer {
  server: Server;
  proxy: Proxy;
  /** Stop accepting, finish in-flight requests, close upstream pools. */
  close(): Promise<void>;
  /** Cut every connection (end of a shutdown grace period). */
  destroy(): void;
}

/** The proxy in ferry's hardened node:http server (strict parser, bounded heads, timeouts, --max-connections). */
export function createProxyServer(init: ProxyInit | ProxyOptions): ProxyServer {
  const proxy = createProxy(init);
  const { options } = proxy;
  const server = createHardenedServer(proxy.handler, {
    maxHeaderBytes: options.maxHeaderBytes,
    // one more than allowed, so that the pipeline sees the excess and answers 431 instead of Node truncating silently
    maxHeadersCount: options.maxHeadersCount + 1,
    headersTimeoutMs: options.headersTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs,
    log: options.log,
  });
  server.maxConnections = options.maxConnections;
  // Node's own missing-Host check answers 400 but still hands the requests pipelined behind it to the handler; the
  // pipeline's check (RFC 9112 §3.2) refuses it too and marks the connection closing, so nothing behind it is
  // forwarded (RELIABILITY S1, S13). Upgrades and CONNECT run the same check.
  (server as typeof server & { requireHostHeader: boolean }).requireHostHeader = false;
  // Once a request was refused with Connection: close, whatever else the parser finds on that socket is not a
  // request: end the connection quietly instead of answering it (RELIABILITY S13).
  const answerClientError = server.listeners('clientError') as Array<(err: Error, socket: Duplex) => void>;
  server.removeAllListeners('clientError');
  server.on('clientError', (err: Error, socket: Duplex) => {
    abortInFlight(socket);
    if (isClosing(socket)) { socket.end(); return; }
    for (const l of answerClientError) l.call(server, err, socket);
  });
  // Without this listener Node answers 100 Continue itself before the upstream was even asked (RELIABILITY S13).
  server.on('checkContinue', proxy.handler);
  server.on('upgrade', proxy.upgrade);
  server.on('connect', proxy.connect);
  return {
    server,
    proxy,
    async close() {
      proxy.endStreams();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await proxy.close();
    },
    destroy() {
      server.closeAllConnections();
      proxy.destroyTunnels();
    },
  };
}
