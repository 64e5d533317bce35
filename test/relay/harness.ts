/** @module Shared pieces of the relay end-to-end tests: a tiny target server, deterministic bodies, the relay pair behind the gateway. */
import { createHash, randomBytes } from 'node:crypto';
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Readable } from 'node:stream';
import { startRole, type RunningRole } from '../helpers/cli.ts';
import { startGateway, type Gateway, type GatewayChaos } from '../fixtures/gateway.ts';

/** Byte i of a pattern body is i mod 251 (like ferry origin's /bytes/N). */
const BLOCK = Buffer.from(Array.from({ length: 251 * 4096 }, (_, i) => i % 251));

export function patternStream(size: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= size) { this.push(null); return; }
      const n = Math.min(BLOCK.length, size - sent);
      sent += n;
      this.push(BLOCK.subarray(0, n));
    },
  });
}

export function patternSha256(size: number): string {
  const h = createHash('sha256');
  for (let sent = 0; sent < size;) {
    const n = Math.min(BLOCK.length, size - sent);
    h.update(BLOCK.subarray(0, n));
    sent += n;
  }
  return h.digest('hex');
}

export interface Target {
  url: string;
  port: number;
  /** TCP connections accepted so far, and those still open. */
  connections(): { accepted: number; open: number };
  close(): Promise<void>;
}

/** /bytes/N (pattern), /echo (body back, content-type kept), /headers (JSON), anything else: "hello <path>". */
export async function startTarget(): Promise<Target> {
  let accepted = 0;
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const bytes = /^\/bytes\/(\d+)$/.exec(req.url ?? '');
    if (bytes) {
      const n = Number(bytes[1]);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': n });
      patternStream(n).pipe(res);
      return;
    }
    if (req.url === '/echo') {
      res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/octet-stream' });
      req.pipe(res);
      return;
    }
    if (req.url === '/headers') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(req.headers));
      return;
    }
    req.resume();
    req.on('end', () => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end(`hello ${req.url}`); });
  });
  server.on('connection', (s: Socket) => { accepted++; sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    connections: () => ({ accepted, open: sockets.size }),
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}

export const SECRET = randomBytes(24).toString('base64');

export interface RelayPair {
  gateway: Gateway;
  servers: RunningRole[];
  client: RunningRole;
  close(): Promise<void>;
}

export interface RelayPairOptions {
  maxMessage?: number;
  chaos?: GatewayChaos;
  /** The gateway fixture's per-message latency (ms). */
  latencyMs?: number;
  servers?: number;
  serverArgs?: string[];
  clientArgs?: string[];
  serverSecret?: string;
  clientSecret?: string;
}

/** relay-server(s) ← narrow gateway ← relay-client, all on loopback port 0. */
export async function startRelayPair(o: RelayPairOptions = {}): Promise<RelayPair> {
  const maxMessage = o.maxMessage ?? 1024 * 1024;
  const servers: RunningRole[] = [];
  let gateway: Gateway | undefined;
  try {
    for (let i = 0; i < (o.servers ?? 1); i++) {
      servers.push(await startRole(['relay-server', '--listen', '127.0.0.1:0', '--max-message', String(maxMessage), '--log-level', 'warn', ...(o.serverArgs ?? [])], {
        env: { FERRY_RELAY_SECRET: o.serverSecret ?? SECRET },
      }));
    }
    gateway = await startGateway({ targets: servers.map((s) => s.url), maxMessage, ...(o.chaos ? { chaos: o.chaos } : {}), ...(o.latencyMs ? { latencyMs: o.latencyMs } : {}) });
    const client = await startRole(['relay-client', '--listen', '127.0.0.1:0', '--gateway', gateway.url, '--max-message', String(maxMessage), '--log-level', 'warn', ...(o.clientArgs ?? [])], {
      env: { FERRY_RELAY_SECRET: o.clientSecret ?? SECRET },
    });
    const g = gateway;
    return {
      gateway: g, servers, client,
      async close() {
        await client.stop();
        await Promise.all(servers.map((s) => s.stop()));
        await g.close();
      },
    };
  } catch (err) {
    await Promise.all(servers.map((s) => s.stop()));
    await gateway?.close();
    throw err;
  }
}

export interface ProxiedResult { status: number; headers: http.IncomingHttpHeaders; bytes: number; sha256: string; text: string }

/** Send an absolute-form request through the proxy at `proxyUrl` (like `curl -x`) and hash the answer. */
export function viaProxy(proxyUrl: string, method: string, target: string, body?: Readable, headers: Record<string, string> = {}): Promise<ProxiedResult> {
  const proxy = new URL(proxyUrl);
  const t = new URL(target);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: proxy.hostname, port: proxy.port, method, path: t.href,
      headers: { host: t.host, ...headers }, agent: false,
    }, (res: IncomingMessage) => {
      const h = createHash('sha256');
      let bytes = 0;
      const keep: Buffer[] = [];
      res.on('data', (c: Buffer) => { h.update(c); bytes += c.length; if (bytes <= 65_536) keep.push(c); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes, sha256: h.digest('hex'), text: Buffer.concat(keep).toString('utf8') }));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('response aborted')));
    });
    req.on('error', reject);
    if (body) body.pipe(req);
    else req.end();
  });
}

export async function getJson(url: string): Promise<Record<string, any>> {
  const r = await fetch(url);
  return await r.json() as Record<string, any>;
}
