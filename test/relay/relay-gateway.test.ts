/** End to end through the narrow gateway: relay-client → gateway (1 MiB limit) → relay-server → target. */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo, type Socket } from 'node:net';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { localhostCert } from '../helpers/certs.ts';
import { sampleRss } from '../helpers/cli.ts';
import { formatContentDigest, H } from '../../src/relay/protocol.ts';
import { signRelayRequest } from '../../src/relay/hmac.ts';
import { getJson, patternSha256, patternStream, SECRET, startRelayPair, startTarget, viaProxy, type RelayPair, type Target } from './harness.ts';

const MiB = 1024 * 1024;

describe('relay through a 1 MiB gateway', () => {
  let pair: RelayPair;
  let target: Target;
  before(async () => {
    target = await startTarget();
    pair = await startRelayPair({ maxMessage: MiB });
  });
  after(async () => {
    await pair?.close();
    await target?.close();
  });

  test('small GET; the application head (with an 8 KB header) travels in the body, not as gateway headers', async () => {
    const big = 'x'.repeat(8000);
    const r = await viaProxy(pair.client.url, 'GET', `${target.url}/headers`, undefined, { 'x-app-big': big });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json');
    const seen = JSON.parse(r.text) as Record<string, string>;
    assert.equal(seen['x-app-big'], big);
    const small = await viaProxy(pair.client.url, 'GET', `${target.url}/small?q=1`);
    assert.equal(small.status, 200);
    assert.equal(small.text, 'hello /small?q=1');
  });

  test('HEAD keeps the target\'s Content-Length and carries no body', async () => {
    const r = await viaProxy(pair.client.url, 'HEAD', `${target.url}/bytes/100`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-length'], '100');
    assert.equal(r.bytes, 0);
  });

  test('hop-by-hop request headers are not relayed; end-to-end ones are', async () => {
    const r = await viaProxy(pair.client.url, 'GET', `${target.url}/headers`, undefined, { connection: 'x-hop', 'x-hop': '1', 'x-keep': 'yes' });
    const seen = JSON.parse(r.text) as Record<string, string>;
    assert.equal(seen['x-keep'], 'yes');
    assert.equal(seen['x-hop'], undefined);
  });

  test('100 MiB GET arrives byte-exact; relay memory stays bounded', async (t) => {
    const size = 100 * MiB;
    const serverBase = pair.servers[0]!.rss();
    const clientBase = pair.client.rss();
    const s = sampleRss(pair.servers[0]!.proc.pid!);
    const c = sampleRss(pair.client.proc.pid!);
    const r = await viaProxy(pair.client.url, 'GET', `${target.url}/bytes/${size}`);
    const serverPeak = s.stop();
    const clientPeak = c.stop();
    t.diagnostic(`RSS growth: relay-server ${((serverPeak - serverBase) / MiB).toFixed(1)} MiB (peak ${(serverPeak / MiB).toFixed(0)}), relay-client ${((clientPeak - clientBase) / MiB).toFixed(1)} MiB (peak ${(clientPeak / MiB).toFixed(0)})`);
    assert.equal(r.status, 200);
    assert.equal(r.bytes, size);
    assert.equal(r.sha256, patternSha256(size));
    assert.equal(r.headers['content-length'], String(size));
    // A 4-chunk window of 1 MiB messages per direction: growth far below the body size.
    assert.ok(serverPeak - serverBase < 100 * MiB, `relay-server RSS grew by ${((serverPeak - serverBase) / MiB).toFixed(1)} MiB`);
    assert.ok(clientPeak - clientBase < 100 * MiB, `relay-client RSS grew by ${((clientPeak - clientBase) / MiB).toFixed(1)} MiB`);
  });

  test('512 MiB download and 512 MiB upload: byte-exact, relay RSS growth stays under 100 MiB (bounded windows)', async (t) => {
    const size = 512 * MiB;
    for (const kind of ['GET', 'POST'] as const) {
      const serverBase = pair.servers[0]!.rss();
      const clientBase = pair.client.rss();
      const s = sampleRss(pair.servers[0]!.proc.pid!);
      const c = sampleRss(pair.client.proc.pid!);
      const r = kind === 'GET'
        ? await viaProxy(pair.client.url, 'GET', `${target.url}/bytes/${size}`)
        : await viaProxy(pair.client.url, 'POST', `${target.url}/echo`, patternStream(size), { 'content-length': String(size) });
      const serverGrowth = s.stop() - serverBase;
      const clientGrowth = c.stop() - clientBase;
      t.diagnostic(`${kind} 512 MiB: RSS growth relay-server ${(serverGrowth / MiB).toFixed(1)} MiB, relay-client ${(clientGrowth / MiB).toFixed(1)} MiB`);
      assert.equal(r.status, 200);
      assert.equal(r.bytes, size);
      assert.equal(r.sha256, patternSha256(size));
      assert.ok(serverGrowth < 100 * MiB, `relay-server RSS grew by ${(serverGrowth / MiB).toFixed(1)} MiB`);
      assert.ok(clientGrowth < 100 * MiB, `relay-client RSS grew by ${(clientGrowth / MiB).toFixed(1)} MiB`);
    }
  });

  test('100 MiB POST to /echo comes back byte-exact', async () => {
    const size = 100 * MiB;
    const r = await viaProxy(pair.client.url, 'POST', `${target.url}/echo`, patternStream(size), { 'content-type': 'application/x-ferry-test', 'content-length': String(size) });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/x-ferry-test');
    assert.equal(r.bytes, size);
    assert.equal(r.sha256, patternSha256(size));
  });

  test('16 concurrent transfers (GET and chunked POST) are all byte-exact', async () => {
    const jobs = Array.from({ length: 16 }, (_, i) => {
      const size = 2 * MiB + i * 77_777;
      return i % 2 === 0
        ? viaProxy(pair.client.url, 'GET', `${target.url}/bytes/${size}`).then((r) => ({ r, size }))
        : viaProxy(pair.client.url, 'POST', `${target.url}/echo`, patternStream(size)).then((r) => ({ r, size }));
    });
    for (const { r, size } of await Promise.all(jobs)) {
      assert.equal(r.status, 200);
      assert.equal(r.bytes, size);
      assert.equal(r.sha256, patternSha256(size));
    }
  });

  test('HTTPS through a CONNECT tunnel: TLS end to end to a local server', async () => {
    const { key, cert } = localhostCert();
    const size = 3 * MiB + 5;
    const srv = https.createServer({ key, cert }, (req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-secure': 'yes', 'content-length': size });
      patternStream(size).pipe(res);
    });
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const port = (srv.address() as AddressInfo).port;
    try {
      const socket = await new Promise<Socket>((resolve, reject) => {
        const proxy = new URL(pair.client.url);
        const req = http.request({ host: proxy.hostname, port: proxy.port, method: 'CONNECT', path: `localhost:${port}`, agent: false });
        req.on('connect', (res, sock) => res.statusCode === 200 ? resolve(sock) : reject(new Error(`CONNECT answered ${res.statusCode}`)));
        req.on('error', reject);
        req.end();
      });
      // Raw HTTP/1.1 over TLS over the tunnel: what the relay carries is ciphertext only.
      const raw = await new Promise<Buffer>((resolve, reject) => {
        const t = tls.connect({ socket, servername: 'localhost', ca: cert }, () => {
          t.write('GET /secret HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
        });
        const parts: Buffer[] = [];
        t.on('data', (c: Buffer) => parts.push(c));
        t.on('end', () => resolve(Buffer.concat(parts)));
        t.on('error', reject);
      });
      const split = raw.indexOf('\r\n\r\n');
      const head = raw.subarray(0, split).toString('latin1');
      const payload = raw.subarray(split + 4);
      const result = {
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]),
        secure: /\r\nx-secure: (\S+)/i.exec(head)?.[1],
        bytes: payload.length,
        sha: createHash('sha256').update(payload).digest('hex'),
      };
      assert.equal(result.status, 200);
      assert.equal(result.secure, 'yes');
      assert.equal(result.bytes, size);
      assert.equal(result.sha, patternSha256(size));
    } finally {
      await new Promise<void>((resolve) => { srv.close(() => resolve()); srv.closeAllConnections(); });
    }
  });

  test('an unreachable target is a 502 for plain HTTP and for CONNECT, and nothing hangs', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const r = await viaProxy(pair.client.url, 'GET', `http://127.0.0.1:${port}/`);
    assert.equal(r.status, 502);
    const proxy = new URL(pair.client.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: proxy.hostname, port: proxy.port, method: 'CONNECT', path: `127.0.0.1:${port}`, agent: false });
      req.on('connect', (res, sock) => { sock.destroy(); resolve(res.statusCode ?? 0); });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 502);
  });

  test('a replayed relay message is refused and has no second effect', async () => {
    const before = target.connections().accepted;
    const body = Buffer.from(JSON.stringify({ kind: 'connect', host: '127.0.0.1', port: target.port }));
    const fields = { [H.session]: randomBytes(16).toString('base64url'), [H.digest]: formatContentDigest(body) };
    const auth = signRelayRequest(Buffer.from(SECRET), { method: 'POST', path: '/relay/v1/open', fields, nowMs: Date.now(), nonce: randomBytes(18).toString('base64url') });
    const send = () => fetch(`${pair.gateway.url}/relay/v1/open`, { method: 'POST', headers: { ...fields, [H.auth]: auth, 'content-type': 'application/octet-stream' }, body });
    const first = await send();
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('cache-control'), 'no-store');
    const second = await send();
    assert.equal(second.status, 401);
    assert.equal(second.headers.get(H.error), 'replay');
    assert.equal(target.connections().accepted, before + 1, 'the replay opened no second target connection');
    const stats = await getJson(`${pair.servers[0]!.url}/stats`);
    assert.ok(stats.auth.replays >= 1);
  });

  test('a tampered message (body digest changed after signing) is refused with 401', async () => {
    const body = Buffer.from(JSON.stringify({ kind: 'connect', host: '127.0.0.1', port: target.port }));
    const fields = { [H.session]: randomBytes(16).toString('base64url'), [H.digest]: formatContentDigest(body) };
    const auth = signRelayRequest(Buffer.from(SECRET), { method: 'POST', path: '/relay/v1/open', fields, nowMs: Date.now(), nonce: randomBytes(18).toString('base64url') });
    const other = Buffer.from(JSON.stringify({ kind: 'connect', host: '127.0.0.1', port: 1 }));
    const r = await fetch(`${pair.gateway.url}/relay/v1/open`, { method: 'POST', headers: { ...fields, [H.digest]: formatContentDigest(other), [H.auth]: auth }, body: other });
    assert.equal(r.status, 401);
    const stale = signRelayRequest(Buffer.from(SECRET), { method: 'POST', path: '/relay/v1/open', fields, nowMs: Date.now() - 301_000, nonce: randomBytes(18).toString('base64url') });
    const r2 = await fetch(`${pair.gateway.url}/relay/v1/open`, { method: 'POST', headers: { ...fields, [H.auth]: stale }, body });
    assert.equal(r2.status, 401);
    assert.equal(r2.headers.get(H.error), 'skew');
  });

  test('stats on both sides count sessions, chunks and bytes (the only failures: the two unreachable targets)', async () => {
    const client = await getJson(`${pair.client.url}/stats`);
    const server = await getJson(`${pair.servers[0]!.url}/stats`);
    assert.equal(client.role, 'relay-client');
    assert.ok(client.sessions.opened >= 20);
    assert.ok(client.bytes.up >= 100 * MiB);
    assert.ok(client.bytes.down >= 200 * MiB);
    assert.ok(server.chunks.up >= 100);
    assert.ok(server.chunks.down >= 200);
    assert.equal(client.sessions.failed, 2, JSON.stringify(pair.client.logs.filter((l) => l.level === 'warn' || l.level === 'error')));
  });

  test('the gateway never saw a message over its limit', () => {
    assert.equal(pair.gateway.counts.tooLarge, 0);
    assert.equal(pair.gateway.counts.responseTooLarge, 0);
    assert.ok(pair.gateway.largestRequest() <= MiB, `largest request ${pair.gateway.largestRequest()}`);
    assert.ok(pair.gateway.largestResponse() <= MiB, `largest response ${pair.gateway.largestResponse()}`);
    assert.ok(pair.gateway.largestRequest() > MiB / 2, 'large bodies did travel in large chunks');
  });
});

describe('relay with a wrong secret', () => {
  test('every message is refused with 401 and the application sees a failed request', async () => {
    const target = await startTarget();
    const pair = await startRelayPair({ clientSecret: randomBytes(24).toString('base64'), clientArgs: ['--retries', '1'] });
    try {
      const r = await viaProxy(pair.client.url, 'GET', `${target.url}/x`);
      assert.equal(r.status, 502);
      assert.equal(target.connections().accepted, 0, 'nothing reached the target');
      const stats = await getJson(`${pair.servers[0]!.url}/stats`);
      assert.ok(stats.auth.refused >= 1);
      const unsigned = await fetch(`${pair.gateway.url}/relay/v1/open`, { method: 'POST', body: '{}' });
      assert.equal(unsigned.status, 401);
    } finally {
      await pair.close();
      await target.close();
    }
  });
});

describe('relay with the smallest --max-message (16 KiB)', () => {
  test('heads are never split: a request head over the budget gets 431, a response head over it 502; bodies still flow', async () => {
    const target = await startTarget();
    const bigHeads = http.createServer((req, res) => { res.writeHead(200, { 'x-big': 'y'.repeat(12_000) }); res.end('never'); });
    await new Promise<void>((resolve) => bigHeads.listen(0, '127.0.0.1', resolve));
    const pair = await startRelayPair({ maxMessage: 16 * 1024 });
    try {
      const tooBig = await viaProxy(pair.client.url, 'GET', `${target.url}/headers`, undefined, { 'x-app-big': 'z'.repeat(12_000) });
      assert.equal(tooBig.status, 431);
      const bigResponse = await viaProxy(pair.client.url, 'GET', `http://127.0.0.1:${(bigHeads.address() as AddressInfo).port}/`);
      assert.equal(bigResponse.status, 502);
      const size = 300_000;
      const r = await viaProxy(pair.client.url, 'POST', `${target.url}/echo`, patternStream(size));
      assert.equal(r.status, 200);
      assert.equal(r.sha256, patternSha256(size));
      assert.equal(pair.gateway.counts.tooLarge + pair.gateway.counts.responseTooLarge, 0);
      assert.ok(pair.gateway.largestRequest() <= 16 * 1024 && pair.gateway.largestResponse() <= 16 * 1024);
    } finally {
      await pair.close();
      await target.close();
      await new Promise<void>((resolve) => { bigHeads.close(() => resolve()); bigHeads.closeAllConnections(); });
    }
  });
});
