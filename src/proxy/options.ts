/**
 * @module ProxyOptions: every option of `createProxy`, typed, with the defaults the CLI flags show.
 * Each feature owns the validation of its own group (see the filter modules); `resolveProxyOptions` runs them once.
 */
import type { UpstreamTls } from './upstream-tls.ts';
import type { TlsListenerOptions } from '../server/tls-listener.ts';
import { FerryError } from '../errors.ts';
import { isToken } from '../http/grammar.ts';
import { DEFAULT_HEADERS_TIMEOUT_MS, DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_MAX_HEADER_BYTES, DEFAULT_MAX_HEADERS_COUNT } from '../server/http-server.ts';
import { createSilentLogger, type Logger } from '../server/logger.ts';
import type { Resolver } from './forward/destination.ts';
import { validatePathFilter, type PathFilter } from './embed/path-filter.ts';
import { validateUserFilters } from './embed/user-filters.ts';
import type { ProxyFilter } from './phases.ts';
import type { JwtAlgorithm } from '../http/jwt-claims.ts';
import type { RoutingConfig } from './routing/routing-config.ts';
import type { UpstreamProxySetting } from './env-proxy.ts';

export interface JwtOptions {
  /** HS256/384/512: raw key bytes (never derived from a password; RFC 8725 §3.5). */
  secret?: Uint8Array;
  /**
   * RS256/PS256/ES256/EdDSA: PEM private key file (PKCS#8 or traditional). Re-read by `proxy.reload()` and, unless
   * `watchKeyFile` is false, when the file changes; the previous public key stays in the JWKS for rotationGraceMs.
   */
  keyFile?: string;
  /** RS256/…: the PEM private key itself, when there is no file (no reloads then). */
  privateKey?: string;
  header: string;
  alg: JwtAlgorithm;
  user: string;
  extraClaims: Record<string, unknown>;
  /** exp = iat + ttlSeconds and nbf = iat (RFC 7519 §4.1.4–4.1.5); unset: no exp/nbf. */
  ttlSeconds?: number;
  /** iss (RFC 7519 §4.1.1). */
  issuer?: string;
  /** aud (RFC 7519 §4.1.3). */
  audience?: string | readonly string[];
  /** How long a rotated-out public key stays in the JWKS (default 10 minutes). */
  rotationGraceMs?: number;
  /** Reload keyFile when it changes (default true). */
  watchKeyFile?: boolean;
}

export interface ForwardOptions {
  connectPorts: number[];
  /** Accepted USER:PASS pairs; empty = no proxy authentication. */
  credentials: Array<{ user: string; pass: string }>;
  /** CIDR ranges that may not be reached. */
  deny: string[];
  allowOpen: boolean;
  /** DNS for the deny checks and for the connections they guard (default: the system resolver, dns.lookup). */
  resolve?: Resolver;
}

export interface ProxyOptions {
  /** Reverse-proxy targets: the pool `default` (round robin; docs/routing.md); empty = none. */
  upstreams: URL[];
  /**
   * Routes and pools (config file sections `routes`, `pools`, `pool-defaults`; proxy/routing/routing-config.ts).
   * null: the upstreams alone, as pool `default` with the default retry and health settings.
   */
  routing: RoutingConfig | null;
  /**
   * DNS for upstream connections (library only; default the system resolver). Every address is tried in order on a
   * connection failure (docs/reliability.md "DNS"); tests resolve names to several loopback addresses with it.
   */
  resolve?: Resolver;
  /** Accept absolute-form requests and CONNECT. */
  forward: ForwardOptions | null;
  /** Send RFC 7239 Forwarded instead of X-Forwarded-*. */
  forwarded: boolean;
  upstreamTimeoutMs: number;
  connectTimeoutMs: number;
  maxHeaderBytes: number;
  maxHeadersCount: number;
  /** null = unlimited. */
  maxBodyBytes: number | null;
  headersTimeoutMs: number;
  idleTimeoutMs: number;
  maxConnections: number;
  /** '' disables. */
  statsPath: string;
  metricsPath: string;
  jwt: JwtOptions | null;
  /** Store spec as on the command line (`memory:64MiB`, `disk:/var/cache/ferry`, `redis://…`); null = no cache. */
  cache: string | null;
  cachePurgeToken: string | null;
  /** --upstream-proxy: one proxy URL, the environment's choice per target (`env`, proxy/env-proxy.ts), or none. */
  upstreamProxy: UpstreamProxySetting;
  /** Outgoing TLS settings (proxy/upstream-tls.ts); null: verify against the default CAs. */
  upstreamTls: UpstreamTls | null;
  /** Listen over TLS (server/tls-listener.ts); null: cleartext. */
  tls: TlsListenerOptions | null;
  /** `--h2c`: the plain listener also takes cleartext HTTP/2 with prior knowledge (server/h2-server.ts). */
  h2c: boolean;
  /** `--h2-max-concurrent-streams` for the --h2c listener (the TLS listener's is in `tls`); default 100. */
  h2MaxConcurrentStreams: number;
  /** `--upstream-h2`: offer HTTP/2 (ALPN h2) to HTTPS upstreams (undici allowH2). */
  upstreamH2: boolean;
  /** The pseudonym in Via (RFC 9110 §7.6.3). */
  viaName: string;
  /**
   * The dashboard's request inspector (src/stats/inspector.ts): how many finished requests it keeps and which header
   * fields it shows as `[redacted]` beside Authorization, Proxy-Authorization, Cookie, Set-Cookie and the JWT header
   * (`jwtHeader`: the name used when signing is off). null turns it off.
   */
  inspector: { size: number; redactHeaders: string[]; jwtHeader: string } | null;
  log: Logger;
  /**
   * Called with the size of every body chunk relayed (both directions). The library does nothing with body sizes on
   * its own; the CLI installs a scavenge pacer here (server/scavenge-pacer.ts). An embedding process keeps its own
   * heap behaviour unless it asks for the same.
   */
  onBodyBytes: ((bytes: number) => void) | null;
  /** Your own filters, run in the documented places among ferry's (docs/library.md, proxy/embed/user-filters.ts). */
  filters: readonly ProxyFilter[];
  /** As middleware (`handler(req, res, next)`): the requests this proxy takes; the others go to `next()`. */
  pathFilter: PathFilter | undefined;
}

export const DEFAULT_UPSTREAM_TIMEOUT_MS = 30_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_CONNECTIONS = 10_000;
export const DEFAULT_VIA_NAME = 'ferry';
export const DEFAULT_JWT_HEADER = 'x-my-jwt';
export const DEFAULT_JWT_USER = 'username';
export const DEFAULT_JWT_ROTATION_GRACE_MS = 10 * 60_000;
export const DEFAULT_STATS_PATH = '/stats';
export const DEFAULT_METRICS_PATH = '/metrics';
export const DEFAULT_INSPECTOR_SIZE = 200;

/** What `createProxy` accepts: every field optional (defaults as the CLI flags), upstreams as strings or URLs. */
export type ProxyInit = Partial<Omit<ProxyOptions, 'upstreams' | 'inspector'>> & {
  inspector?: Partial<NonNullable<ProxyOptions['inspector']>> | null;
  /** One upstream (shorthand for `upstreams: [x]`). */
  upstream?: string | URL;
  upstreams?: Array<string | URL>;
};

/** Fill in the defaults and validate once; a bad value is a FerryError (source config) naming the option. */
export function resolveProxyOptions(init: ProxyInit): ProxyOptions {
  const bad = (what: string): never => { throw new FerryError('FERRY_ERR_CONFIG', `invalid proxy option: ${what}`, { source: 'config' }); };
  const upstreams = [...(init.upstream !== undefined ? [init.upstream] : []), ...(init.upstreams ?? [])].map((u) => {
    let url: URL;
    try { url = typeof u === 'string' ? new URL(u) : u; } catch { return bad(`upstream "${String(u)}" is not a URL`); }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') bad(`upstream ${url.href} must be http:// or https://`);
    if (url.search !== '' || url.hash !== '') bad(`upstream ${url.href} may not have a query or fragment`);
    return url;
  });
  const positive = (name: string, v: number | undefined, dflt: number): number => {
    const x = v ?? dflt;
    if (!Number.isFinite(x) || x <= 0) bad(`${name} must be a positive number`);
    return x;
  };
  const maxBody = init.maxBodyBytes ?? null;
  if (maxBody !== null && (!Number.isFinite(maxBody) || maxBody < 0)) bad('maxBodyBytes must be a size in bytes');
  const via = init.viaName ?? DEFAULT_VIA_NAME;
  if (!isToken(via)) bad('viaName must be a token (RFC 9110 §7.6.3)');
  for (const p of [init.statsPath, init.metricsPath]) if (p !== undefined && p !== '' && !p.startsWith('/')) bad(`path "${p}" must start with /`);
  const filterProblem = validateUserFilters(init.filters ?? []) ?? validatePathFilter(init.pathFilter);
  if (filterProblem !== null) bad(filterProblem);
  return {
    upstreams,
    routing: init.routing ?? null,
    ...(init.resolve ? { resolve: init.resolve } : {}),
    forward: init.forward ?? null,
    forwarded: init.forwarded ?? false,
    upstreamTimeoutMs: positive('upstreamTimeoutMs', init.upstreamTimeoutMs, DEFAULT_UPSTREAM_TIMEOUT_MS),
    connectTimeoutMs: positive('connectTimeoutMs', init.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS),
    maxHeaderBytes: positive('maxHeaderBytes', init.maxHeaderBytes, DEFAULT_MAX_HEADER_BYTES),
    maxHeadersCount: positive('maxHeadersCount', init.maxHeadersCount, DEFAULT_MAX_HEADERS_COUNT),
    maxBodyBytes: maxBody,
    headersTimeoutMs: positive('headersTimeoutMs', init.headersTimeoutMs, DEFAULT_HEADERS_TIMEOUT_MS),
    idleTimeoutMs: positive('idleTimeoutMs', init.idleTimeoutMs, DEFAULT_IDLE_TIMEOUT_MS),
    maxConnections: positive('maxConnections', init.maxConnections, DEFAULT_MAX_CONNECTIONS),
    statsPath: init.statsPath ?? DEFAULT_STATS_PATH,
    metricsPath: init.metricsPath ?? DEFAULT_METRICS_PATH,
    jwt: init.jwt ?? null,
    cache: init.cache ?? null,
    cachePurgeToken: init.cachePurgeToken ?? null,
    upstreamProxy: init.upstreamProxy ?? null,
    upstreamTls: init.upstreamTls ?? null,
    tls: init.tls ?? null,
    h2c: init.h2c ?? false,
    h2MaxConcurrentStreams: positive('h2MaxConcurrentStreams', init.h2MaxConcurrentStreams, 100),
    upstreamH2: init.upstreamH2 ?? false,
    viaName: via,
    inspector: resolveInspector(init.inspector, bad),
    log: init.log ?? createSilentLogger(),
    onBodyBytes: init.onBodyBytes ?? null,
    filters: [...(init.filters ?? [])],
    pathFilter: init.pathFilter,
  };
}

function resolveInspector(init: Partial<NonNullable<ProxyOptions['inspector']>> | null | undefined, bad: (what: string) => never): ProxyOptions['inspector'] {
  if (init === null) return null;
  const size = init?.size ?? DEFAULT_INSPECTOR_SIZE;
  if (!Number.isInteger(size) || size < 1 || size > 10_000) bad('inspector.size must be an integer from 1 to 10000');
  const names = (init?.redactHeaders ?? []).map((n) => n.trim().toLowerCase());
  for (const n of names) if (!/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(n)) bad(`inspector.redactHeaders: "${n}" is not a header field name`);
  return { size, redactHeaders: names, jwtHeader: (init?.jwtHeader ?? DEFAULT_JWT_HEADER).toLowerCase() };
}
