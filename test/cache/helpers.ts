/** @module Cache test fixtures: an origin that counts requests, a caching proxy in front of it, and a tiny client. */
import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { fromRawHeaders } from '../../src/http/headers.ts';
import type { RequestContext } from '../../src/proxy/context.ts';
import { createProxyServer, type ProxyServer } from '../../src/proxy/create-proxy.ts';
import type { Fetch, RequestHead } from '../../src/proxy/phases.ts';
import { createSilentLogger } from '../../src/server/logger.ts';
import { redisUnavailable, startRedis, type RunningRedis } from '../helpers/redis.ts';

export interface Origin {
  url: string;
  /** Requests the origin saw (a cache hit adds nothing). */
  seen: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders }>;
  count(path?: string): number;
  close(): Promise<void>;
}

export type OriginHandler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

export async function startOrigin(handler: OriginHandler): Promise<Origin> {
  const seen: Origin['seen'] = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    handler(req, res, seen.filter((s) => s.url === req.url).length);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    count: (path) => (path === undefined ? seen.length : seen.filter((s) => s.url === path).length),
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

export interface CachingProxy { url: string; proxy: ProxyServer; close(): Promise<void> }

export async function startCachingProxy(upstream: string, cache: string, extra: { cachePurgeToken?: string } = {}): Promise<CachingProxy> {
  const proxy = createProxyServer({ upstream, cache, ...(extra.cachePurgeToken ? { cachePurgeToken: extra.cachePurgeToken } : {}) });
  await proxy.proxy.ready();
  proxy.server.listen(0, '127.0.0.1');
  await once(proxy.server, 'listening');
  const { port } = proxy.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    proxy,
    close: async () => { proxy.destroy(); await proxy.close(); },
  };
}

export interface Reply { status: number; headers: Record<string, string>; body: Buffer }

const agent = new Agent({ keepAliveTimeout: 1000 });

export async function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  const res = await request(url, { method: method as 'GET', headers, dispatcher: agent });
  const chunks: Buffer[] = [];
  for await (const c of res.body) chunks.push(c as Buffer);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return { status: res.statusCode, headers: out, body: Buffer.concat(chunks) };
}

export function closeAgent(): Promise<void> {
  return agent.close();
}

/** Byte i of /bytes-like bodies: i mod 251 (as ferry origin's /bytes/N). */
export function patternBytes(n: number, from = 0): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (from + i) % 251;
  return b;
}

export function httpDate(offsetSeconds = 0): string {
  return new Date(Date.now() + offsetSeconds * 1000).toUTCString();
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The three stores, each set up for one test file: `spec()` gives a fresh, empty store spec. */
export interface StoreKind { name: 'memory' | 'disk' | 'redis'; skip: string | false; setup(): Promise<void>; spec(): string; teardown(): Promise<void> }

export function storeKinds(): StoreKind[] {
  const dirs: string[] = [];
  let redis: RunningRedis | null = null;
  let db = 0;
  const redisSkip = redisUnavailable();
  return [
    { name: 'memory', skip: false, setup: async () => {}, spec: () => 'memory:16MiB', teardown: async () => {} },
    {
      name: 'disk', skip: false, setup: async () => {},
      spec: () => { const d = mkdtempSync(join(tmpdir(), 'ferry-cache-')); dirs.push(d); return `disk:${d}:16MiB`; },
      teardown: async () => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); },
    },
    {
      name: 'redis', skip: redisSkip ?? false,
      setup: async () => { redis = await startRedis(); },
      // A fresh logical database per proxy keeps tests independent on one server.
      spec: () => `${redis!.url}/${(db = (db + 1) % 16)}`,
      teardown: async () => { await redis?.stop(); },
    },
  ];
}

/** A minimal context for driving the filter's cache phase directly with a real upstream fetch. */
export function cacheContext(head: RequestHead): RequestContext {
  return {
    id: 'test', startedAt: Date.now(), startedMono: performance.now(), log: createSilentLogger(), request: head,
    clientAddress: '127.0.0.1', secure: false, bytesIn: 0, bytesOut: 0, locals: new Map(),
    req: undefined as never, res: undefined as never,
  };
}

/** The proxy's upstream fetch, done with undici against a real origin. */
export function realFetch(origin: string): Fetch {
  return async (head) => {
    const r = await request(`${origin}${head.target}`, { method: head.method as 'GET', headers: head.headers.flat() });
    const raw: string[] = [];
    for (const [k, v] of Object.entries(r.headers)) for (const x of Array.isArray(v) ? v : [v]) if (x !== undefined) raw.push(k, x);
    return { head: { status: r.statusCode, headers: fromRawHeaders(raw) }, body: Readable.from(r.body) };
  };
}

/** A reply body as text (empty for none). */
export async function text(body: Readable | null): Promise<string> {
  if (body === null) return '';
  let s = '';
  for await (const c of body) s += String(c);
  return s;
}
