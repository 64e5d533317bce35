import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import Fastify from 'fastify';
import { createProxy, FerryError } from '../../src/index.ts';
import { startRecordingUpstream, type RecordingUpstream } from '../fixtures/recording-upstream.ts';

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function checkProxying(base: string, up: RecordingUpstream): Promise<void> {
  const res = await fetch(`${base}/echo?x=1`, { method: 'POST', body: 'embedded body', headers: { 'content-type': 'text/x-test' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('via'), '1.1 ferry');
  assert.equal(res.headers.get('content-type'), 'text/x-test');
  assert.equal(await res.text(), 'embedded body');
  assert.equal(up.requests.at(-1)!.url, '/echo?x=1');
  const big = await fetch(`${base}/bytes/300000`);
  assert.equal((await big.arrayBuffer()).byteLength, 300000);
}

describe('createProxy embedded as a library', () => {
  let up: RecordingUpstream;
  before(async () => { up = await startRecordingUpstream(); });
  after(async () => { await up.close(); });

  it('in a plain node:http server', async () => {
    const proxy = createProxy({ upstream: up.url });
    const server = http.createServer(proxy.handler);
    try {
      await checkProxying(await listen(server), up);
    } finally { server.close(); await proxy.close(); }
  });

  it('in Express (app.use), next to an Express route', async () => {
    const proxy = createProxy({ upstream: up.url });
    const app = express();
    app.get('/local', (_req, res) => { res.send('from express'); });
    app.use(proxy.handler);
    const server = http.createServer(app);
    try {
      const base = await listen(server);
      assert.equal(await (await fetch(`${base}/local`)).text(), 'from express');
      await checkProxying(base, up);
    } finally { server.close(); await proxy.close(); }
  });

  it('in Fastify (reply.hijack, raw req/res)', async () => {
    const proxy = createProxy({ upstream: up.url });
    const app = Fastify();
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_req, _payload, done) => done(null)); // leave the body stream unread for the proxy
    app.all('/*', (request, reply) => {
      reply.hijack();
      proxy.handler(request.raw, reply.raw);
    });
    try {
      const base = await app.listen({ port: 0, host: '127.0.0.1' });
      await checkProxying(base, up);
    } finally { await app.close(); await proxy.close(); }
  });

  it('validates options once, with a clear error', () => {
    assert.throws(() => createProxy({ upstream: 'ftp://x' }), (e: unknown) => e instanceof FerryError && /http:\/\/ or https:\/\//.test(e.message));
    assert.throws(() => createProxy({ upstream: 'http://x', upstreamTimeoutMs: -1 }), FerryError);
    const p = createProxy({ upstream: 'http://127.0.0.1:1' });
    assert.equal(p.options.upstreamTimeoutMs, 30_000);
    assert.equal(p.options.maxHeaderBytes, 16 * 1024);
    assert.equal(p.options.maxBodyBytes, null);
    void p.close();
  });
});
