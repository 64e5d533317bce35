/**
 * @module The cache benches' origin (bench/cache-cost.ts, bench/cache-instr.ts): `body` on every path, fresh for an
 * hour (`Cache-Control: public, max-age=3600`) with ETag "v1", and 304 to a request that names that ETag.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export async function startCacheOrigin(body: Buffer): Promise<{ url: string; close: () => void }> {
  const server = http.createServer((req, res) => {
    if (req.headers['if-none-match'] === '"v1"') { res.writeHead(304, { etag: '"v1"', 'cache-control': 'public, max-age=3600' }); res.end(); return; }
    res.writeHead(200, { 'cache-control': 'public, max-age=3600', etag: '"v1"', 'content-type': 'text/plain', 'content-length': String(body.length) });
    res.end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}
