/**
 * @module `--upstream-proxy env`: the proxy for each upstream taken from HTTP_PROXY / HTTPS_PROXY / NO_PROXY, as curl
 * and undici's EnvHttpProxyAgent do (lower-case names first; HTTPS_PROXY falls back to HTTP_PROXY; NO_PROXY lists
 * `*`, `host`, `.domain` / `domain` (the domain and names under it), `*.domain` (names under it only), each with an
 * optional `:port`). Pure: the environment is read once, at startup, and passed in.
 */
import { UsageError } from '../errors.ts';

export interface EnvProxy {
  readonly kind: 'env';
  readonly http: URL | null;
  /** HTTPS_PROXY, or HTTP_PROXY when unset. */
  readonly https: URL | null;
  /** NO_PROXY as given (undici's EnvHttpProxyAgent parses the same text). */
  readonly noProxy: string;
  readonly entries: ReadonlyArray<{ host: string; port: number; wildcard: boolean }>;
}

/** What --upstream-proxy resolves to: one proxy for everything, the environment's choice per target, or none. */
export type UpstreamProxySetting = URL | EnvProxy | null;

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443, 'ws:': 80, 'wss:': 443 };

function proxyUrl(name: string, text: string | undefined): URL | null {
  if (text === undefined || text === '') return null;
  let url: URL;
  try { url = new URL(text.includes('://') ? text : `http://${text}`); } catch { throw new UsageError(`--upstream-proxy env: ${name} is not a URL`); }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--upstream-proxy env: ${name} must be http:// or https://`);
  return url;
}

export function readEnvProxy(env: NodeJS.ProcessEnv): EnvProxy {
  const pick = (name: string): [string, string | undefined] => env[name.toLowerCase()] !== undefined ? [name.toLowerCase(), env[name.toLowerCase()]] : [name, env[name]];
  const http = proxyUrl(...pick('HTTP_PROXY'));
  const https = proxyUrl(...pick('HTTPS_PROXY')) ?? http;
  const noProxy = pick('NO_PROXY')[1] ?? '';
  return { kind: 'env', http, https, noProxy, entries: parseNoProxy(noProxy) };
}

/** NO_PROXY entries, parsed as undici's EnvHttpProxyAgent parses them. */
export function parseNoProxy(text: string): EnvProxy['entries'] {
  const out: Array<{ host: string; port: number; wildcard: boolean }> = [];
  for (const entry of text.split(/[,\s]/)) {
    if (entry === '') continue;
    let host: string;
    let port = 0;
    const v6 = /^\[(.+)\]:(\d+)$/.exec(entry);
    if (v6) { host = v6[1]!; port = Number(v6[2]); } else {
      const bare = entry.replace(/^\[(.+)\]$/, '$1');
      const hp = (bare.match(/:/g) ?? []).length === 1 ? /^(.+):(\d+)$/.exec(bare) : null;
      host = hp ? hp[1]! : bare;
      port = hp ? Number(hp[2]) : 0;
    }
    out.push({ host: host.replace(/^\*?\./, '').replace(/^(.+)\.$/, '$1').toLowerCase(), port, wildcard: entry.startsWith('*') });
  }
  return out;
}

/** Whether NO_PROXY lets `hostname:port` be reached directly. */
export function bypassesProxy(entries: EnvProxy['entries'], hostname: string, port: number): boolean {
  let host = hostname.replace(/^\[(.+)\]$/, '$1').toLowerCase();
  if (host.length > 1 && host.endsWith('.')) host = host.slice(0, -1);
  for (const e of entries) {
    if (e.port !== 0 && e.port !== port) continue;
    if (e.host === '*') return true;
    if (!e.wildcard && host === e.host) return true;
    if (host.endsWith(`.${e.host}`)) return true;
  }
  return false;
}

/** The proxy to reach `protocol//hostname:port` through, or null for a direct connection. */
export function proxyFor(setting: UpstreamProxySetting, protocol: string, hostname: string, port?: number): URL | null {
  if (setting === null || setting instanceof URL) return setting;
  const p = port ?? DEFAULT_PORTS[protocol] ?? 0;
  if (bypassesProxy(setting.entries, hostname, p)) return null;
  return protocol === 'https:' || protocol === 'wss:' ? setting.https : setting.http;
}

/** The same for an origin URL (`http://host:port`). */
export function proxyForOrigin(setting: UpstreamProxySetting, origin: string | URL): URL | null {
  if (setting === null || setting instanceof URL) return setting;
  const u = typeof origin === 'string' ? new URL(origin) : origin;
  return proxyFor(setting, u.protocol, u.hostname, u.port === '' ? undefined : Number(u.port));
}
