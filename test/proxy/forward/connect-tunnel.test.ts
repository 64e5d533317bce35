import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { once } from 'node:events';
import net, { type Socket } from 'node:net';
import { createHardenedServer } from '../../../src/server/http-server.ts';
import { createSilentLogger } from '../../../src/server/logger.ts';
import { createCredentialChecker, formatBasicCredentials } from '../../../src/proxy/forward/basic-auth.ts';
import { createDenyList, parseCidr, type Cidr } from '../../../src/proxy/forward/cidr.ts';
import { createConnectTunnels, type ConnectTunnelOptions, type ConnectTunnels } from '../../../src/proxy/tunnel/connect-tunnel.ts';
import { createTunnelStats, type TunnelStats } from '../../../src/proxy/tunnel/tunnel-stats.ts';
import { localhostCert } from '../../helpers/certs.ts';
import { closeServer, connectThrough, rawExchange, listenLocal, portOf, readAll, startTcp } from './helpers.ts';

/** Wait (bounded by the test timeout) until every tunnel has closed and been counted. */
async function untilClosed(stats: TunnelStats): Promise<void> {
  while (stats.snapshot().open !== 0) await new Promise((r) => setTimeout(r, 5));
}

interface TestProxy { port: number; stats: TunnelStats; tunnels: ConnectTunnels; close(): Promise<void> }

async function startTunnelProxy(opts: Partial<Omit<ConnectTunnelOptions, 'deny' | 'auth'>> & { deny?: string[]; users?: Array<{ user: string; pass: string }> }): Promise<TestProxy> {
  const log = createSilentLogger();
  const stats = createTunnelStats();
  const deny = (opts.deny ?? []).map((d) => (parseCidr(d) as { kind: 'ok'; cidr: Cidr }).cidr);
  const tunnels = createConnectTunnels({
    connectPorts: opts.connectPorts ?? [443], auth: createCredentialChecker(opts.users ?? []), deny: createDenyList(deny),
    connectTimeoutMs: opts.connectTimeoutMs ?? 5000, idleTimeoutMs: opts.idleTimeoutMs ?? 30_000,
    upstreamProxy: opts.upstreamProxy ?? null, stats, log,
  });
  const server = createHardenedServer((_req, res) => { res.statusCode = 404; res.end(); }, { log });
  server.on('connect', tunnels.onConnect);
  await listenLocal(server);
  return { port: portOf(server), stats, tunnels, close: async () => { tunnels.destroyAll(); await closeServer(server); } };
}

describe('CONNECT tunnels', () => {
  const { key, cert } = localhostCert();
  let tlsServer: https.Server;
  let tlsPort: number;
  const cleanups: Array<() => Promise<void>> = [];

  before(async () => {
    tlsServer = https.createServer({ key, cert }, (req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.end(`secure hello ${req.url}`);
    });
    await listenLocal(tlsServer);
    tlsPort = portOf(tlsServer);
  });
  after(async () => {
    for (const c of cleanups.reverse()) await c();
    await closeServer(tlsServer);
  });

  test('an HTTPS request end to end through a tunnel (node client; TLS verified against the self-signed cert)', async () => {
    const proxy = await startTunnelProxy({ connectPorts: [tlsPort] });
    cleanups.push(proxy.close);
    const { status, socket } = await connectThrough(proxy.port, `localhost:${tlsPort}`);
    assert.equal(status, 200);
    const secure = tls.connect({ socket, servername: 'localhost', ca: cert });
    await once(secure, 'secureConnect');
    secure.write('GET /through-the-tunnel HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    const raw = (await readAll(secure)).toString('utf8');
    assert.match(raw, /^HTTP\/1\.1 200 OK/);
    assert.match(raw, /secure hello \/through-the-tunnel$/);
    await new Promise((r) => setImmediate(r));
    assert.equal(proxy.stats.total, 1);
    assert.ok(proxy.stats.bytesIn > 100 && proxy.stats.bytesOut > 100, JSON.stringify(proxy.stats.snapshot()));
  });

  test('the same through https.request with a CONNECT-socket agent', async () => {
    const proxy = await startTunnelProxy({ connectPorts: [tlsPort] });
    cleanups.push(proxy.close);
    const { socket } = await connectThrough(proxy.port, `127.0.0.1:${tlsPort}`);
    const body = await new Promise<string>((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port: tlsPort, path: '/x?y=1', ca: cert, createConnection: () => tls.connect({ socket, ca: cert, servername: 'localhost' }) }, (res) => {
        readAll(res).then((b) => resolve(b.toString()), reject);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(body, 'secure hello /x?y=1');
  });

  test('403 for a port not in --connect-ports; the target is never contacted', async () => {
    const target = await startTcp((s) => s.end());
    cleanups.push(target.close);
    const proxy = await startTunnelProxy({ connectPorts: [443] });
    cleanups.push(proxy.close);
    const raw = await rawExchange(proxy.port, `CONNECT 127.0.0.1:${target.port} HTTP/1.1\r\nHost: 127.0.0.1:${target.port}\r\n\r\n`);
    assert.match(raw, /^HTTP\/1\.1 403 Forbidden\r\n/);
    assert.match(raw, /\r\nConnection: close\r\n/);
    assert.match(raw, /port \d+ is not allowed/);
    assert.equal(target.connections(), 0);
    assert.equal(proxy.stats.refused, 1);
    assert.equal(proxy.stats.total, 0);
  });

  test('407 with Proxy-Authenticate when credentials are missing or wrong; 200 when right', async () => {
    const target = await startTcp((s) => s.pipe(s));
    cleanups.push(target.close);
    const proxy = await startTunnelProxy({ connectPorts: [target.port], users: [{ user: 'alice', pass: 'wonder:land' }] });
    cleanups.push(proxy.close);
    for (const headers of [{} as Record<string, string>, { 'proxy-authorization': formatBasicCredentials('alice', 'wrong') }, { 'proxy-authorization': 'Bearer abc' }]) {
      const r = await connectThrough(proxy.port, `127.0.0.1:${target.port}`, headers);
      assert.equal(r.status, 407);
      assert.equal(r.headers['proxy-authenticate'], 'Basic realm="ferry"');
    }
    assert.equal(target.connections(), 0);
    // a second Proxy-Authorization line (Node would keep only the first) is refused outright
    const dup = await rawExchange(proxy.port, `CONNECT 127.0.0.1:${target.port} HTTP/1.1\r\nHost: x\r\nProxy-Authorization: ${formatBasicCredentials('alice', 'wonder:land')}\r\nProxy-Authorization: Basic Zm9vOmJhcg==\r\n\r\n`);
    assert.match(dup, /^HTTP\/1\.1 400 /);
    assert.equal(target.connections(), 0);
    const ok = await connectThrough(proxy.port, `127.0.0.1:${target.port}`, { 'proxy-authorization': formatBasicCredentials('alice', 'wonder:land') });
    assert.equal(ok.status, 200);
    ok.socket.end('ping');
    assert.equal((await readAll(ok.socket)).toString(), 'ping');
  });

  test('400 for a target that is not host:port; 502 when nothing listens', async () => {
    const proxy = await startTunnelProxy({ connectPorts: [1] });
    cleanups.push(proxy.close);
    for (const t of ['localhost', 'http://x:1/', 'a@b:443']) assert.equal((await connectThrough(proxy.port, t)).status, 400, t);
    const refused = await connectThrough(proxy.port, '127.0.0.1:1');
    assert.equal(refused.status, 502);
  });

  test('--deny: denied addresses (literal or after DNS) get 403 and are never contacted', async () => {
    const target = await startTcp((s) => s.pipe(s));
    cleanups.push(target.close);
    const proxy = await startTunnelProxy({ connectPorts: [target.port], deny: ['127.0.0.0/8', '::1'] });
    cleanups.push(proxy.close);
    for (const t of [`127.0.0.1:${target.port}`, `localhost:${target.port}`, `[::ffff:127.0.0.1]:${target.port}`]) {
      const raw = await rawExchange(proxy.port, `CONNECT ${t} HTTP/1.1\r\nHost: ${t}\r\n\r\n`);
      assert.match(raw, /^HTTP\/1\.1 403 Forbidden\r\n[^]*denied range 127\.0\.0\.0\/8/, t);
    }
    assert.equal(target.connections(), 0);
  });

  test('half-close: the client ends its side and still receives everything the target sends afterwards', async () => {
    const target = await startTcp((s) => {
      const got: Buffer[] = [];
      s.on('data', (c: Buffer) => got.push(c));
      s.on('end', () => { s.write(`got ${Buffer.concat(got).length} bytes;`); setTimeout(() => s.end('bye'), 20); });
    }, { allowHalfOpen: true });
    cleanups.push(target.close);
    const proxy = await startTunnelProxy({ connectPorts: [target.port] });
    cleanups.push(proxy.close);
    const { socket } = await connectThrough(proxy.port, `127.0.0.1:${target.port}`);
    socket.end(Buffer.alloc(100_000, 7));
    assert.equal((await readAll(socket)).toString(), 'got 100000 bytes;bye');
    await once(socket, 'close');
    await untilClosed(proxy.stats);
    assert.equal(proxy.stats.errored, 0);
  });

  test('a target that resets mid-stream resets the client side too (never a clean end)', async () => {
    const target = await startTcp((s) => {
      s.write('partial data');
      s.once('data', () => (s as Socket).resetAndDestroy());
    });
    cleanups.push(target.close);
    const proxy = await startTunnelProxy({ connectPorts: [target.port] });
    cleanups.push(proxy.close);
    const { socket } = await connectThrough(proxy.port, `127.0.0.1:${target.port}`);
    let ended = false;
    socket.on('end', () => { ended = true; });
    const errored = new Promise<NodeJS.ErrnoException>((resolve) => socket.once('error', resolve));
    socket.once('data', () => socket.write('go'));
    const err = await errored;
    assert.equal(err.code, 'ECONNRESET');
    assert.equal(ended, false);
    await untilClosed(proxy.stats);
    assert.equal(proxy.stats.errored, 1);
    // The proxy is still serving.
    const again = await connectThrough(proxy.port, `127.0.0.1:${target.port}`);
    assert.equal(again.status, 200);
    again.socket.destroy();
  });

  test('an idle tunnel is closed after --idle-timeout', async () => {
    const target = await startTcp(() => { /* silent */ });
    cleanups.push(target.close);
    const proxy = await startTunnelProxy({ connectPorts: [target.port], idleTimeoutMs: 150 });
    cleanups.push(proxy.close);
    const { socket } = await connectThrough(proxy.port, `127.0.0.1:${target.port}`);
    socket.on('error', () => {});
    await once(socket, 'close');
    await untilClosed(proxy.stats);
    assert.equal(proxy.stats.errored, 1);
  });

  test('200 simultaneous tunnels each carry their own bytes', async () => {
    const target = await startTcp((s) => s.pipe(s));
    cleanups.push(target.close);
    const proxy = await startTunnelProxy({ connectPorts: [target.port] });
    cleanups.push(proxy.close);
    const N = 200;
    const sockets = await Promise.all(Array.from({ length: N }, () => connectThrough(proxy.port, `127.0.0.1:${target.port}`)));
    assert.ok(sockets.every((s) => s.status === 200));
    assert.equal(proxy.stats.open, N);
    const results = await Promise.all(sockets.map(({ socket }, i) => {
      const payload = Buffer.alloc(10_000 + i, i % 251);
      const p = readAll(socket);
      socket.end(payload);
      return p.then((b) => b.equals(payload));
    }));
    assert.equal(results.filter(Boolean).length, N);
    await untilClosed(proxy.stats);
    assert.equal(proxy.stats.total, N);
    const expected = Array.from({ length: N }, (_, i) => 10_000 + i).reduce((a, b) => a + b, 0);
    assert.equal(proxy.stats.bytesIn, expected);
    assert.equal(proxy.stats.bytesOut, expected);
  });

  test('64 MiB through a tunnel to a slow reader keeps flowing with backpressure', async () => {
    let received = 0;
    const target = await startTcp((s) => {
      s.on('data', (c: Buffer) => {
        received += c.length;
        s.pause();
        setImmediate(() => s.resume());
      });
      s.on('end', () => s.end(String(received)));
    }, { allowHalfOpen: true });
    cleanups.push(target.close);
    const proxy = await startTunnelProxy({ connectPorts: [target.port] });
    cleanups.push(proxy.close);
    const { socket } = await connectThrough(proxy.port, `127.0.0.1:${target.port}`);
    const chunk = Buffer.alloc(1 << 20, 1);
    const reply = readAll(socket);
    for (let i = 0; i < 64; i++) if (!socket.write(chunk)) await once(socket, 'drain');
    socket.end();
    assert.equal((await reply).toString(), String(64 << 20));
  });

  test('--upstream-proxy: CONNECT is chained through another proxy', async () => {
    const target = await startTcp((s) => s.pipe(s));
    cleanups.push(target.close);
    const far = await startTunnelProxy({ connectPorts: [target.port], users: [{ user: 'u', pass: 'p@ss' }] });
    cleanups.push(far.close);
    const near = await startTunnelProxy({ connectPorts: [target.port], upstreamProxy: new URL(`http://u:p%40ss@127.0.0.1:${far.port}`) });
    cleanups.push(near.close);
    const { status, socket } = await connectThrough(near.port, `127.0.0.1:${target.port}`);
    assert.equal(status, 200);
    socket.end('chained');
    assert.equal((await readAll(socket)).toString(), 'chained');
    assert.equal(far.stats.total, 1);
    // Wrong credentials for the far proxy: the near one answers 502, never a tunnel.
    const bad = await startTunnelProxy({ connectPorts: [target.port], upstreamProxy: new URL(`http://u:nope@127.0.0.1:${far.port}`) });
    cleanups.push(bad.close);
    assert.equal((await connectThrough(bad.port, `127.0.0.1:${target.port}`)).status, 502);
  });
});

describe('CONNECT robustness', () => {
  test('clients that vanish mid-CONNECT never crash the proxy (proxy-agents#102 class)', async () => {
    let accepted = 0;
    const target = await startTcp(() => { accepted++; });
    const proxy = await startTunnelProxy({ connectPorts: [target.port] });
    try {
      for (let i = 0; i < 50; i++) {
        const s = net.connect({ host: '127.0.0.1', port: proxy.port });
        s.on('error', () => {});
        s.write(`CONNECT 127.0.0.1:${target.port} HTTP/1.1\r\nHost: x\r\n\r\n`);
        if (i % 2 === 0) s.destroy(); else setImmediate(() => s.resetAndDestroy());
      }
      await new Promise((r) => setTimeout(r, 100));
      const ok = await connectThrough(proxy.port, `127.0.0.1:${target.port}`);
      assert.equal(ok.status, 200);
      ok.socket.destroy();
      await untilClosed(proxy.stats);
      assert.ok(accepted >= 1);
    } finally {
      await proxy.close();
      await target.close();
    }
  });

  test('an upstream proxy that was down is used as soon as it is back (no restart needed; proxy-chain#530)', async () => {
    const target = await startTcp((s) => s.pipe(s));
    const placeholder = net.createServer();
    await listenLocal(placeholder);
    const farPort = portOf(placeholder);
    await closeServer(placeholder);
    const near = await startTunnelProxy({ connectPorts: [target.port], upstreamProxy: new URL(`http://127.0.0.1:${farPort}`), connectTimeoutMs: 2000 });
    try {
      assert.equal((await connectThrough(near.port, `127.0.0.1:${target.port}`)).status, 502);
      // the far proxy comes up on that port
      const farServer = createHardenedServer((_q, r) => { r.statusCode = 404; r.end(); }, { log: createSilentLogger() });
      const farStats = createTunnelStats();
      const far = createConnectTunnels({ connectPorts: [target.port], auth: createCredentialChecker([]), deny: createDenyList([]), connectTimeoutMs: 2000, idleTimeoutMs: 10_000, upstreamProxy: null, stats: farStats, log: createSilentLogger() });
      farServer.on('connect', far.onConnect);
      await new Promise<void>((r) => farServer.listen(farPort, '127.0.0.1', r));
      try {
        const { status, socket } = await connectThrough(near.port, `127.0.0.1:${target.port}`);
        assert.equal(status, 200);
        socket.end('back');
        assert.equal((await readAll(socket)).toString(), 'back');
        assert.equal(farStats.total, 1);
      } finally {
        far.destroyAll();
        await closeServer(farServer);
      }
    } finally {
      await near.close();
      await target.close();
    }
  });
});
