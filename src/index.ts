/** @module ferry as a library: the same roles the CLI runs, for embedding. */
export type { HeaderList } from './http/headers.ts';
export type { RequestHead, ResponseHead, LocalReply, PhaseResult, ProxyFilter, ProxiedResponse, Fetch } from './proxy/phases.ts';
export type { RequestContext, UpstreamTarget } from './proxy/context.ts';
export type { ProxyOptions } from './proxy/options.ts';
export { FerryError, UsageError } from './errors.ts';
export { createOrigin, type Origin, type OriginOptions } from './origin/create-origin.ts';
export { createProxy, createProxyServer, type Proxy, type ProxyServer } from './proxy/create-proxy.ts';
export { resolveProxyOptions, type ProxyInit } from './proxy/options.ts';
export type { JwtOptions } from './proxy/options.ts';
export { createJwtSigner, type JwtSigner } from './proxy/filters/jwt.ts';
export { parseRangeParam, type RangeParam } from './http/range-param.ts';
export type { StatsSnapshot } from './stats/counters.ts';
export { createCacheFilter, type CacheFilter, type CacheFilterOptions, type CacheStats } from './cache/cache-filter.ts';
export { createStore } from './cache/create-cache.ts';
export { parseStoreSpec, type CacheStore, type StoreSpec } from './cache/store.ts';
