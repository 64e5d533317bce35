import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { startRole, type RunningRole } from '../helpers/cli.ts';
import { boundaryOf, parseByteranges } from '../helpers/byteranges.ts';
import { pattern, rawRequest, request, waitForLines } from './client.ts';

let origin: RunningRole;
let base: string;

before(async () => {
  // No --root: an empty directory plus the test endpoints.
  origin = await startRole(['origin', '--listen', '127.0.0.1:0']);
  base = origin.url;
});
after(async () => { await origin?.stop(); });

describe('ferry origin without --root', () => {
  it('serves an empty directory', async () => {
    const r = await request(`${base}/`);
    assert.equal(r.status, 200);
    assert.match(r.body.toString(), /\/echo/);
    assert.equal((await request(`${base}/anything.txt`)).status, 404);
  });
});

describe('/echo', () => {
  it('streams the body back unchanged with its Content-Type', async () => {
    const body = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256));
    for (const method of ['POST', 'PUT', 'PATCH']) {
      const r = await request(`${base}/echo`, { method, body, headers: { 'content-type': 'application/x-thing; v=1' } });
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'application/x-thing; v=1');
      assert.equal(r.headers['content-length'], String(body.length));
      assert.ok(r.body.equals(body));
    }
  });

  it('echoes a chunked upload as it arrives (response starts before the request ends)', async () => {
    const req = http.request(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'text/plain' }, agent: false });
    req.write('first;');
    const [res] = await once(req, 'response') as [http.IncomingMessage];
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['transfer-encoding'], 'chunked');
    res.setEncoding('utf8');
    const [first] = await once(res, 'data') as [string];
    assert.equal(first, 'first;');
    req.end('second');
    let rest = '';
    for await (const c of res) rest += c as string;
    assert.equal(first + rest, 'first;second');
  });

  it('answers an empty GET and a HEAD', async () => {
    const g = await request(`${base}/echo`);
    assert.equal(g.status, 200);
    assert.equal(g.body.length, 0);
    assert.equal((await request(`${base}/echo`, { method: 'HEAD' })).status, 200);
  });
});

describe('/headers', () => {
  it('returns the request header fields as received, as JSON', async () => {
    const r = await request(`${base}/headers`, { headers: { 'X-Custom': 'Value 1', 'x-multi': ['a', 'b'], 'user-agent': 'ferry-test' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json');
    const got = JSON.parse(r.body.toString()) as Record<string, unknown>;
    assert.equal(got['x-custom'], 'Value 1');
    assert.deepEqual(got['x-multi'], ['a', 'b']);
    assert.equal(got['user-agent'], 'ferry-test');
    assert.equal(got.host, new URL(base).host);
  });

  it('keeps fields named __proto__ and constructor as plain keys', async () => {
    const raw = await rawRequest(origin.port, 'GET /headers HTTP/1.1\r\nHost: x\r\n__proto__: p1\r\n__proto__: p2\r\nconstructor: c\r\nConnection: close\r\n\r\n');
    const got = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
    assert.deepEqual(Object.getOwnPropertyDescriptor(got, '__proto__')?.value, ['p1', 'p2']);
    assert.equal(got.constructor, 'c');
  });
});

describe('/bytes/N', () => {
  it('returns N bytes where byte i = i mod 251', async () => {
    for (const n of [0, 1, 250, 251, 252, 70_000]) {
      const r = await request(`${base}/bytes/${n}`);
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-length'], String(n));
      assert.equal(r.headers['accept-ranges'], 'bytes');
      assert.equal(r.headers['content-type'], 'application/octet-stream');
      assert.ok(r.body.equals(n === 0 ? Buffer.alloc(0) : pattern(0, n - 1)), `n=${n}`);
    }
  });

  it('supports single and multiple ranges, 416, If-Range and conditionals', async () => {
    const single = await request(`${base}/bytes/100000`, { headers: { range: 'bytes=70000-70500' } });
    assert.equal(single.status, 206);
    assert.equal(single.headers['content-range'], 'bytes 70000-70500/100000');
    assert.ok(single.body.equals(pattern(70000, 70500)));
    const suffix = await request(`${base}/bytes/1000`, { headers: { range: 'bytes=-3' } });
    assert.ok(suffix.body.equals(pattern(997, 999)));

    const multi = await request(`${base}/bytes/5000`, { headers: { range: 'bytes=0-99,1000-1999,4990-' } });
    assert.equal(multi.status, 206);
    assert.equal(Number(multi.headers['content-length']), multi.body.length);
    const parts = parseByteranges(multi.body, boundaryOf(multi.headers['content-type']));
    assert.equal(parts.length, 3);
    for (const p of parts) {
      assert.equal(p.size, 5000);
      assert.ok(p.body.equals(pattern(p.first, p.last)));
    }

    const unsat = await request(`${base}/bytes/10`, { headers: { range: 'bytes=10-' } });
    assert.equal(unsat.status, 416);
    assert.equal(unsat.headers['content-range'], 'bytes */10');

    const etag = single.headers.etag!;
    assert.match(etag, /^"/, 'strong tag');
    assert.equal((await request(`${base}/bytes/100000`, { headers: { range: 'bytes=0-9', 'if-range': etag } })).status, 206);
    assert.equal((await request(`${base}/bytes/100000`, { headers: { range: 'bytes=0-9', 'if-range': '"bytes-1"' } })).status, 200);
    assert.equal((await request(`${base}/bytes/100000`, { headers: { 'if-none-match': etag } })).status, 304);
    assert.equal((await request(`${base}/bytes/100000`, { headers: { 'if-match': '"nope"' } })).status, 412);
    const head = await request(`${base}/bytes/100000`, { method: 'HEAD' });
    assert.equal(head.headers['content-length'], '100000');
    assert.equal(head.body.length, 0);
  });

  it('rejects a bad N with 400 and other methods with 405', async () => {
    for (const bad of ['abc', '-1', '1.5', '99999999999999999', '']) {
      assert.equal((await request(`${base}/bytes/${bad}`)).status, 400, bad);
    }
    assert.equal((await request(`${base}/bytes/10`, { method: 'POST', body: 'x' })).status, 405);
  });
});

describe('/status/CODE', () => {
  it('responds with that status for any method', async () => {
    for (const [code, method] of [[200, 'GET'], [201, 'POST'], [204, 'DELETE'], [404, 'GET'], [418, 'PUT'], [500, 'GET'], [503, 'POST'], [599, 'GET']] as const) {
      const r = await request(`${base}/status/${code}`, { method, ...(method === 'GET' || method === 'DELETE' ? {} : { body: 'payload' }) });
      assert.equal(r.status, code);
      if (code === 204) assert.equal(r.body.length, 0);
    }
    const notModified = await rawRequest(origin.port, 'GET /status/304 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(notModified, /^HTTP\/1\.1 304 /);
  });
  it('refuses codes that cannot end an exchange', async () => {
    for (const bad of ['100', '199', '600', '20', 'abc', '2000']) assert.equal((await request(`${base}/status/${bad}`)).status, 400, bad);
  });
});

describe('/delay/MS', () => {
  it('answers after the delay', async () => {
    const t0 = Date.now();
    const r = await request(`${base}/delay/150`);
    assert.equal(r.status, 200);
    // Only a lower bound: the timer cannot fire early (upper bounds are for benchmarks).
    assert.ok(Date.now() - t0 >= 140);
  });
  it('rejects a bad or too long delay', async () => {
    for (const bad of ['x', '-5', '600001', '1e3']) assert.equal((await request(`${base}/delay/${bad}`)).status, 400, bad);
  });
  it('a client that leaves early is logged and does not disturb the server', async () => {
    const req = http.request(`${base}/delay/60000?leave`, { agent: false });
    req.on('error', () => {});
    req.end();
    await new Promise((r) => setTimeout(r, 100));
    req.destroy();
    const lines = await waitForLines(() => origin.logs.filter((l) => l.event === 'access' && l.path === '/delay/60000?leave'));
    assert.equal(lines.length, 1);
    assert.ok(typeof lines[0]!.error === 'string');
    assert.equal((await request(`${base}/status/200`)).status, 200);
  });
});
