/**
 * Request trailers from an h2 client reach the HTTP/1.1 upstream (issue 14 follow-up; RFC 9113 §8.1, RFC 9110 §6.5):
 * the client's trailing HEADERS frame becomes the trailer section of the chunked body ferry sends upstream. The
 * upstream is a plain node:http server that records what arrived.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { ClientHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { startProxy, type RunningProxy } from '../fixtures/proxy.ts';
import { h2connect } from '../helpers/h2-client.ts';

interface Seen { te: string | undefined; body: string; trailers: Record<string, string> }
const seen: Seen[] = [];
let upstream: http.Server;
let proxy: RunningProxy;

before(async () => {
  upstream = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ te: req.headers['transfer-encoding'], body: Buffer.concat(chunks).toString(), trailers: { ...req.trailers } as Record<string, string> });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  proxy = await startProxy({ upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, h2c: true });
});

after(async () => {
  await proxy.close();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

/** POST `parts` on one stream, then a trailing HEADERS frame with `trailers`; resolves with the status. */
function postWithTrailers(s: ClientHttp2Session, parts: string[], trailers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = s.request({ ':method': 'POST', ':path': '/upload', te: 'trailers' }, { waitForTrailers: true });
    req.on('wantTrailers', () => req.sendTrailers(trailers));
    req.on('response', (h) => { req.resume(); req.once('end', () => resolve(Number(h[':status']))); });
    req.on('error', reject);
    for (const p of parts) req.write(p);
    req.end();
  });
}

describe('request trailers over h2', () => {
  it('relays an h2 client\'s trailer section to the HTTP/1.1 upstream after the chunked body; framing and routing fields in it are dropped', async () => {
    const s = await h2connect(proxy.url);
    try {
      seen.length = 0;
      const status = await postWithTrailers(s, ['hello ', 'world'], { 'x-checksum': 'sha256=abc', 'grpc-status': '0', 'content-type': 'text/html', authorization: 'Bearer late' });
      assert.equal(status, 200);
      assert.equal(seen.length, 1);
      assert.equal(seen[0]!.te, 'chunked');
      assert.equal(seen[0]!.body, 'hello world');
      assert.deepEqual(seen[0]!.trailers, { 'x-checksum': 'sha256=abc', 'grpc-status': '0' });
    } finally { s.close(); }
  });

  it('a chunked h2 body without trailers arrives intact with an empty trailer section, and a bodiless GET still works', async () => {
    const s = await h2connect(proxy.url);
    try {
      seen.length = 0;
      const status = await new Promise<number>((resolve, reject) => {
        const req = s.request({ ':method': 'POST', ':path': '/plain' });
        req.on('response', (h) => { req.resume(); req.once('end', () => resolve(Number(h[':status']))); });
        req.on('error', reject);
        req.end('abc');
      });
      assert.equal(status, 200);
      assert.deepEqual({ body: seen[0]!.body, trailers: seen[0]!.trailers }, { body: 'abc', trailers: {} });
      const get = await new Promise<number>((resolve, reject) => {
        const req = s.request({ ':path': '/get' });
        req.on('response', (h) => { req.resume(); req.once('end', () => resolve(Number(h[':status']))); });
        req.on('error', reject);
      });
      assert.equal(get, 200);
      assert.equal(seen[1]!.body, '');
    } finally { s.close(); }
  });
});

describe('a slow chunked h2 upload on the trailer-capable path', () => {
  let slowProxy: RunningProxy;
  before(async () => {
    slowProxy = await startProxy({ upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, h2c: true, upstreamTimeoutMs: 300 });
  });
  after(async () => { await slowProxy.close(); });

  it('is not cut by the upstream head timeout while its body is still arriving (the timer restarts with each chunk)', async () => {
    const s = await h2connect(slowProxy.url);
    try {
      seen.length = 0;
      const status = await new Promise<number>((resolve, reject) => {
        const req = s.request({ ':method': 'POST', ':path': '/slow-upload' }, { waitForTrailers: true });
        req.on('wantTrailers', () => req.sendTrailers({ 'x-parts': '6' }));
        req.on('response', (h) => { req.resume(); req.once('end', () => resolve(Number(h[':status']))); });
        req.on('error', reject);
        let n = 0;
        const timer = setInterval(() => {
          req.write(`part${n} `);
          if (++n === 6) { clearInterval(timer); req.end(); }
        }, 150);
      });
      assert.equal(status, 200);
      assert.equal(seen[0]!.body, 'part0 part1 part2 part3 part4 part5 ');
      assert.deepEqual(seen[0]!.trailers, { 'x-parts': '6' });
    } finally { s.close(); }
  });
});
