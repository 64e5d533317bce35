/** The cache in forward-proxy mode: absolute-form requests are keyed by their own authority. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { createProxyServer } from '../../src/proxy/create-proxy.ts';
import { startOrigin } from './helpers.ts';

function viaProxy(port: number, url: string): Promise<{ status: number; cacheStatus: string; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: url, headers: { host: new URL(url).host }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => { body += c; }).on('end', () => resolve({ status: res.statusCode!, cacheStatus: String(res.headers['cache-status']), body }));
    }).on('error', reject);
  });
}

test('forward proxy with --cache: absolute-form requests hit the cache; other authorities are other keys', async () => {
  const a = await startOrigin((_req, res, n) => { res.writeHead(200, { 'cache-control': 'max-age=60' }); res.end(`a${n}`); });
  const b = await startOrigin((_req, res, n) => { res.writeHead(200, { 'cache-control': 'max-age=60' }); res.end(`b${n}`); });
  const p = createProxyServer({ forward: { connectPorts: [443], credentials: [], deny: [], allowOpen: false }, cache: 'memory' });
  await p.proxy.ready();
  p.server.listen(0, '127.0.0.1');
  await once(p.server, 'listening');
  const port = (p.server.address() as AddressInfo).port;
  try {
    assert.equal((await viaProxy(port, `${a.url}/x?y`)).body, 'a1');
    const hit = await viaProxy(port, `${a.url}/x?y`);
    assert.equal(hit.body, 'a1');
    assert.match(hit.cacheStatus, /^ferry; hit/);
    assert.equal((await viaProxy(port, `${b.url}/x?y`)).body, 'b1');
    assert.equal(a.count(), 1);
    assert.equal(b.count(), 1);
    // A forward proxy is nobody's surrogate: no Surrogate-Capability (reverse mode: surrogate-control.test.ts).
    assert.equal(a.seen[0]!.headers['surrogate-capability'], undefined);
  } finally {
    p.destroy();
    await p.close();
    await a.close();
    await b.close();
  }
});
