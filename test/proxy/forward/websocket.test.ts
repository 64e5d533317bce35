/** WebSocket (Upgrade) passthrough in reverse and forward modes, with a real handshake and frames (ws package). */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { createProxyServer, type ProxyServer } from '../../../src/proxy/create-proxy.ts';
import { formatBasicCredentials } from '../../../src/proxy/forward/basic-auth.ts';
import { closeServer, connectThrough, listenLocal, portOf } from './helpers.ts';

async function startProxy(init: Parameters<typeof createProxyServer>[0]): Promise<{ ps: ProxyServer; port: number }> {
  const ps = createProxyServer(init);
  await ps.proxy.ready();
  await listenLocal(ps.server);
  return { ps, port: portOf(ps.server) };
}

async function stopProxy(p: { ps: ProxyServer }): Promise<void> {
  p.ps.destroy();
  await p.ps.close();
}

/** Open `ws`, send each message, collect as many replies; then close. */
async function echoRound(ws: WebSocket, messages: Array<string | Buffer>): Promise<Array<string | Buffer>> {
  await once(ws, 'open');
  const replies: Array<string | Buffer> = [];
  const done = new Promise<void>((resolve, reject) => {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      replies.push(isBinary ? data : data.toString('utf8'));
      if (replies.length === messages.length) resolve();
    });
    ws.on('error', reject);
  });
  for (const m of messages) ws.send(m);
  await done;
  ws.close(1000, 'bye');
  const [code] = await once(ws, 'close') as [number];
  assert.equal(code, 1000);
  return replies;
}

describe('WebSocket through ferry', () => {
  let server: http.Server;
  let wss: WebSocketServer;
  let wsPort: number;
  const handshakes: http.IncomingHttpHeaders[] = [];
  const big = Buffer.alloc(1 << 20, 9);

  before(async () => {
    server = http.createServer((_req, res) => { res.statusCode = 426; res.setHeader('upgrade', 'websocket'); res.end('use websocket'); });
    wss = new WebSocketServer({ noServer: true });
    server.on('upgrade', (req, socket, head) => {
      if (req.url === '/refuse') { socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 4\r\n\r\nnope'); return; }
      handshakes.push(req.headers);
      wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    });
    await listenLocal(server);
    wsPort = portOf(server);
  });
  after(async () => {
    for (const c of wss.clients) c.terminate();
    wss.close();
    await closeServer(server);
  });

  test('reverse mode: handshake relayed (101), text and 1 MiB binary frames echoed, Via and X-Forwarded-For added', async () => {
    const p = await startProxy({ upstream: `http://127.0.0.1:${wsPort}` });
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${p.port}/chat?room=1`);
      const upgraded = new Promise<http.IncomingMessage>((r) => ws.once('upgrade', r));
      const replies = await echoRound(ws, ['hello', big]);
      assert.equal(replies[0], 'hello');
      assert.ok(Buffer.isBuffer(replies[1]) && (replies[1] as Buffer).equals(big));
      const res = await upgraded;
      assert.equal(res.headers.via, '1.1 ferry');
      const h = handshakes.at(-1)!;
      assert.equal(h.via, '1.1 ferry');
      assert.equal(h['x-forwarded-for'], '127.0.0.1');
      assert.equal(h.upgrade, 'websocket');
      const stats = p.ps.proxy.tunnelStats.upgrade;
      while (stats.snapshot().open !== 0) await new Promise((r) => setTimeout(r, 5));
      assert.equal(stats.total, 1);
      assert.ok(stats.bytesIn > big.length && stats.bytesOut > big.length);
    } finally { await stopProxy(p); }
  });

  test('forward mode, absolute-form upgrade (GET http://host/… with Upgrade), with proxy auth', async () => {
    const p = await startProxy({ forward: { connectPorts: [443], credentials: [{ user: 'u', pass: 'p' }], deny: [], allowOpen: false } });
    try {
      const open = (auth: boolean) => new WebSocket(`ws://127.0.0.1:${wsPort}/fwd`, {
        createConnection: () => net.connect({ host: '127.0.0.1', port: p.port }),
        finishRequest: (req: http.ClientRequest) => {
          req.path = `http://127.0.0.1:${wsPort}/fwd`; // absolute-form, as to a proxy
          if (auth) req.setHeader('proxy-authorization', formatBasicCredentials('u', 'p'));
          req.end();
        },
      } as WebSocket.ClientOptions);
      assert.deepEqual(await echoRound(open(true), ['through the forward proxy']), ['through the forward proxy']);
      const h = handshakes.at(-1)!;
      assert.equal(h.host, `127.0.0.1:${wsPort}`);
      assert.equal(h['proxy-authorization'], undefined);
      const denied = open(false);
      denied.on('error', () => { /* terminate() after the refusal reports one */ });
      const [, res] = await once(denied, 'unexpected-response') as [unknown, http.IncomingMessage];
      assert.equal(res.statusCode, 407);
      assert.equal(res.headers['proxy-authenticate'], 'Basic realm="ferry"');
      denied.terminate();
    } finally { await stopProxy(p); }
  });

  test('forward mode through a CONNECT tunnel (how browsers reach ws:// via a proxy)', async () => {
    const p = await startProxy({ forward: { connectPorts: [wsPort], credentials: [], deny: [], allowOpen: false } });
    try {
      const { status, socket } = await connectThrough(p.port, `127.0.0.1:${wsPort}`);
      assert.equal(status, 200);
      const ws = new WebSocket(`ws://127.0.0.1:${wsPort}/tunnelled`, { createConnection: () => socket } as WebSocket.ClientOptions);
      assert.deepEqual(await echoRound(ws, ['a', 'b', 'c']), ['a', 'b', 'c']);
      while (p.ps.proxy.tunnelStats.connect.snapshot().open !== 0) await new Promise((r) => setTimeout(r, 5));
      // GET /stats and /metrics count the tunnel
      const stats = await (await fetch(`http://127.0.0.1:${p.port}/stats`)).json() as { tunnels: { open: number; total: number; bytes: { in: number; out: number } }; upgrades: { total: number } };
      assert.equal(stats.tunnels.total, 1);
      assert.equal(stats.tunnels.open, 0);
      assert.equal(stats.tunnels.bytes.in, p.ps.proxy.tunnelStats.connect.bytesIn);
      assert.ok(stats.tunnels.bytes.in > 0 && stats.tunnels.bytes.out > 0);
      assert.equal(stats.upgrades.total, 0);
      const metrics = await (await fetch(`http://127.0.0.1:${p.port}/metrics`)).text();
      assert.match(metrics, /^ferry_tunnels_total\{kind="connect"\} 1$/m);
      assert.match(metrics, /^ferry_tunnels_open\{kind="connect"\} 0$/m);
      assert.match(metrics, new RegExp(`^ferry_tunnel_bytes_total\\{kind="connect",direction="in"\\} ${stats.tunnels.bytes.in}$`, 'm'));
    } finally { await stopProxy(p); }
  });

  test('an upstream that declines the upgrade: its answer is relayed, connection closed; no upstream → 502', async () => {
    const p = await startProxy({ upstream: `http://127.0.0.1:${wsPort}` });
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${p.port}/refuse`);
      ws.on('error', () => {});
      const [, res] = await once(ws, 'unexpected-response') as [unknown, http.IncomingMessage];
      assert.equal(res.statusCode, 403);
      ws.terminate();
    } finally { await stopProxy(p); }
    const closed = net.createServer();
    await listenLocal(closed);
    const deadPort = portOf(closed);
    await closeServer(closed);
    const q = await startProxy({ upstream: `http://127.0.0.1:${deadPort}` });
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${q.port}/x`);
      ws.on('error', () => {});
      const [, res] = await once(ws, 'unexpected-response') as [unknown, http.IncomingMessage];
      assert.equal(res.statusCode, 502);
      ws.terminate();
    } finally { await stopProxy(q); }
  });

  test('an upgrade request with a duplicate Host is refused (400) and never reaches the upstream', async () => {
    const p = await startProxy({ upstream: `http://127.0.0.1:${wsPort}` });
    try {
      const before = handshakes.length;
      const raw = await new Promise<string>((resolve, reject) => {
        const s = net.connect({ host: '127.0.0.1', port: p.port });
        let d = '';
        s.on('data', (c: Buffer) => { d += c.toString(); }).on('close', () => resolve(d)).on('error', reject);
        s.write('GET /chat HTTP/1.1\r\nHost: a.test\r\nHost: b.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
          'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
      });
      assert.match(raw, /^HTTP\/1\.1 400 /);
      assert.equal(handshakes.length, before);
    } finally { await stopProxy(p); }
  });

  test('reverse-mode upgrade through --upstream-proxy (CONNECT to the origin via another ferry)', async () => {
    const far = await startProxy({ forward: { connectPorts: [wsPort], credentials: [{ user: 'x', pass: 'y' }], deny: [], allowOpen: false } });
    const near = await startProxy({ upstream: `http://127.0.0.1:${wsPort}`, upstreamProxy: new URL(`http://x:y@127.0.0.1:${far.port}`) });
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${near.port}/chained`);
      assert.deepEqual(await echoRound(ws, ['via two proxies']), ['via two proxies']);
      assert.equal(far.ps.proxy.tunnelStats.connect.total, 1);
      assert.ok(far.ps.proxy.tunnelStats.connect.bytesIn > 0, 'the upgrade really went through the far proxy');
      // every hop closes once the WebSocket closed: no half-open socket is left behind
      for (const s of [near.ps.proxy.tunnelStats.upgrade, far.ps.proxy.tunnelStats.connect]) {
        while (s.snapshot().open !== 0) await new Promise((r) => setTimeout(r, 5));
      }
    } finally { await stopProxy(near); await stopProxy(far); }
  });
});
