/**
 * One path for every entry point (issue 13): upgrades and CONNECT run the same phases as ordinary requests, so a user
 * filter (createProxy({ filters })) sees them — its requestFilter can refuse them and its logging phase is told about
 * them — and the upstream is never contacted for a refused one.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createProxyServer, type ProxyServer } from '../../src/index.ts';
import type { ProxyFilter } from '../../src/proxy/phases.ts';
import { startRecordingUpstream, type RecordingUpstream } from '../fixtures/recording-upstream.ts';

function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(bytes));
    let out = '';
    s.on('data', (b: Buffer) => { out += b.toString('latin1'); });
    s.on('close', () => resolve(out));
    s.on('error', reject);
  });
}

describe('user filters see upgrades and CONNECT', () => {
  let up: RecordingUpstream;
  let ps: ProxyServer;
  let port: number;
  const seen: string[] = [];
  const denyPrivate: ProxyFilter = {
    name: 'deny-private',
    requestFilter(ctx) {
      if (ctx.request.target.startsWith('/private') || ctx.request.target.startsWith('127.0.0.2:')) {
        return { kind: 'respond', reply: { status: 403, body: 'Forbidden by policy\n' } };
      }
      return { kind: 'continue' };
    },
    logging(ctx) { seen.push(`${ctx.request.method} ${ctx.request.target} ${ctx.status}`); },
  };

  before(async () => {
    up = await startRecordingUpstream();
    ps = createProxyServer({ upstream: up.url, forward: { connectPorts: [up.port], credentials: [], deny: [], allowOpen: true }, filters: [denyPrivate] });
    await ps.proxy.ready();
    await new Promise<void>((r) => ps.server.listen(0, '127.0.0.1', r));
    port = (ps.server.address() as net.AddressInfo).port;
  });
  after(async () => { await ps.close(); await up.close(); });

  it('a deny-path filter refuses a WebSocket upgrade with 403; the upstream never sees it; logging is told', async () => {
    const before = up.requests.length;
    const raw = await rawExchange(port, 'GET /private/ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
    assert.match(raw, /^HTTP\/1\.1 403 Forbidden\r\n/);
    assert.match(raw, /\r\nconnection: close\r\n/i);
    assert.match(raw, /\r\n\r\nForbidden by policy\n$/);
    assert.equal(up.requests.length, before);
    assert.ok(seen.includes('GET /private/ws 403'), seen.join(','));
  });

  it('the same filter refuses a CONNECT with 403 before any connection to the target; logging is told', async () => {
    const raw = await rawExchange(port, `CONNECT 127.0.0.2:${up.port} HTTP/1.1\r\nHost: 127.0.0.2:${up.port}\r\n\r\n`);
    assert.match(raw, /^HTTP\/1\.1 403 Forbidden\r\n/);
    assert.match(raw, /Forbidden by policy\n$/);
    assert.equal(ps.proxy.tunnelStats.connect.refused, 1);
    assert.equal(ps.proxy.tunnelStats.connect.total, 0);
    assert.ok(seen.includes(`CONNECT 127.0.0.2:${up.port} 403`), seen.join(','));
  });

  it('an allowed CONNECT still tunnels, and its access goes through the same logging phase', async () => {
    const raw = await rawExchange(port, `CONNECT 127.0.0.1:${up.port} HTTP/1.1\r\nHost: 127.0.0.1:${up.port}\r\n\r\nGET /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
    assert.match(raw, /^HTTP\/1\.1 200 Connection Established\r\n\r\nHTTP\/1\.1 200 /);
    assert.equal(ps.proxy.tunnelStats.connect.total, 1);
    const deadline = Date.now() + 2000;
    while (!seen.includes(`CONNECT 127.0.0.1:${up.port} 200`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(seen.includes(`CONNECT 127.0.0.1:${up.port} 200`), seen.join(','));
  });
});
