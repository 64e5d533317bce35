import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { parseRoutingConfig } from '../../../src/proxy/routing/routing-config.ts';
import { startProxy, waitFor } from '../../fixtures/proxy.ts';

/** An origin answering after `delayMs` with x-served-by: NAME; counts its open connections. */
async function slowOrigin(name: string, delayMs: number) {
  const server = http.createServer((req, res) => {
    req.resume();
    setTimeout(() => { res.writeHead(200, { 'x-served-by': name, 'content-length': 2 }); res.end('ok'); }, delayMs);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const open = () => new Promise<number>((r) => server.getConnections((_e, n) => r(n)));
  return { url, open, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

describe('swapping the Routing (what a reload does)', () => {
  it('requests in flight finish on the routing they started with, new ones follow the new routes; close() waits for them', async () => {
    const a = await slowOrigin('a', 300);
    const b = await slowOrigin('b', 0);
    after(async () => { await a.close(); await b.close(); });
    const config = (target: string) => parseRoutingConfig({ pools: { web: { targets: [target] } }, routes: [{ path: '/', pool: 'web' }] }, 't.yaml', []);
    const proxy = await startProxy({ routing: config(a.url) });
    after(() => proxy.close());
    const inFlight = Array.from({ length: 20 }, (_, i) => fetch(`${proxy.url}/old/${i}`).then(async (r) => [r.status, r.headers.get('x-served-by'), await r.text()]));
    await waitFor(() => proxy.proxyServer.proxy.routing.snapshot().pools.web!.targets[0]!.inFlight === 20, '20 requests in flight on a');
    const old = proxy.proxyServer.proxy.swapRouting(proxy.proxyServer.proxy.buildRouting(config(b.url)));
    const closed = old.close();
    const fresh = await fetch(`${proxy.url}/new`);
    assert.equal(fresh.headers.get('x-served-by'), 'b', 'a new request follows the new routes at once');
    await fresh.text();
    let closedEarly = false;
    void closed.then(() => { closedEarly = true; });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(closedEarly, false, 'close() waits for the requests that started on the old routing');
    for (const r of await Promise.all(inFlight)) assert.deepEqual(r, [200, 'a', 'ok']);
    await closed;
  });
});
