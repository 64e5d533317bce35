/**
 * What ferry proxy loads at start (docs/performance.md, "Idle memory"): no ES import of node:http anywhere in src/
 * (it makes Node load its bundled undici, http/node-http.ts), and undici's Agent without undici's index
 * (proxy/undici-lean.ts) unless an upstream proxy needs the whole of undici.
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
});
