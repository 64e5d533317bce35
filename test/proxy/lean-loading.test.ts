/**
 * What ferry proxy loads at start (docs/performance.md, "Idle memory"): no ES import of node:http anywhere in src/
 * (it makes Node load its bundled undici, http/node-http.ts), and undici's Agent without undici's index
 * (proxy/undici-lean.ts) unless an upstream proxy needs the whole of undici; prom-client only on the first scrape of
 * /metrics (stats/prom-client.ts); node:tls, node:https and node:http2 only when a listener or an upstream needs them
 * (http/lazy-builtins.ts, with undici's HTTP/2 client loaded on its first call, proxy/undici-lean.ts).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Agent } from '../../src/proxy/undici-lean.ts';
import { srcModules } from '../helpers/source-files.ts';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Runs `code` as an ES module in a fresh Node (same binary, so type stripping works) and parses its stdout. */
function inChild<T>(code: string): T {
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: SRC, encoding: 'utf8', timeout: 60_000 })) as T;
}

describe('lean loading', () => {
  it('src/ imports node:http as a value only through http/node-http.ts', () => {
    const offenders = srcModules().filter((file) => { const text = readFileSync(file, 'utf8'); return /^import(?! type )[^;]*from 'node:http';/m.test(text) || /^export [^;]*from 'node:http';/m.test(text); });
    assert.deepEqual(offenders.map((f) => path.relative(SRC, f)), []);
  });

  it('src/ imports node:tls, node:https and node:http2 as values only through http/lazy-builtins.ts', () => {
    const offenders = srcModules().filter((file) => /^(import|export)(?! type )[^;]*from 'node:(tls|https|http2)';/m.test(readFileSync(file, 'utf8')));
    assert.deepEqual(offenders.map((f) => path.relative(SRC, f)), []);
  });

  it('ferry proxy with a plain listener and upstream serves without node:tls, node:https or node:http2; an https upstream loads node:tls', () => {
    const r = inChild<{ status: number; plain: string[]; secure: string[] }>(`
      import { createRequire } from 'node:module';
      const http = createRequire(import.meta.url)('node:http');
      const { COMMANDS } = await import('./cli/registry.ts');
      await COMMANDS.find((c) => c.name === 'proxy').load(); // the CLI's module graph for the role
      // not index.ts: the library's index also exports the Redis store, whose ioredis loads node:tls
      const { createProxyServer } = await import('./proxy/create-proxy.ts');
      const loaded = () => ['tls', 'https', 'http2'].filter((m) => process.moduleLoadList.includes('NativeModule ' + m));
      const get = (port) => new Promise((ok, fail) => http.get({ host: '127.0.0.1', port, path: '/x' }, (res) => { res.resume(); res.on('end', () => ok(res.statusCode)); }).on('error', fail));
      const origin = http.createServer((req, res) => res.end('ok')).listen(0, '127.0.0.1');
      await new Promise((ok) => origin.once('listening', ok));
      const serve = async (upstream) => {
        const p = createProxyServer({ upstream, logLevel: 'silent' });
        await new Promise((ok) => p.server.listen(0, '127.0.0.1', ok));
        const status = await get(p.server.address().port);
        await p.close();
        return status;
      };
      const status = await serve('http://127.0.0.1:' + origin.address().port);
      const plain = loaded();
      await serve('https://127.0.0.1:' + origin.address().port); // the TLS handshake fails (502): node:tls was needed
      console.log(JSON.stringify({ status, plain, secure: loaded() }));
      origin.close();
    `);
    assert.equal(r.status, 200);
    assert.deepEqual(r.plain, []);
    assert.ok(r.secure.includes('tls'), JSON.stringify(r.secure));
  });

  it("the library's whole module graph leaves Node's bundled undici unloaded", () => {
    const loaded = inChild<boolean>(`await import('./index.ts'); console.log(JSON.stringify(process.moduleLoadList.includes('NativeModule internal/deps/undici/undici')));`);
    assert.equal(loaded, false);
  });

  it("undici-lean's Agent is undici's own", () => {
    assert.equal(Agent, (createRequire(import.meta.url)('undici') as { Agent: unknown }).Agent);
  });

  it("undici-lean's requestVia is the request every dispatcher gets from undici's index, and the relay client leaves the index unloaded", () => {
    const undici = createRequire(import.meta.url)('undici') as { Dispatcher: { prototype: { request: unknown } } };
    assert.equal(undici.Dispatcher.prototype.request, createRequire(import.meta.url)('undici/lib/api/api-request.js'));
    const r = inChild<{ status: number; body: string; index: boolean }>(`
      import { createRequire } from 'node:module';
      const http = createRequire(import.meta.url)('node:http');
      const { Agent, requestVia } = await import('./proxy/undici-lean.ts');
      await import('./relay/gateway-transport.ts');
      const origin = http.createServer((req, res) => res.end(req.method + ' ' + req.url)).listen(0, '127.0.0.1');
      await new Promise((ok) => origin.once('listening', ok));
      const agent = new Agent();
      const res = await requestVia(agent, new URL('http://127.0.0.1:' + origin.address().port + '/relay/down?x=1'), { method: 'POST', body: 'b' });
      const body = await res.body.text();
      const cache = createRequire(import.meta.url).cache;
      console.log(JSON.stringify({ status: res.statusCode, body, index: Object.keys(cache).some((k) => /[\\/]undici[\\/]index\.js$/.test(k)) }));
      await agent.close();
      origin.close();
    `);
    assert.deepEqual(r, { status: 200, body: 'POST /relay/down?x=1', index: false });
  });

  it("undici's HTTP/2 client file still exports the one function undici-lean's stand-in replaces", () => {
    const connectH2 = createRequire(import.meta.url)('undici/lib/dispatcher/client-h2.js') as unknown;
    assert.equal(typeof connectH2, 'function');
    assert.equal((connectH2 as (client: unknown, socket: unknown) => unknown).length, 2);
  });

  it("the default upstream client leaves undici's index unloaded; an upstream proxy loads it", () => {
    const r = inChild<{ plain: boolean; proxied: boolean }>(`
      import { createRequire } from 'node:module';
      const { createUpstreamClient } = await import('./proxy/upstream-client.ts');
      const cache = createRequire(import.meta.url).cache;
      const index = () => Object.keys(cache).some((k) => /[\\\\/]undici[\\\\/]index\\.js$/.test(k));
      const options = { connectTimeoutMs: 1000, headersTimeoutMs: 1000, bodyTimeoutMs: 1000, maxHeaderBytes: 16384 };
      const a = createUpstreamClient(options);
      const plain = index();
      const b = createUpstreamClient({ ...options, upstreamProxy: new URL('http://127.0.0.1:9') });
      console.log(JSON.stringify({ plain, proxied: index() }));
      await Promise.all([a.close(), b.close()]);
    `);
    assert.deepEqual(r, { plain: false, proxied: true });
  });

  it('a proxy serves requests without loading prom-client; the first /metrics loads it, tunnel and route figures included', () => {
    const r = inChild<{ before: boolean; after: boolean; status: number; names: string[] }>(`
      import http from 'node:http';
      import { createRequire } from 'node:module';
      const { createProxyServer } = await import('./index.ts');
      const cache = createRequire(import.meta.url).cache;
      const loaded = () => Object.keys(cache).some((k) => /[\\/]prom-client[\\/]/.test(k));
      const origin = http.createServer((req, res) => res.end('ok')).listen(0, '127.0.0.1');
      await new Promise((ok) => origin.once('listening', ok));
      const p = createProxyServer({ upstream: 'http://127.0.0.1:' + origin.address().port, logLevel: 'silent' });
      await new Promise((ok) => p.server.listen(0, '127.0.0.1', ok));
      const base = 'http://127.0.0.1:' + p.server.address().port;
      await (await fetch(base + '/x')).text();
      await (await fetch(base + '/stats')).text();
      const before = loaded();
      const res = await fetch(base + '/metrics');
      const text = await res.text();
      const names = ['ferry_requests_total', 'ferry_tunnels_open', 'ferry_route_requests_total', 'process_cpu_seconds_total'].filter((n) => text.includes(n + ' ') || text.includes(n + '{'));
      console.log(JSON.stringify({ before, after: loaded(), status: res.status, names }));
      await p.close();
      origin.close();
    `);
    assert.deepEqual(r, { before: false, after: true, status: 200, names: ['ferry_requests_total', 'ferry_tunnels_open', 'ferry_route_requests_total', 'process_cpu_seconds_total'] });
  });
});
