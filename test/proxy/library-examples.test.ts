/**
 * The code blocks of docs/library.md marked `<!-- tested: NAME -->` run here as they stand, with `from 'ferry'`
 * pointed at the sources: the examples users copy are the examples that pass.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Express } from 'express';
import type { FastifyInstance } from 'fastify';
import type { Proxy } from '../../src/index.ts';
import { startRecordingUpstream, type RecordingUpstream } from '../fixtures/recording-upstream.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const OUT = `${REPO}test-output/examples`;

/** Write the tested block NAME of docs/library.md to a module and import it. */
async function loadExample<T>(name: string): Promise<T> {
  const doc = readFileSync(`${REPO}docs/library.md`, 'utf8');
  const m = new RegExp(`<!-- tested: ${name} -->\\n\`\`\`ts\\n([\\s\\S]*?)\\n\`\`\``).exec(doc);
  assert.ok(m, `docs/library.md has a tested block "${name}"`);
  const code = m[1]!.replace(/from 'ferry'/g, `from '${pathToFileURL(`${REPO}src/index.ts`).href}'`);
  mkdirSync(OUT, { recursive: true });
  const file = `${OUT}/${name}.ts`;
  writeFileSync(file, code);
  return (await import(pathToFileURL(file).href)) as T;
}

/** Every value of one field in a recorded request, from its raw headers. */
function fieldValues(raw: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) out.push(raw[i + 1]!);
  return out;
}

/** An upstream that echoes every request body, whatever the path, and records the request targets. */
async function startEchoUpstream(): Promise<{ url: string; targets: string[]; close(): void }> {
  const targets: string[] = [];
  const server = http.createServer((req, res) => {
    targets.push(req.url ?? '');
    res.setHeader('content-type', req.headers['content-type'] ?? 'application/octet-stream');
    req.pipe(res);
  });
  return { url: await listen(server), targets, close: () => server.close() };
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('docs/library.md examples', () => {
  let up: RecordingUpstream;
  let other: RecordingUpstream;
  before(async () => { up = await startRecordingUpstream(); other = await startRecordingUpstream(); });
  after(async () => { await up.close(); await other.close(); });

  it('express: /api is proxied (body streamed), other paths reach Express', async () => {
    const { createApp } = await loadExample<{ createApp(u: string): { app: Express; proxy: Proxy } }>('express');
    const echo = await startEchoUpstream();
    const { app, proxy } = createApp(echo.url);
    const server = http.createServer(app);
    try {
      const base = await listen(server);
      const res = await fetch(`${base}/api/echo?x=1`, { method: 'POST', body: 'through express', headers: { 'content-type': 'text/x-test' } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('via'), '1.1 ferry');
      assert.equal(await res.text(), 'through express');
      assert.deepEqual(echo.targets, ['/api/echo?x=1']);
      assert.equal(await (await fetch(`${base}/hello`)).text(), 'hello from express');
      assert.equal((await fetch(`${base}/apix`)).status, 404, '/apix is not under /api: Express answers');
      assert.equal(echo.targets.length, 1, 'nothing outside /api reached the upstream');
    } finally { server.close(); echo.close(); await proxy.close(); }
  });

  it('fastify: /api is proxied (body streamed), other paths reach Fastify', async () => {
    const { createApp } = await loadExample<{ createApp(u: string): { app: FastifyInstance; proxy: Proxy } }>('fastify');
    const echo = await startEchoUpstream();
    const { app } = createApp(echo.url);
    try {
      const base = await app.listen({ port: 0, host: '127.0.0.1' });
      const res = await fetch(`${base}/api/echo`, { method: 'POST', body: JSON.stringify({ a: 1 }), headers: { 'content-type': 'application/json' } });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), '{"a":1}', 'Fastify did not consume the JSON body');
      const big = Buffer.alloc(3_000_000, 7);
      const back = await fetch(`${base}/api/upload`, { method: 'PUT', body: big });
      assert.ok(Buffer.from(await back.arrayBuffer()).equals(big), '3 MB streamed up and back');
      assert.equal(await (await fetch(`${base}/hello`)).text(), 'hello from fastify');
      assert.deepEqual(echo.targets, ['/api/echo', '/api/upload'], 'nothing outside /api reached the upstream');
    } finally { await app.close(); echo.close(); }
  });

  it('filters: add a request header, deny a path, choose the upstream, rewrite a response header', async () => {
    const { createFilteredProxy } = await loadExample<{ createFilteredProxy(u: string, r: string): Proxy }>('filters');
    const proxy = createFilteredProxy(up.url, other.url);
    const server = http.createServer(proxy.handler);
    try {
      const base = await listen(server);
      // the client names x-tenant as hop-by-hop: the filter's field must still arrive (it is added after stripping)
      const res = await fetch(`${base}/headers`, { headers: { connection: 'x-tenant', 'x-tenant': 'forged' } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('server'), 'edge');
      const seen = up.requests.at(-1)!;
      assert.deepEqual(fieldValues(seen.rawHeaders, 'x-tenant'), ['acme'], 'exactly the filter\'s value, the forged one removed');

      const n = up.requests.length + other.requests.length;
      const denied = await fetch(`${base}/admin/users`);
      assert.equal(denied.status, 403);
      assert.equal(denied.headers.get('server'), 'edge', 'responseFilter sees ferry\'s own answers too');
      assert.equal(up.requests.length + other.requests.length, n, 'a denied request reaches no upstream');

      const report = await fetch(`${base}/reports/q3?year=2026`);
      assert.equal(report.status, 200);
      assert.equal(other.requests.at(-1)!.url, '/q3?year=2026', 'routed to the other upstream, prefix removed');
      assert.deepEqual(fieldValues(other.requests.at(-1)!.rawHeaders, 'x-tenant'), ['acme']);
    } finally { server.close(); await proxy.close(); }
  });

  it('refuses a malformed filter or pathFilter at creation, naming it', async () => {
    const { createProxy, FerryError } = await import('../../src/index.ts');
    assert.throws(() => createProxy({ upstream: up.url, filters: [{ name: '' }] }), (e: unknown) => e instanceof FerryError && /filters\[0\] needs a name/.test(e.message));
    assert.throws(() => createProxy({ upstream: up.url, filters: [{ name: 'x', route: 'no' } as never] }), /filter "x": route must be a function/);
    assert.throws(() => createProxy({ upstream: up.url, pathFilter: 'api' }), /pathFilter must be a path prefix/);
  });

  it('without a next, requests outside pathFilter get 404 and reach no upstream', async () => {
    const { createProxy } = await import('../../src/index.ts');
    const proxy = createProxy({ upstream: up.url, pathFilter: ['/a', '/b/'] });
    const server = http.createServer(proxy.handler);
    try {
      const base = await listen(server);
      const n = up.requests.length;
      assert.equal((await fetch(`${base}/c`)).status, 404);
      assert.equal((await fetch(`${base}/ab`)).status, 404);
      assert.equal(up.requests.length, n);
      assert.equal((await fetch(`${base}/b/x`)).status, 200);
      assert.equal((await fetch(`${base}/a?q=1`)).status, 200);
    } finally { server.close(); await proxy.close(); }
  });
});
