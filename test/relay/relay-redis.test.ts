/** Two relay-server instances sharing one Redis behind a round-robin gateway: any message may reach any instance. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { redisUnavailable, startRedis, type RunningRedis } from '../helpers/redis.ts';
import { formatContentDigest, H } from '../../src/relay/protocol.ts';
import { signRelayRequest } from '../../src/relay/hmac.ts';
import { getJson, patternSha256, patternStream, SECRET, startRelayPair, startTarget, viaProxy, type RelayPair, type Target } from './harness.ts';

const MiB = 1024 * 1024;
const skip = redisUnavailable();

describe('relay-server ×2 on one Redis behind a round-robin gateway', { skip: skip ?? false }, () => {
  let redis: RunningRedis;
  let pair: RelayPair;
  let target: Target;
  before(async () => {
    redis = await startRedis();
    target = await startTarget();
    pair = await startRelayPair({ servers: 2, maxMessage: 256 * 1024, serverArgs: ['--store', redis.url] });
  });
  after(async () => {
    await pair?.close();
    await target?.close();
    await redis?.stop();
  });

  test('GET and POST of 20 MiB, and 4 concurrent transfers, are byte-exact with messages alternating between instances', async () => {
    const size = 20 * MiB;
    const get = await viaProxy(pair.client.url, 'GET', `${target.url}/bytes/${size}`);
    assert.equal(get.status, 200);
    assert.equal(get.sha256, patternSha256(size));
    const post = await viaProxy(pair.client.url, 'POST', `${target.url}/echo`, patternStream(size), { 'content-length': String(size) });
    assert.equal(post.status, 200);
    assert.equal(post.sha256, patternSha256(size));
    const many = await Promise.all([0, 1, 2, 3].map((i) => viaProxy(pair.client.url, i % 2 ? 'POST' : 'GET', `${target.url}/${i % 2 ? 'echo' : `bytes/${MiB + i}`}`, i % 2 ? patternStream(MiB + i) : undefined)));
    many.forEach((r, i) => { assert.equal(r.status, 200); assert.equal(r.sha256, patternSha256(MiB + i)); });
    const [a, b] = pair.gateway.counts.perTarget;
    assert.ok(a! > 20 && b! > 20, `both instances got messages (${a}, ${b})`);
    const s0 = await getJson(`${pair.servers[0]!.url}/stats`);
    const s1 = await getJson(`${pair.servers[1]!.url}/stats`);
    // Each session is owned by one instance, yet both instances served its chunks.
    assert.ok(s0.chunks.up > 0 && s1.chunks.up > 0);
    assert.ok(s0.chunks.down > 0 && s1.chunks.down > 0);
    assert.equal(s0.sessions.opened + s1.sessions.opened, 6);
  });

  test('a CONNECT tunnel works when its messages alternate between instances', async () => {
    const echo = net.createServer((s) => s.pipe(s));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    const port = (echo.address() as net.AddressInfo).port;
    try {
      const proxy = new URL(pair.client.url);
      const socket = await new Promise<net.Socket>((resolve, reject) => {
        const req = http.request({ host: proxy.hostname, port: proxy.port, method: 'CONNECT', path: `127.0.0.1:${port}`, agent: false });
        req.on('connect', (res, sock) => res.statusCode === 200 ? resolve(sock) : reject(new Error(`CONNECT ${res.statusCode}`)));
        req.on('error', reject);
        req.end();
      });
      const payload = randomBytes(600_000);
      const back = await new Promise<Buffer>((resolve, reject) => {
        const parts: Buffer[] = [];
        let n = 0;
        socket.on('data', (c: Buffer) => { parts.push(c); n += c.length; if (n >= payload.length) { resolve(Buffer.concat(parts)); socket.end(); } });
        socket.on('error', reject);
        socket.write(payload);
      });
      assert.deepEqual(back, payload);
    } finally {
      await new Promise<void>((resolve) => echo.close(() => resolve()));
    }
  });

  test('a nonce used on one instance is refused on the other (nonces live in Redis)', async () => {
    const body = Buffer.from(JSON.stringify({ kind: 'connect', host: '127.0.0.1', port: target.port }));
    const fields = { [H.session]: randomBytes(16).toString('base64url'), [H.digest]: formatContentDigest(body) };
    const auth = signRelayRequest(Buffer.from(SECRET), { method: 'POST', path: '/relay/v1/open', fields, nowMs: Date.now(), nonce: randomBytes(18).toString('base64url') });
    const send = (url: string) => fetch(`${url}/relay/v1/open`, { method: 'POST', headers: { ...fields, [H.auth]: auth }, body });
    assert.equal((await send(pair.servers[0]!.url)).status, 200);
    const replay = await send(pair.servers[1]!.url);
    assert.equal(replay.status, 401);
    assert.equal(replay.headers.get(H.error), 'replay');
  });

  test('killing the instance that does not own a session mid-transfer: the transfer completes byte-exact', async (t) => {
    const size = 40 * MiB;
    const openNow = () => Promise.all(pair.servers.map((s) => getJson(`${s.url}/stats`).then((j) => j.sessions.open as number)));
    const baseline = await openNow();
    const transfer = viaProxy(pair.client.url, 'GET', `${target.url}/bytes/${size}`);
    // Find the owner (the instance holding the target connection), then kill the other one.
    let owner = -1;
    for (let i = 0; i < 200 && owner < 0; i++) {
      const open = await openNow();
      owner = open.findIndex((n, i) => n > baseline[i]!);
      if (owner < 0) await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(owner >= 0, 'the session was seen open');
    const other = pair.servers[1 - owner]!;
    other.proc.kill('SIGKILL');
    const t0 = performance.now();
    const r = await transfer;
    t.diagnostic(`transfer finished ${(performance.now() - t0).toFixed(0)} ms after the kill`);
    t.diagnostic(`gateway ${JSON.stringify(pair.gateway.counts)}`);
    assert.equal(r.status, 200);
    assert.equal(r.bytes, size);
    assert.equal(r.sha256, patternSha256(size));
    // Later transfers keep working: messages the gateway sends to the dead instance are retried.
    const t1 = performance.now();
    const after = await viaProxy(pair.client.url, 'POST', `${target.url}/echo`, patternStream(MiB));
    t.diagnostic(`next transfer took ${(performance.now() - t1).toFixed(0)} ms`);
    assert.equal(after.sha256, patternSha256(MiB));
  });
});
