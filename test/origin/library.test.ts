import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import Fastify from 'fastify';
import { createOrigin, UsageError } from '../../src/index.ts';
import { boundaryOf, parseByteranges } from '../helpers/byteranges.ts';
import { pattern, request } from './client.ts';

async function listenOn(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`;
}

async function checkRanges(base: string): Promise<void> {
  const r = await request(`${base}/bytes/1000`, { headers: { range: 'bytes=1-3,500-' } });
  assert.equal(r.status, 206);
  const parts = parseByteranges(r.body, boundaryOf(r.headers['content-type']));
  assert.deepEqual(parts.map((p) => [p.first, p.last]), [[1, 3], [500, 999]]);
  for (const p of parts) assert.ok(p.body.equals(pattern(p.first, p.last)));
}

describe('createOrigin as a library', () => {
  it('createServer() serves files and endpoints; a fixed random source gives a fixed boundary', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ferry-lib-'));
    writeFileSync(path.join(dir, 'a.txt'), 'abc');
    const origin = createOrigin({ root: dir, randomBytes: (n) => new Uint8Array(n) });
    const server = origin.createServer();
    try {
      const base = await listenOn(server);
      assert.equal((await request(`${base}/a.txt`)).body.toString(), 'abc');
      const r = await request(`${base}/bytes/10`, { headers: { range: 'bytes=0-0,2-2' } });
      assert.equal(boundaryOf(r.headers['content-type']), `ferry-${'00'.repeat(16)}`);
      await checkRanges(base);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('dotfiles: denied by default (404), served with { dotfiles: "allow" }; an unknown policy is a UsageError', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ferry-lib-'));
    writeFileSync(path.join(dir, '.env'), 'SECRET=1');
    const deny = createOrigin({ root: dir }).createServer();
    const allow = createOrigin({ root: dir, dotfiles: 'allow' }).createServer();
    try {
      const [denyBase, allowBase] = [await listenOn(deny), await listenOn(allow)];
      assert.equal((await request(`${denyBase}/.env`)).status, 404);
      assert.equal((await request(`${denyBase}/%2eenv`)).status, 404);
      assert.equal((await request(`${allowBase}/.env`)).body.toString(), 'SECRET=1');
      assert.throws(() => createOrigin({ root: dir, dotfiles: 'alow' as 'allow' }), (e: unknown) => e instanceof UsageError && /dotfiles: "alow"/.test(e.message));
    } finally {
      for (const server of [deny, allow]) {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a missing root is a UsageError', () => {
    assert.throws(() => createOrigin({ root: '/definitely/not/here' }), (e: unknown) => e instanceof UsageError && /no such directory/.test(e.message));
  });

  it('the handler works inside Express', async () => {
    const app = express();
    app.get('/app-route', (_req, res) => { res.send('from express'); });
    app.use(createOrigin().handler);
    const server = http.createServer(app);
    try {
      const base = await listenOn(server);
      assert.equal((await request(`${base}/app-route`)).body.toString(), 'from express');
      await checkRanges(base);
      const echo = await request(`${base}/echo`, { method: 'POST', body: 'ping', headers: { 'content-type': 'text/plain' } });
      assert.equal(echo.body.toString(), 'ping');
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('the handler works inside Fastify (raw request/response)', async () => {
    const app = Fastify();
    const origin = createOrigin();
    // Let the origin read bodies itself (for /echo): no Fastify body parsing.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_req, _payload, done) => done(null));
    app.all('/*', (req, reply) => {
      reply.hijack();
      origin.handler(req.raw, reply.raw);
    });
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      await checkRanges(base);
      assert.equal((await request(`${base}/status/418`)).status, 418);
      const echo = await request(`${base}/echo`, { method: 'POST', body: 'pong', headers: { 'content-type': 'text/plain' } });
      assert.equal(echo.body.toString(), 'pong');
    } finally {
      await app.close();
    }
  });
});
