import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FerryError } from '../../src/errors.ts';
import { createUpstreamClient, UpstreamAbort } from '../../src/proxy/upstream-client.ts';

async function origin(handler: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

describe('upstream client', () => {
  test('a full origin pool (forward mode bounds it) answers 503 for a new origin; pooled origins still work', async () => {
    const origins = await Promise.all([0, 1, 2].map(() => origin((req, res) => res.end(`hello ${req.url}`))));
    const client = createUpstreamClient({ connectTimeoutMs: 2000, headersTimeoutMs: 5000, bodyTimeoutMs: 5000, maxHeaderBytes: 16384, maxOrigins: 2 });
    const get = async (url: string) => {
      const r = await client.send({ origin: url, head: { method: 'GET', target: '/x', headers: [['host', new URL(url).host]], httpVersion: '1.1' }, path: '/x', body: null, signal: new UpstreamAbort() });
      let text = '';
      for await (const c of r.body ?? []) text += String(c);
      return text;
    };
    try {
      assert.equal(await get(origins[0]!.url), 'hello /x');
      assert.equal(await get(origins[1]!.url), 'hello /x');
      await assert.rejects(get(origins[2]!.url), (err: unknown) => err instanceof FerryError && err.status === 503 && err.code === 'FERRY_ERR_TOO_MANY_ORIGINS');
      assert.equal(await get(origins[0]!.url), 'hello /x');
    } finally {
      client.destroy();
      await Promise.all(origins.map((o) => o.close()));
    }
  });
});
