/**
 * @module ProxyOptions: every option of `createProxy`, typed, with the defaults the CLI flags show.
 * Each feature owns the validation of its own group (see the filter modules); `resolveProxyOptions` runs them once.
 */
import type { Logger } from '../server/logger.ts';

export interface JwtOptions {
  /** Raw key bytes (never derived from a password; RFC 8725 §3.5). */
  secret: Uint8Array;
  header: string;
  alg: 'HS256' | 'HS384' | 'HS512';
  user: string;
  extraClaims: Record<string, unknown>;
}

export interface ForwardOptions {
  connectPorts: number[];
  /** Accepted USER:PASS pairs; empty = no proxy authentication. */
  credentials: Array<{ user: string; pass: string }>;
  /** CIDR ranges that may not be reached. */
  deny: string[];
  allowOpen: boolean;
}

export interface ProxyOptions {
  /** Reverse-proxy targets (round robin); empty = none. */
  upstreams: URL[];
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
  upstreamProxy: URL | null;
  /** The pseudonym in Via (RFC 9110 §7.6.3). */
  viaName: string;
  log: Logger;
}

export const DEFAULT_UPSTREAM_TIMEOUT_MS = 30_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_CONNECTIONS = 10_000;
export const DEFAULT_VIA_NAME = 'ferry';
export const DEFAULT_JWT_HEADER = 'x-my-jwt';
export const DEFAULT_JWT_USER = 'username';
export const DEFAULT_STATS_PATH = '/stats';
export const DEFAULT_METRICS_PATH = '/metrics';
