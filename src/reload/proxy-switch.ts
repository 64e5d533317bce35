/**
 * @module The reloadable proxy: one Proxy per configuration generation behind fixed entry points. A request is
 * handed to the generation that is current when it is accepted and finishes there (its filters, routes, limits and
 * upstream pool); a reload builds the next generation and swaps it in for new requests; the previous one is closed
 * (its upstream connections drained: undici closes a pool once its requests are done) when its last request or
 * tunnel has ended. Statistics and tunnel counters belong to the switch and outlive every generation; the JWT key
 * ring and the cache store are carried over while their options stay the same (create-proxy.ts ProxyShared).
 * Whatever else a generation is built from (routes, pools with their health checks) lives and dies with it: its
 * close() is called once the generation is drained; what the pools knew of targets the next one keeps (their health)
 * is handed on by URL (proxy/routing/routing.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { createProxy, type Proxy, type ProxyShared } from '../proxy/create-proxy.ts';
import type { ProxyOptions } from '../proxy/options.ts';
import { createStatsFilters, type StatsFilters } from '../stats/stats-filters.ts';
import { createTunnelStats } from '../proxy/tunnel/tunnel-stats.ts';

/** Which configuration is running: /stats `config`, the reload log lines. */
export interface ConfigInfo {
  generation: number;
  /** ISO time the generation started serving. */
  loadedAt: string;
  /** The --config file it was read from; null when there is none (flags and environment only). */
  file: string | null;
}

interface Generation { info: ConfigInfo; proxy: Proxy; inFlight: number; retiring: boolean }

const GENERATION = Symbol('ferry.generation');
type Tagged = { [GENERATION]?: Generation };

export interface ProxySwitch extends Proxy {
  readonly config: ConfigInfo;
  /** The statistics shared by every generation (null when both stats paths are ""): the admin listener serves them. */
  readonly stats: StatsFilters | null;
  /**
   * Build the next generation from `options` and make it current once its filters are ready. Rejects, with the
   * current generation untouched, when they fail to start (a refused key file, a cache store that cannot open).
   */
  swap(options: ProxyOptions, file: string | null): Promise<ConfigInfo>;
  /** Generations still draining (tests and logs). */
  draining(): number;
}

export interface SwitchOptions {
  file: string | null;
  /** An admin listener serves /stats, /metrics and purge: the proxy listener forwards those paths. */
  adminListener: boolean;
  /** Told when a drained generation has been closed. */
  onRetired?: (info: ConfigInfo) => void;
}

/** The carried parts (key files, stores) these generations use: closing another generation leaves them open. */
function carriedValues(generations: Iterable<Generation>): Set<Promise<unknown>> {
  const keep = new Set<Promise<unknown>>();
  for (const g of generations) for (const c of g.proxy.carried.values()) keep.add(c.value);
  return keep;
}

// Long by design: the factory's body is the switch object (each method a line or a few, forwarding to the current
// generation) around the generations and their in-flight counts, which only this closure may change.
export function createProxySwitch(first: ProxyOptions, opts: SwitchOptions): ProxySwitch {
  const tunnelStats = { connect: createTunnelStats(), upgrade: createTunnelStats() };
  let current: Generation;
  const live = new Set<Generation>();
  const stats = createStatsFilters(first, {
    tunnels: () => ({ connect: tunnelStats.connect.snapshot(), upgrade: tunnelStats.upgrade.snapshot() }),
    cacheStore: () => current.proxy.cacheFilter()?.getCacheStats() ?? null,
    config: () => ({ ...current.info, pid: process.pid }),
    routing: () => current.proxy.routing.snapshot(),
    ...(opts.adminListener ? { answer: { statsPath: '', metricsPath: '' } } : {}),
  });
  const shared = (previous?: Proxy): ProxyShared => ({
    stats, tunnelStats, purgeElsewhere: opts.adminListener, ...(previous ? { previous: previous.carried, previousRouting: previous.routing } : {}),
  });
  const make = (options: ProxyOptions, file: string | null, n: number, previous?: Proxy): Generation => ({
    info: { generation: n, loadedAt: new Date().toISOString(), file },
    proxy: createProxy(options, shared(previous)),
    inFlight: 0,
    retiring: false,
  });
  current = make(first, opts.file, 1);
  live.add(current);

  const retireIfDrained = (g: Generation): void => {
    if (g === current || g.inFlight > 0 || g.retiring) return;
    g.retiring = true;
    // carried parts that a live generation still uses stay open
    g.proxy.close(carriedValues([...live].filter((other) => other !== g))).catch((err: unknown) => g.proxy.options.log.warn({ event: 'config-retire', generation: g.info.generation, err }, 'closing a drained configuration failed'))
      .finally(() => { live.delete(g); opts.onRetired?.(g.info); });
  };
  /** Ends a request's (or tunnel's) count on its generation, which `enter` left on the emitter. */
  function leave(this: Tagged): void {
    const g = this[GENERATION]!;
    g.inFlight--;
    retireIfDrained(g);
  }
  /**
   * Count the request (or tunnel) on the generation it starts on until `emitter` closes. One listener shared by all
   * requests, the generation kept on the emitter (issue 18: no closure and no `once` wrapper per request); `on`
   * suffices: a ServerResponse, an h2 stream's response and a socket each emit 'close' once.
   */
  const enter = (emitter: { on(event: 'close', fn: (this: Tagged) => void): unknown }): Generation => {
    const g = current;
    g.inFlight++;
    (emitter as Tagged)[GENERATION] = g;
    emitter.on('close', leave);
    return g;
  };

  return {
    get options() { return current.proxy.options; },
    get config() { return current.info; },
    stats,
    get tunnelStats() { return tunnelStats; },
    get carried() { return current.proxy.carried; },
    get routing() { return current.proxy.routing; },
    buildRouting: (config) => current.proxy.buildRouting(config),
    swapRouting: (next) => current.proxy.swapRouting(next),
    handler(req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) {
      enter(res).proxy.handler(req, res, next);
    },
    takes: (req) => current.proxy.takes(req),
    upgrade(req: IncomingMessage, socket: Duplex, head: Buffer) { enter(socket).proxy.upgrade(req, socket, head); },
    connect(req: IncomingMessage, socket: Duplex, head: Buffer) { enter(socket).proxy.connect(req, socket, head); },
    ready: () => current.proxy.ready(),
    reload: () => current.proxy.reload(),
    cacheFilter: () => current.proxy.cacheFilter(),
    unhealthyPools: () => current.proxy.unhealthyPools(),
    destroyTunnels() { for (const g of live) g.proxy.destroyTunnels(); },
    endStreams() { current.proxy.endStreams(); },
    async swap(options, file) {
      const next = make(options, file, current.info.generation + 1, current.proxy);
      try {
        await next.proxy.ready();
        await next.proxy.reload(); // carried key files are re-read (a new key signs at once, the old one stays in the JWKS)
      } catch (err) {
        await next.proxy.close(carriedValues([current])).catch(() => {});
        throw err;
      }
      const before = current;
      current = next;
      live.add(next);
      retireIfDrained(before);
      return next.info;
    },
    draining: () => live.size - 1,
    async close() {
      // oldest first; a carried part is closed once, by the last generation that uses it
      const all = [...live];
      live.clear();
      for (const [i, g] of all.entries()) {
        await g.proxy.close(carriedValues(all.slice(i + 1)));
      }
      if (stats) for (const f of [stats.first, stats.last]) (f as { close?: () => void } | null)?.close?.();
    },
  };
}
