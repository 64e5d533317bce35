/**
 * @module createProxy: options → filter list → pipeline, plus the server factory. The filter list is composed in ONE
 * place (composeFilters below); a feature adds one line there.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { createHardenedServer } from '../server/http-server.ts';
import { attachH2c, connectDispatcher } from '../server/h2-server.ts';
import type { TlsListenerOptions } from '../server/tls-listener.ts';
import { enterH2Connect, isH2Connect } from './h2-entry.ts';
import { createStatsFilters, type StatsFilters } from '../stats/stats-filters.ts';
import { createAccessLogFilter } from './filters/access-log.ts';
import { createForwardedFilter } from './filters/forwarded.ts';
import { createHopByHopFilter } from './filters/hop-by-hop.ts';
import { createHeadSizeProbe, createRangeParamFilter } from './filters/range-param.ts';
import { createRequestIdFilter } from './filters/request-id.ts';
import { createPoolRouteFilter } from './filters/pool-route.ts';
import { createRouting, type Routing } from './routing/routing.ts';
import { defaultRouting, type RoutingConfig } from './routing/routing-config.ts';
import { resolveProxyOptions, type ProxyInit, type ProxyOptions } from './options.ts';
import type { ProxyFilter } from './phases.ts';
import { createPipeline, type Pipeline } from './pipeline.ts';
import { acceptHooks } from '../server/connection.ts';
import { createUpstreamClient, type UpstreamClient } from './upstream-client.ts';
import { createCredentialChecker } from './forward/basic-auth.ts';
import { createDenyListFromOptions, createForwardFilter } from './forward/forward-filter.ts';
import { createH2ForwardTargetFilter } from './forward/h2-forward-target.ts';
import { createConnectBody, createConnectFilter, type ConnectBody } from './tunnel/connect-tunnel.ts';
import { createDenyList } from './forward/cidr.ts';
import { createGuardedLookup, type GuardedLookup } from './forward/destination.ts';
import { createTunnelStats, type TunnelStats } from './tunnel/tunnel-stats.ts';
import type { CacheFilter } from '../cache/cache-filter.ts';
import { createUpgradeBody, type UpgradeBody } from './upgrade.ts';
import { writeRawReply, writeReply } from '../server/reply-writer.ts';
import type { HeaderList } from '../http/headers.ts';
import { compilePathFilter } from './embed/path-filter.ts';
import { earlyViews, lateViews } from './embed/user-filters.ts';
import { carry, jwtKey, withoutRoute, type Carried } from './generation-carry.ts';

export interface Proxy {
  readonly options: ProxyOptions;
  /**
   * Request handler for node:http, Express/Connect middleware (`app.use(proxy.handler)`) or Fastify (`reply.hijack()`
   * first). With a `next`, requests outside `pathFilter` go to `next()`; without one, they get 404.
   */
  handler(req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): void;
  /** Whether `pathFilter` takes this request (always true without one): for hosts that must decide first (Fastify). */
  takes(req: IncomingMessage): boolean;
  /** `server.on('upgrade', proxy.upgrade)` */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** `server.on('connect', proxy.connect)` */
  connect(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Resolves when the filters (some load keys or open stores) are ready; requests before that wait. */
  ready(): Promise<void>;
  /**
   * Re-read what filters load from files (the JWT key: a new key signs at once, the old one stays in the JWKS for
   * the rotation grace). The CLI calls it on SIGHUP. Resolves when done; a refused file is logged, not thrown.
   */
  reload(): Promise<void>;
  /** The routes and pools in use (proxy/routing/routing.ts). */
  readonly routing: Routing;
  /**
   * Put a new Routing in place for new requests; requests in flight finish on the one they started with. Returns the
   * previous one: the caller closes it (stops its health checks) when it likes. (`ferry proxy` reloads swap whole
   * generations instead: src/reload/proxy-switch.ts.)
   */
  swapRouting(next: Routing): Routing;
  /** A Routing for `config` built as this proxy builds its own (same timeouts). */
  buildRouting(config: RoutingConfig): Routing;
  /** Close pooled upstream connections, health checks and filter resources (but the carried values in `keep`). */
  close(keep?: ReadonlySet<Promise<unknown>>): Promise<void>;
  /** CONNECT tunnels and upgraded (WebSocket) connections: open, total, bytes (read by stats and tests). */
  readonly tunnelStats: { connect: TunnelStats; upgrade: TunnelStats };
  /** Cut every CONNECT tunnel and upgraded connection (they are not HTTP connections the server can close). */
  destroyTunnels(): void;
  /** End responses that never end by themselves (the dashboard's event streams), at the start of a graceful close. */
  endStreams(): void;
  /** The cache filter once it exists (null without --cache): /stats reads its store size, the admin listener its purge. */
  cacheFilter(): CacheFilter | null;
  /** Pools without a healthy target, from every filter that can tell (`unhealthyPools()`): /readyz answers 503 with them. */
  unhealthyPools(): string[];
  /** Filters this proxy may hand on to the next configuration generation (see ProxyShared.previous). */
  readonly carried: ReadonlyMap<string, Carried>;
}

/**
 * What a configuration generation shares with the one before it (src/reload/proxy-switch.ts builds one proxy per
 * generation). Without it (the library's createProxy), every part is the proxy's own.
 */
export interface ProxyShared {
  /** Statistics that outlive a reload; owned by the caller: never closed by this proxy. null: no statistics filter. */
  stats?: StatsFilters | null;
  tunnelStats?: FilterDeps['tunnelStats'];
  /**
   * The previous generation's carried filters: reused when their key (the options they were built from) is the same,
   * so a reload keeps the JWT key ring (and its rotation grace, docs/features.md) and the cache's store.
   */
  previous?: ReadonlyMap<string, Carried>;
  /** The Routing of the previous generation: targets kept by a reload keep their health (proxy/routing/routing.ts). */
  previousRouting?: Routing;
  /** The purge endpoint is served on the admin listener: the proxy listener forwards purge requests like any other. */
  purgeElsewhere?: boolean;
}

/** Shared things a filter may need beside the options. */
export interface FilterDeps {
  client: UpstreamClient;
  tunnelStats: { connect: TunnelStats; upgrade: TunnelStats };
  shared?: ProxyShared;
  /** Set once the cache filter exists. */
  cache?: CacheFilter | null;
  /** Where composeFilters records what it built (or reused) for the next generation. */
  carried?: Map<string, Carried>;
  /** The Routing in use now (swapped by swapRouting). */
  routing: () => Routing;
}

/**
 * THE FILTER LIST. Order matters within each phase: route and requestFilter run top to bottom; `cache` phases nest
 * (first outermost); upstreamRequestFilter runs top to bottom, so hop-by-hop removal comes BEFORE every filter that
 * adds a field (RELIABILITY S7: strip first, then add). Add one line for your feature at the marked spot.
 */
function composeFilters(options: ProxyOptions, deps: FilterDeps): Array<ProxyFilter | Promise<ProxyFilter>> {
  // (cache and JWT modules are loaded only when enabled: together they cost ~22 MiB of RSS at idle)
  const jwt = options.jwt ? carry(deps.shared?.previous, deps.carried, 'jwt', jwtKey(options.jwt), () => import('./filters/jwt.ts').then((m) => m.createJwtFilters(options.jwt!, { log: options.log })), (j) => [j.jwks, j.sign]) : null;
  const cacheKeyed = JSON.stringify([options.cache, options.cachePurgeToken, options.forwarded]);
  const cacheFilter = options.cache !== null
    ? carry(deps.shared?.previous, deps.carried, 'cache', cacheKeyed, () => import('../cache/create-cache.ts').then((m) => m.createCacheFilterFromOptions({ cache: options.cache!, cachePurgeToken: options.cachePurgeToken, forwarded: options.forwarded })), (f) => [f])
    : null;
  // the cache filter reports its store's size to the stats once it exists
  const stats = deps.shared?.stats !== undefined ? deps.shared.stats : createStatsFilters(options, {
    tunnels: () => ({ connect: deps.tunnelStats.connect.snapshot(), upgrade: deps.tunnelStats.upgrade.snapshot() }),
    cacheStore: () => deps.cache?.getCacheStats() ?? null,
    routing: () => deps.routing().snapshot(),
  });
  return [
    // ── route: local endpoints first (JWKS, stats/metrics/purge), then the forward proxy, then the reverse route ──
    // an h2 request for another authority becomes absolute-form first, so only requests aimed at ferry reach its endpoints
    ...(options.forward ? [createH2ForwardTargetFilter()] : []),
    // the JWKS comes before stats, which then leaves it out of the counts, like /stats itself
    ...(jwt ? [jwt.then((j) => j.jwks)] : []),
    ...(stats ? [stats.first] : []),
    // CONNECT's own route (target, proxy auth, port) before the forward route, which would read `http://…` as absolute-form
    ...(options.forward ? [createConnectFilter({ connectPorts: options.forward.connectPorts, auth: createCredentialChecker(options.forward.credentials) })] : []),
    ...(options.forward ? [createForwardFilter({ forward: options.forward, upstreamProxy: options.upstreamProxy, ...(options.forward.resolve ? { resolve: options.forward.resolve } : {}) })] : []),
    // your filters' route/requestFilter/cache phases (createProxy({ filters })): they may answer or choose ctx.upstream
    ...earlyViews(options.filters),
    // routes → pool → first target (docs/routing.md); --upstream alone is the pool `default`
    createPoolRouteFilter(deps.routing),
    // ── requestFilter: auth, ?range=, limits ──
    createRangeParamFilter({ probe: createHeadSizeProbe(deps.client, options.upstreamTimeoutMs) }),
    // ── cache: wraps the upstream fetch ──
    ...(cacheFilter ? [cacheFilter.then((f) => { deps.cache = f; return deps.shared?.purgeElsewhere ? withoutRoute(f) : f; })] : []),
    // ── upstreamRequestFilter / upstreamResponseFilter: strip first … ──
    createHopByHopFilter(),
    // … then add: Via, X-Forwarded-*, X-Request-Id, JWT
    createForwardedFilter({ viaName: options.viaName, forwarded: options.forwarded }),
    createRequestIdFilter(),
    ...(jwt ? [jwt.then((j) => j.sign)] : []),
    // your filters' later phases, after ferry's own edits (so hop-by-hop stripping cannot remove what they add)
    ...lateViews(options.filters),
    // ── logging ──
    createAccessLogFilter(),
    // ── last: the request inspector sees the response head as sent ──
    ...(stats?.last ? [stats.last] : []),
  ];
}

const CONNECT_NOT_ALLOWED = {
  status: 405,
  headers: [['Allow', 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS'], ['Connection', 'close'], ['Content-Length', '0']] as HeaderList,
  body: '',
};

/**
 * Only in forward mode with a deny list, or with the `resolve` option, and no upstream proxy (which then makes the
 * connections, not ferry). Either way the lookup answers every address, which net.connect tries in turn
 * (autoSelectFamily): a name whose first address refuses falls over to the next.
 */
function guardedLookupFor(options: ProxyOptions): GuardedLookup | null {
  // (with `--upstream-proxy env`, targets NO_PROXY names are connected directly: those keep the guarded lookup)
  if (options.upstreamProxy instanceof URL) return null;
  const forward = options.forward;
  if (forward && forward.deny.length > 0) return createGuardedLookup(createDenyListFromOptions(forward), forward.resolve ?? options.resolve);
  return options.resolve ? createGuardedLookup(createDenyList([]), options.resolve) : null;
}

/** How ferry reaches upstreams: the HTTP client pool, and the bodies of upgrades and CONNECT tunnels. */
function createTransports(options: ProxyOptions, shared?: ProxyShared): { client: UpstreamClient; tunnelStats: FilterDeps['tunnelStats']; tunnels: ConnectBody | null; upgrades: UpgradeBody } {
  // --deny: every upstream socket resolves through the deny list, so the address connected to is one that was checked
  const lookup = guardedLookupFor(options);
  const client = createUpstreamClient({
    connectTimeoutMs: options.connectTimeoutMs,
    headersTimeoutMs: options.upstreamTimeoutMs,
    bodyTimeoutMs: options.idleTimeoutMs,
    maxHeaderBytes: options.maxHeaderBytes,
    upstreamProxy: options.upstreamProxy,
    ...(options.upstreamTls ? { tls: options.upstreamTls } : {}),
    // forward mode reaches any origin: bound the pool per origin and the number of origins (≤ 64 × 256 sockets)
    ...(options.forward ? { connectionsPerOrigin: 64, maxOrigins: 256 } : {}),
    ...(lookup ? { lookup } : {}),
    ...(options.upstreamH2 ? { allowH2: true } : {}),
  });
  const tunnelStats = shared?.tunnelStats ?? { connect: createTunnelStats(), upgrade: createTunnelStats() };
  const tunnels = options.forward ? createConnectBody({
    connectPorts: options.forward.connectPorts,
    auth: createCredentialChecker(options.forward.credentials),
    deny: createDenyListFromOptions(options.forward),
    connectTimeoutMs: options.connectTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs,
    upstreamProxy: options.upstreamProxy,
    stats: tunnelStats.connect,
    log: options.log,
    ...(options.forward.resolve ?? options.resolve ? { resolve: (options.forward.resolve ?? options.resolve)! } : {}),
  }) : null;
  const upgrades = createUpgradeBody({
    upstreamProxy: options.upstreamProxy,
    connectTimeoutMs: options.connectTimeoutMs,
    upstreamTimeoutMs: options.upstreamTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs,
    viaName: options.viaName,
    stats: tunnelStats.upgrade,
    ...(lookup ? { lookup } : {}),
    ...(options.upstreamTls ? { tls: options.upstreamTls } : {}),
  });
  return { client, tunnelStats, tunnels, upgrades };
}

// Long by design: the factory's body is the Proxy object (each method a few lines) around one pipeline, its filters
// and its routing, which a reload swaps and only this closure may change.
export function createProxy(init: ProxyInit | ProxyOptions, shared?: ProxyShared): Proxy {
  const options = resolveProxyOptions(init);
  const { client, tunnelStats, tunnels, upgrades } = createTransports(options, shared);
  let pipeline: Pipeline | null = null;
  let filters: ProxyFilter[] = [];
  // a reload's generation starts from what the previous one knew of the targets both have (their health)
  let routing = createRouting(options.routing ?? defaultRouting(options.upstreams), { log: options.log, ...(shared?.previousRouting ? { previous: shared.previousRouting } : {}) });
  const carried = new Map<string, Carried>();
  const deps: FilterDeps = { client, tunnelStats, carried, routing: () => routing, ...(shared ? { shared } : {}) };
  const ready = Promise.all(composeFilters(options, deps)).then((list) => {
    filters = list;
    pipeline = createPipeline({
      filters: list, client, log: options.log, maxBodyBytes: options.maxBodyBytes, maxHeadersCount: options.maxHeadersCount,
      onBodyBytes: options.onBodyBytes, upgradeBody: upgrades, connectBody: tunnels,
    });
  });
  ready.catch(() => { /* reported to whoever awaits ready(); requests get 500 */ });
  const takes = compilePathFilter(options.pathFilter);
  const self: Proxy = {
    options,
    takes,
    handler(req, res, next) {
      // CONNECT on an h2 stream (RFC 9113 §8.5, RFC 8441): the stream is the raw entry's socket
      if (isH2Connect(req)) { enterH2Connect(req, res, self); return; }
      if (options.pathFilter !== undefined && !takes(req)) {
        if (next) next();
        else writeReply(res, { status: 404, headers: [['content-type', 'text/plain; charset=utf-8']], body: 'Not Found\n' });
        return;
      }
      if (pipeline) { pipeline.request(req, res); return; }
      ready.then(() => pipeline!.request(req, res), (err: unknown) => {
        options.log.error({ event: 'internal-error', err }, 'proxy filters failed to start');
        writeReply(res, { status: 500, headers: [['content-type', 'text/plain; charset=utf-8'], ['connection', 'close']], body: 'Internal Server Error\n' });
      });
    },
    tunnelStats,
    get routing() { return routing; },
    buildRouting: (config) => createRouting(config, { log: options.log, previous: routing }),
    swapRouting(next) {
      const previous = routing;
      routing = next;
      return previous;
    },
    destroyTunnels() {
      tunnels?.destroyAll();
      upgrades.destroyAll();
    },
    endStreams() {
      for (const f of filters) (f as ProxyFilter & { endStreams?: () => void }).endStreams?.();
    },
    upgrade(req, socket, head) {
      if (pipeline) { pipeline.upgrade(req, socket, head); return; }
      ready.then(() => pipeline!.upgrade(req, socket, head), () => socket.destroy());
    },
    connect(req, socket, head) {
      // CONNECT is a forward-proxy method: without --forward it is refused, never tunnelled (RFC 9110 §9.3.6).
      if (!tunnels) {
        options.log.info({ event: 'client-error', method: 'CONNECT', target: req.url, status: 405, clientAddress: req.socket.remoteAddress, reason: 'CONNECT needs --forward' }, 'rejected request');
        writeRawReply(socket, CONNECT_NOT_ALLOWED);
        return;
      }
      if (pipeline) { pipeline.connect(req, socket, head); return; }
      ready.then(() => pipeline!.connect(req, socket, head), () => socket.destroy());
    },
    ready: () => ready,
    async reload() {
      await ready;
      for (const f of filters) {
        const reloadable = f as ProxyFilter & { reload?: () => Promise<unknown> };
        if (typeof reloadable.reload === 'function') await reloadable.reload();
      }
    },
    cacheFilter: () => deps.cache ?? null,
    unhealthyPools() {
      return [...routing.unhealthyPools(), ...filters.flatMap((f) => (f as ProxyFilter & { unhealthyPools?: () => string[] }).unhealthyPools?.() ?? [])];
    },
    carried,
    /** `keep`: carried values the next generation uses (not closed); shared statistics are never closed here. */
    async close(keep: ReadonlySet<Promise<unknown>> = new Set()) {
      tunnels?.destroyAll();
      upgrades.destroyAll();
      await routing.close(1_000); // its requests have finished by now (the server's close, or the switch's drain)
      await client.close();
      const skip = new Set<unknown>(shared?.stats ? [shared.stats.first, shared.stats.last] : []);
      for (const c of carried.values()) if (keep.has(c.value)) for (const f of await c.filters) skip.add(f);
      for (const f of filters) {
        if (skip.has(f) || skip.has(Object.getPrototypeOf(f))) continue;
        const closable = f as ProxyFilter & { close?: () => Promise<void> | void };
        if (typeof closable.close === 'function') await closable.close();
      }
    },
  };
  return self;
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
  return serveProxy(createProxy(init));
}

/**
 * Any Proxy (one, or the reloadable switch of src/reload/proxy-switch.ts) in ferry's hardened server: over TLS
 * (server/tls-listener.ts, h2 and http/1.1 by ALPN) when `tls` is given — by default the proxy's own `tls` option.
 */
export function serveProxy(proxy: Proxy, tls: TlsListenerOptions | null = proxy.options.tls): ProxyServer {
  const { options } = proxy;
  const server = createHardenedServer(proxy.handler, {
    maxHeaderBytes: options.maxHeaderBytes,
    headersTimeoutMs: options.headersTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs,
    log: options.log,
    ...(tls ? { tls } : {}),
    // The accept step shared with the relay client: the head check sees one field too many (431) and answers a
    // missing Host itself, so nothing pipelined behind a refusal is forwarded; a parse error cancels the requests in
    // flight on its connection (RELIABILITY S1, S13). Upgrades and CONNECT run the same head check.
    ...acceptHooks(options.maxHeadersCount),
  });
  server.maxConnections = options.maxConnections;
  // Without this listener Node answers 100 Continue itself before the upstream was even asked (RELIABILITY S13).
  server.on('checkContinue', proxy.handler);
  server.on('upgrade', proxy.upgrade);
  // on a TLS listener with h2, an h2 CONNECT also comes as 'connect', with a (req, res) pair: the runner takes those
  server.on('connect', connectDispatcher(proxy.handler, proxy.connect));
  // --h2c: HTTP/2 with prior knowledge on this same (cleartext) listener, into the same handler
  const h2c = options.h2c && !tls ? attachH2c(server, proxy, { idleTimeoutMs: options.idleTimeoutMs, maxHeaderBytes: options.maxHeaderBytes, maxConcurrentStreams: options.h2MaxConcurrentStreams, log: options.log }) : null;
  return {
    server,
    proxy,
    async close() {
      proxy.endStreams();
      h2c?.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await proxy.close();
    },
    destroy() {
      h2c?.destroy();
      server.closeAllConnections();
      proxy.destroyTunnels();
    },
  };
}
