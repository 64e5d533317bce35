/**
 * @module `--upstream-proxy URL`: ferry as a client of another HTTP proxy (a corporate proxy, or another ferry).
 * Plain-HTTP requests go to it in absolute-form (undici ProxyAgent with proxyTunnel off), https targets and CONNECT
 * tunnels through `CONNECT host:port` (RFC 9110 §9.3.6). Credentials in the URL become Proxy-Authorization: Basic.
 */
import type { IncomingMessage } from 'node:http';
import { http } from '../http/node-http.ts';
import { loadHttps } from '../http/lazy-builtins.ts';
import type { Socket } from 'node:net';
import type { ProxyAgent } from 'undici';
import { fullUndici } from './undici-lean.ts';
import { FerryError, UsageError, type FerryErrorCode } from '../errors.ts';
import { formatBasicCredentials } from './forward/basic-auth.ts';
import { formatAuthority, type Authority } from './forward/request-target.ts';
import { readEnvProxy, type UpstreamProxySetting } from './env-proxy.ts';

/** For logs: the proxy URL without credentials, or what the environment said (credentials left out). */
export function describeUpstreamProxy(setting: UpstreamProxySetting): string | null {
  if (setting === null) return null;
  if (setting instanceof URL) return redactProxyUrl(setting);
  const parts = [setting.http && `http ${redactProxyUrl(setting.http)}`, setting.https && `https ${redactProxyUrl(setting.https)}`, setting.noProxy && `no_proxy ${setting.noProxy}`];
  return `env (${parts.filter(Boolean).join(', ') || 'no proxy variables set'})`;
}

export const FERRY_ERR_UPSTREAM_PROXY = 'FERRY_ERR_UPSTREAM_PROXY' satisfies FerryErrorCode;

/** The Proxy-Authorization value for a proxy URL with userinfo, or undefined. */
export function proxyAuthorizationFor(proxy: URL): string | undefined {
  if (proxy.username === '') return undefined;
  return formatBasicCredentials(decodeURIComponent(proxy.username), decodeURIComponent(proxy.password));
}

/** The proxy URL without credentials, safe for logs. */
export function redactProxyUrl(proxy: URL): string {
  return `${proxy.protocol}//${proxy.host}`;
}

/** An undici dispatcher that sends every request through `proxy`: absolute-form for http:, CONNECT for https:.
 * `agentOptions` are the usual Agent options (timeouts, pool bounds), applied to the pool behind the proxy. */
export function createUpstreamProxyDispatcher(proxy: URL, agentOptions: Omit<ProxyAgent.Options, 'uri'>): ProxyAgent {
  const token = proxyAuthorizationFor(proxy);
  return new (fullUndici().ProxyAgent)({
    ...agentOptions,
    uri: redactProxyUrl(proxy),
    ...(token === undefined ? {} : { token }),
    proxyTunnel: false,
  });
}

/**
 * Open a raw byte stream to `target` through `proxy` with CONNECT. Resolves with the socket once the upstream proxy
 * said 2xx (bytes it sent after its head are put back into the socket); rejects with a FerryError (source upstream,
 * status 502/504) otherwise. `signal` aborts the attempt (client went away).
 */
export function openProxyTunnel(proxy: URL, target: Authority, options: { timeoutMs: number; signal?: AbortSignal }): Promise<Socket> {
  const authority = formatAuthority(target);
  const headers: Record<string, string> = { host: authority };
  const token = proxyAuthorizationFor(proxy);
  if (token !== undefined) headers['proxy-authorization'] = token;
  const request = proxy.protocol === 'https:' ? loadHttps().request : http.request;
  return new Promise((resolve, reject) => {
    let done = false;
    const fail = (err: FerryError) => {
      if (done) return;
      done = true;
      req.destroy();
      reject(err);
    };
    const req = request({
      host: proxy.hostname.replace(/^\[|\]$/g, ''),
      port: proxy.port === '' ? (proxy.protocol === 'https:' ? 443 : 80) : Number(proxy.port),
      method: 'CONNECT',
      path: authority,
      headers,
      agent: false,
      timeout: options.timeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    req.on('connect', (res: IncomingMessage, socket: Socket, head: Buffer) => {
      if (done) { socket.destroy(); return; }
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 299) {
        socket.destroy();
        fail(new FerryError(FERRY_ERR_UPSTREAM_PROXY, `upstream proxy ${redactProxyUrl(proxy)} answered ${status} to CONNECT ${authority}`, { source: 'upstream', status: 502 }));
        return;
      }
      done = true;
      req.setTimeout(0);
      socket.setTimeout(0);
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    // A proxy that answers CONNECT with a normal response (not 2xx) arrives here on some Node versions.
    req.on('response', (res) => {
      res.resume();
      fail(new FerryError(FERRY_ERR_UPSTREAM_PROXY, `upstream proxy ${redactProxyUrl(proxy)} answered ${res.statusCode} to CONNECT ${authority}`, { source: 'upstream', status: 502 }));
    });
    req.on('timeout', () => fail(new FerryError('FERRY_ERR_UPSTREAM_TIMEOUT', `upstream proxy ${redactProxyUrl(proxy)}: no answer to CONNECT within ${options.timeoutMs} ms`, { source: 'upstream', status: 504 })));
    req.on('error', (err) => fail(new FerryError(FERRY_ERR_UPSTREAM_PROXY, `upstream proxy ${redactProxyUrl(proxy)}: ${(err as Error).message}`, { source: 'upstream', status: 502, cause: err })));
    req.end();
  });
}

/**
 * `--upstream-proxy URL`: an http(s) proxy origin, optionally with USER:PASS; `env`: HTTP_PROXY / HTTPS_PROXY /
 * NO_PROXY from `env` (proxy/env-proxy.ts); anything else is a usage error.
 */
export function resolveUpstreamProxy(value: URL | string | undefined, env: NodeJS.ProcessEnv = {}): UpstreamProxySetting {
  if (value === undefined) return null;
  if (value === 'env') return readEnvProxy(env);
  let url: URL;
  try { url = typeof value === 'string' ? new URL(value) : value; } catch { throw new UsageError('--upstream-proxy: expected a proxy URL (http://HOST:PORT) or env'); }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--upstream-proxy: ${redactProxyUrl(url)} must be http:// or https://`);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    throw new UsageError(`--upstream-proxy: ${redactProxyUrl(url)} must be a proxy origin (no path or query)`);
  }
  return url;
}
