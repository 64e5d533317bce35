/**
 * --deny against DNS rebinding: a name that passes the route's check and resolves into a denied range when the socket
 * is opened must not be reached, for https absolute-form and wss upgrades (which keep the name for TLS) as for http.
 * The resolver is injected (forward.resolve) so the test controls the second answer; the "denied" host is a counting
 * TCP listener on 127.0.0.2, so any connection attempt is seen even though TLS would fail afterwards.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { LookupAddress } from 'node:dns';
import { createProxy, type Proxy } from '../../../src/index.ts';
import { closeServer } from './helpers.ts';

interface Counting { server: net.Server; port: number; connections: number }

async function countingListener(host: string, port = 0): Promise<Counting> {
  const c: Counting = { server: net.createServer((s) => { c.connections++; s.destroy(); }), port: 0, connections: 0 };
  await new Promise<void>((resolve, reject) => { c.server.once('error', reject); c.server.listen(port, host, resolve); });
  c.port = (c.server.address() as net.AddressInfo).port;
  return c;
}

/** First answer allowed (127.0.0.1), every later one in the denied range (127.0.0.2): a rebinding name. */
function rebindingResolver(): { resolve: (host: string) => Promise<LookupAddress[]>; calls: () => number } {
  let calls = 0;
  return {
    resolve: async () => [{ address: ++calls === 1 ? '127.0.0.1' : '127.0.0.2', family: 4 }],
    calls: () => calls,
  };
}

function send(proxyPort: number, target: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxyPort, path: target, headers: { host: new URL(target).host, ...headers } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('upgrade', (res, socket) => { socket.destroy(); resolve({ status: res.statusCode ?? 0, body: '' }); });
    req.on('error', reject);
    req.end();
  });
}

describe('--deny holds when a name rebinds between the check and the connect', () => {
  let denied: Counting;
  let allowed: Counting;
  before(async () => {
    // the same port on both addresses, so only the address decides where a connection lands
    for (let attempt = 0; ; attempt++) {
      denied = await countingListener('127.0.0.2');
      try { allowed = await countingListener('127.0.0.1', denied.port); break; } catch (err) {
        await closeServer(denied.server);
        if (attempt === 20) throw err;
      }
    }
  });
  after(async () => { await Promise.all([closeServer(denied.server), closeServer(allowed.server)]); });

  async function withProxy(resolver: ReturnType<typeof rebindingResolver>, run: (port: number) => Promise<void>): Promise<void> {
    const proxy: Proxy = createProxy({ forward: { connectPorts: [443], credentials: [], deny: ['127.0.0.2/32'], allowOpen: false, resolve: resolver.resolve } });
    const server = http.createServer(proxy.handler).on('upgrade', proxy.upgrade);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try { await run((server.address() as net.AddressInfo).port); } finally { server.close(); await proxy.close(); }
  }

  for (const [what, target, headers] of [
    ['https absolute-form', (p: number) => `https://rebind.test:${p}/secret`, {}],
    ['wss upgrade', (p: number) => `https://rebind.test:${p}/socket`, { connection: 'upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' }],
    ['http absolute-form', (p: number) => `http://rebind.test:${p}/plain`, {}],
  ] as const) {
    test(`${what}: the denied address is never connected to${what.startsWith('http ') ? '' : ' (403)'}`, async () => {
      const before = { denied: denied.connections, allowed: allowed.connections };
      const resolver = rebindingResolver();
      await withProxy(resolver, async (port) => {
        const r = await send(port, target(denied.port), headers);
        // http is pinned to the first (checked) answer; https and wss re-resolve at connect time and are refused there
        if (what.startsWith('http ')) assert.ok(allowed.connections > before.allowed, 'pinned to the checked address');
        else assert.equal(r.status, 403, r.body);
        assert.equal(denied.connections, before.denied, 'no connection reached 127.0.0.2');
      });
    });
  }

  test('control: a name that keeps resolving to an allowed address is reached (the listeners do count)', async () => {
    const before = allowed.connections;
    await withProxy({ resolve: async () => [{ address: '127.0.0.1', family: 4 }], calls: () => 0 }, async (port) => {
      const r = await send(port, `https://rebind.test:${denied.port}/secret`);
      assert.equal(r.status, 502, 'the counting listener is not a TLS server');
    });
    assert.ok(allowed.connections > before);
  });
});
