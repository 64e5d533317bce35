/**
 * What ferry proxy loads at start (docs/performance.md, "Idle memory"): no ES import of node:http anywhere in src/
 * (it makes Node load its bundled undici, http/node-http.ts), and undici's Agent without undici's index
 * (proxy/undici-lean.ts) unless an upstream proxy needs the whole of undici; prom-client only on the first scrape of
 * /metrics (stats/prom-client.ts).
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

  it("the library's whole module graph leaves Node's bundled undici unloaded", () => {
    const loaded = inChild<boolean>(`await import('./index.ts'); console.log(JSON.stringify(process.moduleLoadList.includes('NativeModule internal/deps/undici/undici')));`);
    assert.equal(loaded, false);
  });

  it("undici-lean's Agent is undici's own", () => {
    assert.equal(Agent, (createRequire(import.meta.url)('undici') as { Agent: unknown }).Agent);
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
