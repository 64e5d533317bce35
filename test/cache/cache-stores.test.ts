/**
 * The cache end to end, through a real proxy (createProxyServer on loopback) in front of a fixture origin that counts
 * requests (a hit means the origin saw nothing). The same suite runs against the memory, disk and Redis stores.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { closeAgent, get, httpDate, patternBytes, sleep, startCachingProxy, startOrigin, storeKinds, type CachingProxy, type Origin } from './helpers.ts';

after(() => closeAgent());

const BYTES = patternBytes(100_000);

/** The fixture origin: behaviour chosen by the path, so one origin serves every test. */
function route(req: http.IncomingMessage, res: http.ServerResponse, n: number): void {
  const u = new URL(req.url ?? '/', 'http://x');
  const p = u.pathname;
  const inm = req.headers['if-none-match'];
  const send = (status: number, headers: http.OutgoingHttpHeaders, body: string | Buffer = ''): void => { res.writeHead(status, headers); res.end(body); };
  if (p.startsWith('/fresh')) return send(200, { 'cache-control': 'max-age=3600', 'content-type': 'text/plain' }, `fresh ${n}`);
  if (p.startsWith('/no-store')) return send(200, { 'cache-control': 'no-store, max-age=3600' }, `v${n}`);
  if (p.startsWith('/private')) return send(200, { 'cache-control': 'private, max-age=3600' }, `secret ${n}`);
  if (p.startsWith('/cookie-set')) return send(200, { 'cache-control': 'max-age=3600', 'set-cookie': 'sid=1' }, `v${n}`);
  if (p.startsWith('/vary-star')) return send(200, { 'cache-control': 'max-age=3600', vary: '*' }, `v${n}`);
  if (p.startsWith('/vary-long')) return send(200, { 'cache-control': 'max-age=3600', vary: Array.from({ length: 20 }, (_, i) => `x-field-${i}`).join(', ') }, `v${n}`);
  if (p.startsWith('/public')) return send(200, { 'cache-control': 'public, max-age=3600' }, `public ${n}`);
  if (p.startsWith('/etag')) {
    // Always revalidate; 304 when the validator matches, with an updated header.
    if (inm === '"e1"') return send(304, { etag: '"e1"', 'cache-control': 'no-cache', 'x-version': `${n}` });
    return send(200, { etag: '"e1"', 'cache-control': 'no-cache', 'x-version': `${n}`, 'content-type': 'text/plain' }, 'etag body');
  }
  if (p.startsWith('/lm')) {
    const lm = 'Tue, 01 Jan 2030 00:00:00 GMT';
    if (req.headers['if-modified-since'] === lm) return send(304, { 'last-modified': lm, 'cache-control': 'max-age=0' });
    return send(200, { 'last-modified': lm, 'cache-control': 'max-age=0' }, 'lm body');
  }
  if (p.startsWith('/heuristic')) return send(200, { 'last-modified': httpDate(-10 * 86400), date: httpDate() }, `h${n}`);
  if (p.startsWith('/redirect-lm')) return send(302, { location: '/fresh', 'last-modified': httpDate(-10 * 86400) }, `r${n}`);
  if (p.startsWith('/vary-ae')) return send(200, { 'cache-control': 'max-age=3600', vary: 'Accept-Encoding' }, `ae=${req.headers['accept-encoding'] ?? '-'} ${n}`);
  if (p.startsWith('/sie')) {
    // Stale on arrival (Age > max-age) but usable for 60 s on errors; the second request gets a 500.
    if (n === 1) return send(200, { 'cache-control': 'max-age=10, stale-if-error=600', age: '11' }, 'sie body');
    return send(500, { 'content-type': 'text/plain' }, 'boom');
  }
  if (p.startsWith('/swr')) return send(200, { 'cache-control': 'max-age=10, stale-while-revalidate=600', age: n === 1 ? '11' : '0' }, `swr ${n}`);
  if (p.startsWith('/bytes')) return send(200, { 'cache-control': 'max-age=3600', 'content-type': 'application/octet-stream', etag: '"b"', 'content-length': String(BYTES.length) }, BYTES);
  if (p.startsWith('/partial-only')) return send(206, { 'cache-control': 'max-age=3600', 'content-range': 'bytes 0-1/10' }, '01');
  if (p.startsWith('/reflect')) {
    return send(200, { 'cache-control': 'max-age=3600' }, JSON.stringify({ xfh: req.headers['x-forwarded-host'] ?? null, xfp: req.headers['x-forwarded-proto'] ?? null, fwd: req.headers.forwarded ?? null, n }));
  }
  if (p.startsWith('/target')) {
    if (req.method === 'POST') return send(201, { location: '/moved', 'content-location': `/loc${u.search}` }, 'created');
    return send(200, { 'cache-control': 'max-age=3600' }, `${p} ${n}`);
  }
  if (p.startsWith('/moved') || p.startsWith('/loc')) return send(200, { 'cache-control': 'max-age=3600' }, `${p} ${n}`);
  if (p.startsWith('/slow')) {
    setTimeout(() => send(200, { 'cache-control': 'max-age=3600' }, `slow ${n}`), 300);
    return;
  }
  if (p.startsWith('/abort-up')) {
    // Promise 200 000 bytes, send half, then cut the connection (n === 1 only).
    res.writeHead(200, { 'cache-control': 'max-age=3600', 'content-length': '200000' });
    if (n === 1) { res.write(Buffer.alloc(100_000, 1)); setTimeout(() => res.socket?.destroy(), 50); return; }
    res.end(Buffer.alloc(200_000, 2));
    return;
  }
  if (p.startsWith('/drip')) {
    // A slow body: the client aborts after the first chunk (n === 1).
    res.writeHead(200, { 'cache-control': 'max-age=3600', 'content-length': '50000' });
    if (n === 1) { res.write(Buffer.alloc(10_000, 1)); const t = setInterval(() => { if (!res.write(Buffer.alloc(1, 1))) { /* keep dripping */ } }, 20); res.on('close', () => clearInterval(t)); return; }
    res.end(Buffer.alloc(50_000, 3));
    return;
  }
  send(404, { 'content-type': 'text/plain' }, 'no such fixture');
}

/** A GET carrying a body (node:http lets us send one); resolves with the Cache-Status. */
function fetchWithBody(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'GET', headers: { 'content-type': 'text/plain', 'content-length': '5' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(String(res.headers['cache-status'])));
    });
    req.on('error', reject);
    req.end('hello');
  });
}

for (const kind of storeKinds()) {
  describe(`cache with the ${kind.name} store`, { skip: kind.skip }, () => {
    let origin: Origin;
    let proxy: CachingProxy;
    before(async () => {
      await kind.setup();
      origin = await startOrigin(route);
      proxy = await startCachingProxy(origin.url, kind.spec());
    });
    after(async () => {
      await proxy?.close();
      await origin?.close();
      await kind.teardown();
    });

    test('a fresh response is served from the store with Age and Cache-Status hit', async () => {
      const a = await get(`${proxy.url}/fresh`);
      const b = await get(`${proxy.url}/fresh`);
      assert.equal(a.status, 200);
      assert.match(a.headers['cache-status']!, /^ferry; fwd=miss; fwd-status=200; stored/);
      assert.equal(b.body.toString(), 'fresh 1');
      assert.match(b.headers['cache-status']!, /^ferry; hit; ttl=\d+/);
      assert.match(b.headers.age!, /^\d+$/);
      assert.equal(origin.count('/fresh'), 1);
    });

    for (const path of ['/no-store', '/private', '/cookie-set', '/vary-star', '/vary-long', '/private/x.css', '/private;x.css', '/private%2Fx.css']) {
      test(`never stored: ${path}`, async () => {
        const a = await get(`${proxy.url}${path}`);
        const b = await get(`${proxy.url}${path}`);
        assert.notEqual(a.body.toString(), b.body.toString());
        assert.equal(origin.count(path), 2);
        assert.doesNotMatch(b.headers['cache-status']!, /hit/);
      });
    }

    test('Authorization: not stored unless public; public is stored', async () => {
      await get(`${proxy.url}/fresh-auth`, { authorization: 'Bearer x' });
      await get(`${proxy.url}/fresh-auth`, { authorization: 'Bearer x' });
      assert.equal(origin.count('/fresh-auth'), 2);
      await get(`${proxy.url}/public-auth`, { authorization: 'Bearer x' });
      const b = await get(`${proxy.url}/public-auth`);
      assert.equal(b.body.toString(), 'public 1');
      assert.equal(origin.count('/public-auth'), 1);
    });

    test('Cookie requests: answered from the store only for explicitly public responses', async () => {
      await get(`${proxy.url}/fresh-c`);
      const withCookie = await get(`${proxy.url}/fresh-c`, { cookie: 'sid=2' });
      assert.equal(origin.count('/fresh-c'), 2);
      assert.match(withCookie.headers['cache-status']!, /fwd=bypass/);
      await get(`${proxy.url}/public-c`);
      const pub = await get(`${proxy.url}/public-c`, { cookie: 'sid=2' });
      assert.equal(pub.body.toString(), 'public 1');
      assert.equal(origin.count('/public-c'), 1);
    });

    test('ETag revalidation: If-None-Match sent, 304 updates the stored headers, body served from the store', async () => {
      const a = await get(`${proxy.url}/etag`);
      const b = await get(`${proxy.url}/etag`);
      assert.equal(b.status, 200);
      assert.equal(b.body.toString(), 'etag body');
      assert.equal(b.headers['x-version'], '2');
      assert.match(b.headers['cache-status']!, /fwd=stale; fwd-status=304/);
      assert.equal(origin.seen.filter((s) => s.url === '/etag')[1]!.headers['if-none-match'], '"e1"');
      assert.equal(a.headers['x-version'], '1');
      const c = await get(`${proxy.url}/etag`, { 'if-none-match': '"e1"' });
      assert.equal(c.status, 304);
    });

    test('Last-Modified revalidation sends If-Modified-Since', async () => {
      await get(`${proxy.url}/lm`);
      const b = await get(`${proxy.url}/lm`);
      assert.equal(b.body.toString(), 'lm body');
      assert.equal(origin.seen.filter((s) => s.url === '/lm')[1]!.headers['if-modified-since'], 'Tue, 01 Jan 2030 00:00:00 GMT');
    });

    test('heuristic freshness from Last-Modified for a 200, not for a 302', async () => {
      await get(`${proxy.url}/heuristic`);
      const b = await get(`${proxy.url}/heuristic`);
      assert.equal(b.body.toString(), 'h1');
      assert.equal(origin.count('/heuristic'), 1);
      await get(`${proxy.url}/redirect-lm`);
      await get(`${proxy.url}/redirect-lm`);
      assert.equal(origin.count('/redirect-lm'), 2);
    });

    test('Vary: Accept-Encoding keeps variants apart and normalises equivalent values', async () => {
      const gz = await get(`${proxy.url}/vary-ae`, { 'accept-encoding': 'gzip, br' });
      const br = await get(`${proxy.url}/vary-ae`, { 'accept-encoding': 'br' });
      const gz2 = await get(`${proxy.url}/vary-ae`, { 'accept-encoding': 'br,GZIP' });
      assert.equal(gz.body.toString(), 'ae=gzip, br 1');
      assert.equal(br.body.toString(), 'ae=br 2');
      assert.equal(gz2.body.toString(), 'ae=gzip, br 1');
      assert.match(br.headers['cache-status']!, /fwd=vary-miss/);
      assert.equal(origin.count('/vary-ae'), 2);
    });

    test('request Cache-Control: no-cache and max-age=0 go to the origin; only-if-cached does not', async () => {
      await get(`${proxy.url}/fresh-rq`);
      await get(`${proxy.url}/fresh-rq`, { 'cache-control': 'no-cache' });
      await get(`${proxy.url}/fresh-rq`, { 'cache-control': 'max-age=0' });
      assert.equal(origin.count('/fresh-rq'), 3);
      const c = await get(`${proxy.url}/fresh-rq`, { 'cache-control': 'only-if-cached' });
      assert.equal(c.status, 200);
      const miss = await get(`${proxy.url}/fresh-never-seen`, { 'cache-control': 'only-if-cached' });
      assert.equal(miss.status, 504);
      assert.equal(origin.count('/fresh-never-seen'), 0);
    });

    test('stale-if-error: a 500 on revalidation is answered with the stale response', async () => {
      await get(`${proxy.url}/sie`);
      const b = await get(`${proxy.url}/sie`);
      assert.equal(b.status, 200);
      assert.equal(b.body.toString(), 'sie body');
      assert.match(b.headers['cache-status']!, /fwd=stale; fwd-status=500/);
      assert.equal(origin.count('/sie'), 2);
    });

    test('stale-while-revalidate: served stale at once, refreshed in the background', async () => {
      await get(`${proxy.url}/swr`);
      const b = await get(`${proxy.url}/swr`);
      assert.equal(b.body.toString(), 'swr 1');
      assert.match(b.headers['cache-status']!, /hit; ttl=-\d+; detail=stale-while-revalidate/);
      // The background revalidation lands; poll (bounded) until the new version is served.
      let body = '';
      for (let i = 0; i < 200 && body !== 'swr 2'; i++) {
        body = (await get(`${proxy.url}/swr`)).body.toString();
        if (body !== 'swr 2') await sleep(10);
      }
      assert.equal(body, 'swr 2');
      assert.equal(origin.count('/swr'), 2);
    });

    test('unsafe methods invalidate the URI, Location and Content-Location', async () => {
      await get(`${proxy.url}/target?a`);
      await get(`${proxy.url}/moved`);
      await get(`${proxy.url}/loc?a`);
      const post = await get(`${proxy.url}/target?a`, { 'content-length': '0' }, 'POST');
      assert.equal(post.status, 201);
      assert.match(post.headers['cache-status']!, /fwd=method/);
      assert.equal((await get(`${proxy.url}/target?a`)).body.toString(), '/target 3');
      assert.equal((await get(`${proxy.url}/moved`)).body.toString(), '/moved 2');
      assert.equal((await get(`${proxy.url}/loc?a`)).body.toString(), '/loc 2');
    });

    test('ranges are served from a stored full response: single, suffix, multipart, 416 — byte-exact', async () => {
      await get(`${proxy.url}/bytes`);
      const single = await get(`${proxy.url}/bytes`, { range: 'bytes=1000-1999' });
      assert.equal(single.status, 206);
      assert.equal(single.headers['content-range'], `bytes 1000-1999/${BYTES.length}`);
      assert.deepEqual(single.body, BYTES.subarray(1000, 2000));
      const suffix = await get(`${proxy.url}/bytes`, { range: 'bytes=-10' });
      assert.deepEqual(suffix.body, BYTES.subarray(BYTES.length - 10));
      const multi = await get(`${proxy.url}/bytes`, { range: 'bytes=0-9,50000-50009' });
      assert.equal(multi.status, 206);
      assert.match(multi.headers['content-type']!, /^multipart\/byteranges; boundary=/);
      const text = multi.body.toString('latin1');
      assert.ok(text.includes(`content-range: bytes 0-9/${BYTES.length}`));
      assert.ok(text.includes(BYTES.subarray(50000, 50010).toString('latin1')));
      assert.equal(Number(multi.headers['content-length']), multi.body.length);
      const bad = await get(`${proxy.url}/bytes`, { range: 'bytes=200000-' });
      assert.equal(bad.status, 416);
      assert.equal(bad.headers['content-range'], `bytes */${BYTES.length}`);
      // ?range= becomes a Range header before the cache, and leaves the key: same entry, same bytes.
      const param = await get(`${proxy.url}/bytes?range=10-19`);
      assert.equal(param.status, 206);
      assert.deepEqual(param.body, BYTES.subarray(10, 20));
      const ifRangeOld = await get(`${proxy.url}/bytes`, { range: 'bytes=0-9', 'if-range': '"old"' });
      assert.equal(ifRangeOld.status, 200);
      assert.equal(ifRangeOld.body.length, BYTES.length);
      assert.equal(origin.count('/bytes'), 1);
    });

    test('a Range miss is forwarded as is; a 206 is not stored, a whole 200 (Range ignored) is', async () => {
      const r = await get(`${proxy.url}/bytes-miss`, { range: 'bytes=0-9' });
      assert.equal(origin.seen.find((s) => s.url === '/bytes-miss')!.headers.range, 'bytes=0-9');
      assert.equal(r.status, 200); // this fixture ignores Range and sends everything
      const full = await get(`${proxy.url}/bytes-miss`);
      assert.equal(full.body.length, BYTES.length);
      assert.equal(origin.count('/bytes-miss'), 1);
      const part = await get(`${proxy.url}/partial-only`, { range: 'bytes=0-1' });
      assert.equal(part.status, 206);
      await get(`${proxy.url}/partial-only`, { range: 'bytes=0-1' });
      assert.equal(origin.count('/partial-only'), 2);
    });

    test('100 concurrent misses make exactly 1 upstream request', async () => {
      const replies = await Promise.all(Array.from({ length: 100 }, () => get(`${proxy.url}/slow`)));
      assert.equal(origin.count('/slow'), 1);
      for (const r of replies) assert.equal(r.body.toString(), 'slow 1');
    });

    test('an upstream abort mid-body cuts the client and leaves no entry', async () => {
      await assert.rejects(get(`${proxy.url}/abort-up`));
      const b = await get(`${proxy.url}/abort-up`);
      assert.equal(b.body.length, 200_000);
      assert.equal(b.body[0], 2);
      assert.equal(origin.count('/abort-up'), 2);
    });

    test('a client abort leaves no partial entry', async () => {
      await new Promise<void>((resolve) => {
        const req = http.get(`${proxy.url}/drip`, (res) => {
          res.once('data', () => { req.destroy(); resolve(); });
        });
        req.on('error', () => resolve());
      });
      // The proxy notices the abort and drops the write; the next request goes to the origin.
      let b = await get(`${proxy.url}/drip`);
      for (let i = 0; i < 50 && b.body[0] !== 3; i++) b = await get(`${proxy.url}/drip`);
      assert.equal(b.body.length, 50_000);
      assert.equal(b.body[0], 3);
      assert.ok(origin.count('/drip') >= 2);
    });

    test('unkeyed headers cannot poison: X-Forwarded-* overwritten, other probes keep the answer out of the store', async () => {
      // X-Forwarded-Host/-Proto: ferry overwrites them, so the stored object is what a clean request gets.
      const probe = await get(`${proxy.url}/reflect`, { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'gopher' });
      const clean = await get(`${proxy.url}/reflect`);
      assert.deepEqual(clean.body, probe.body);
      assert.ok(!clean.body.toString().includes('evil'));
      assert.equal(origin.count('/reflect'), 1);
      // Fields the origin may act on and ferry passes on: answered, never stored.
      for (const [i, [name, value]] of ([['forwarded', 'host=evil.example'], ['x-original-url', '/admin'], ['x-rewrite-url', '/admin'], ['x-http-method-override', 'DELETE'], ['x-forwarded-scheme', 'nothttps'], ['x-forwarded-port', '1']] as const).entries()) {
        const path = `/reflect-probe-${i}`;
        await get(`${proxy.url}${path}`, { [name]: value });
        const after = await get(`${proxy.url}${path}`);
        assert.equal(JSON.parse(after.body.toString()).n, 2, `${name} probe must not be stored`);
      }
    });

    test('a GET with a body is forwarded, never answered from or put in the store', async () => {
      await get(`${proxy.url}/fresh-fat`);
      const fat = await get(`${proxy.url}/fresh-fat`, { 'content-type': 'text/plain', 'content-length': '0' });
      assert.match(fat.headers['cache-status']!, /hit/);
      const r = await fetchWithBody(`${proxy.url}/fresh-fat2`);
      assert.match(r, /fwd=bypass; detail=request-body/);
      await get(`${proxy.url}/fresh-fat2`);
      assert.equal(origin.count('/fresh-fat2'), 2);
    });

    test('purge: PURGE from loopback drops the entry; /cache/purge?url= too', async () => {
      await get(`${proxy.url}/fresh-purge`);
      const p = await get(`${proxy.url}/fresh-purge`, {}, 'PURGE');
      assert.equal(p.status, 200);
      assert.equal(JSON.parse(p.body.toString()).purged, true);
      await get(`${proxy.url}/fresh-purge`);
      assert.equal(origin.count('/fresh-purge'), 2);
      const q = await get(`${proxy.url}/cache/purge?url=${encodeURIComponent('/fresh-purge')}`, {}, 'POST');
      assert.equal(JSON.parse(q.body.toString()).purged, true);
      await get(`${proxy.url}/fresh-purge`);
      assert.equal(origin.count('/fresh-purge'), 3);
    });
  });
}
