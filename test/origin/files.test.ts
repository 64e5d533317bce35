import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startRole, type RunningRole } from '../helpers/cli.ts';
import { boundaryOf, parseByteranges } from '../helpers/byteranges.ts';
import { formatHttpDate } from '../../src/http/http-date.ts';
import { request, waitForLines } from './client.ts';

let dir: string;
let origin: RunningRole;
let base: string;
const data = randomBytes(100_000);
const MTIME = new Date(Date.UTC(2024, 4, 6, 7, 8, 9));

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'ferry-origin-files-'));
  writeFileSync(path.join(dir, 'data.bin'), data);
  writeFileSync(path.join(dir, 'hello.txt'), 'hello world\n');
  writeFileSync(path.join(dir, 'page.HTML'), '<p>hi</p>');
  writeFileSync(path.join(dir, 'empty.json'), '');
  writeFileSync(path.join(dir, 'name with space & ü.txt'), 'spaced');
  mkdirSync(path.join(dir, 'site'));
  writeFileSync(path.join(dir, 'site', 'index.html'), '<h1>index</h1>');
  mkdirSync(path.join(dir, 'plain'));
  writeFileSync(path.join(dir, 'plain', 'x.txt'), 'x');
  utimesSync(path.join(dir, 'data.bin'), MTIME, MTIME);
  writeFileSync(path.join(dir, 'large.bin'), Buffer.alloc(32 * 1024 * 1024, 7));
  origin = await startRole(['origin', '--root', dir, '--listen', '127.0.0.1:0']);
  base = origin.url;
});

after(async () => {
  await origin?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('ferry origin: files', () => {
  it('GET has Accept-Ranges, ETag, Last-Modified, Content-Type, Content-Length and the bytes', async () => {
    const r = await request(`${base}/data.bin`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['accept-ranges'], 'bytes');
    assert.match(r.headers.etag ?? '', /^"[^"]+"$/);
    assert.equal(r.headers['last-modified'], formatHttpDate(MTIME.getTime()));
    assert.equal(r.headers['content-type'], 'application/octet-stream');
    assert.equal(r.headers['content-length'], String(data.length));
    assert.ok(r.body.equals(data));
    assert.equal((await request(`${base}/hello.txt`)).headers['content-type'], 'text/plain; charset=utf-8');
    assert.equal((await request(`${base}/page.HTML`)).headers['content-type'], 'text/html; charset=utf-8');
    const spaced = await request(`${base}/name%20with%20space%20%26%20%C3%BC.txt`);
    assert.equal(spaced.body.toString(), 'spaced');
  });

  it('HEAD has the same headers and no body', async () => {
    const g = await request(`${base}/data.bin`);
    const h = await request(`${base}/data.bin`, { method: 'HEAD' });
    assert.equal(h.status, 200);
    assert.equal(h.body.length, 0);
    for (const k of ['etag', 'last-modified', 'content-type', 'content-length', 'accept-ranges']) assert.equal(h.headers[k], g.headers[k], k);
  });

  it('serves an empty file, 404 for missing, 405 for other methods, a directory index or listing', async () => {
    const e = await request(`${base}/empty.json`);
    assert.equal(e.status, 200);
    assert.equal(e.headers['content-length'], '0');
    assert.equal(e.headers['content-type'], 'application/json');
    assert.equal((await request(`${base}/nope.txt`)).status, 404);
    const post = await request(`${base}/hello.txt`, { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
    const redirect = await request(`${base}/site`);
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.location, '/site/');
    assert.equal((await request(`${base}/site/`)).body.toString(), '<h1>index</h1>');
    const listing = await request(`${base}/plain/`);
    assert.equal(listing.status, 200);
    assert.match(listing.body.toString(), /^x\.txt$/m);
    assert.match((await request(`${base}/`)).body.toString(), /^data\.bin$/m);
  });

  it('single ranges: first-last, open-ended, suffix, clamped (RFC 9110 §14.1.1)', async () => {
    const cases: Array<[string, number, number]> = [
      ['bytes=0-0', 0, 0], ['bytes=10-19', 10, 19], ['bytes=99990-', 99990, 99999], ['bytes=-7', 99993, 99999],
      ['bytes=99000-200000', 99000, 99999], ['bytes=-200000', 0, 99999],
    ];
    for (const [range, first, last] of cases) {
      const r = await request(`${base}/data.bin`, { headers: { range } });
      assert.equal(r.status, 206, range);
      assert.equal(r.headers['content-range'], `bytes ${first}-${last}/${data.length}`, range);
      assert.equal(r.headers['content-length'], String(last - first + 1));
      assert.equal(r.headers['content-type'], 'application/octet-stream');
      assert.ok(r.body.equals(data.subarray(first, last + 1)), range);
    }
  });

  it('several ranges → multipart/byteranges with a Content-Type and Content-Range per part, exact length', async () => {
    const r = await request(`${base}/data.bin`, { headers: { range: 'bytes=0-9, 500-599, -10' } });
    assert.equal(r.status, 206);
    assert.equal(r.headers['content-length'], String(r.body.length));
    const parts = parseByteranges(r.body, boundaryOf(r.headers['content-type']));
    assert.deepEqual(parts.map((p) => [p.first, p.last, p.size]), [[0, 9, 100000], [500, 599, 100000], [99990, 99999, 100000]]);
    for (const p of parts) {
      assert.equal(p.headers['content-type'], 'application/octet-stream');
      assert.ok(p.body.equals(data.subarray(p.first, p.last + 1)));
    }
    const r2 = await request(`${base}/data.bin`, { headers: { range: 'bytes=0-1,5-6' } });
    assert.notEqual(boundaryOf(r2.headers['content-type']), boundaryOf(r.headers['content-type']), 'a fresh random boundary');
  });

  it('unsatisfiable → 416 with Content-Range: bytes */size; invalid syntax → 200 whole body', async () => {
    for (const range of ['bytes=100000-', 'bytes=200000-300000', 'bytes=-0']) {
      const r = await request(`${base}/data.bin`, { headers: { range } });
      assert.equal(r.status, 416, range);
      assert.equal(r.headers['content-range'], 'bytes */100000');
    }
    assert.equal((await request(`${base}/empty.json`, { headers: { range: 'bytes=0-' } })).status, 416);
    for (const range of ['bytes=5-1', 'bytes=abc', 'items=0-1', 'bytes=', '0-10', 'bytes=1-2-3']) {
      const r = await request(`${base}/data.bin`, { headers: { range } });
      assert.equal(r.status, 200, range);
      assert.equal(r.body.length, data.length);
    }
    // A satisfiable spec next to unsatisfiable ones is served (§14.1.1).
    const mixed = await request(`${base}/data.bin`, { headers: { range: 'bytes=200000-,0-4' } });
    assert.equal(mixed.status, 206);
    assert.equal(mixed.headers['content-range'], 'bytes 0-4/100000');
  });

  it('amplification: overlaps are coalesced, more than 100 ranges → whole body, killer probe stays ≤ size + 4 KiB', async () => {
    const overlap = await request(`${base}/data.bin`, { headers: { range: 'bytes=0-,0-,0-,0-,0-,1-,2-,3-' } });
    assert.equal(overlap.status, 206);
    assert.equal(overlap.headers['content-range'], 'bytes 0-99999/100000');
    assert.ok(overlap.body.equals(data));
    const adjacent = await request(`${base}/data.bin`, { headers: { range: 'bytes=50-55,0-10,5-10,56-60' } });
    const parts = parseByteranges(adjacent.body, boundaryOf(adjacent.headers['content-type']));
    assert.deepEqual(parts.map((p) => [p.first, p.last]), [[0, 10], [50, 60]]);
    const killer = `bytes=0-,${Array.from({ length: 1299 }, (_, i) => `5-${i + 5}`).join(',')}`;
    const k = await request(`${base}/data.bin`, { headers: { range: killer } });
    assert.equal(k.status, 200);
    assert.ok(k.body.length <= data.length + 4096);
    const many = `bytes=${Array.from({ length: 101 }, (_, i) => `${i * 10}-${i * 10 + 1}`).join(',')}`;
    assert.equal((await request(`${base}/data.bin`, { headers: { range: many } })).status, 200);
    const hundred = `bytes=${Array.from({ length: 100 }, (_, i) => `${i * 10}-${i * 10 + 1}`).join(',')}`;
    const h = await request(`${base}/data.bin`, { headers: { range: hundred } });
    assert.equal(h.status, 206);
    // R8: multipart bytes ≤ representation length + 256 B per part + 4 KiB.
    assert.ok(h.body.length <= 200 + 256 * 100 + 4096, `${h.body.length}`);
    const hp = parseByteranges(h.body, boundaryOf(h.headers['content-type']));
    assert.equal(hp.length, 100);
  });

  it('conditional GET: If-None-Match / If-Modified-Since → 304; If-Match / If-Unmodified-Since → 412', async () => {
    const { headers } = await request(`${base}/data.bin`, { method: 'HEAD' });
    const etag = headers.etag!;
    const lm = headers['last-modified']!;
    const nm = await request(`${base}/data.bin`, { headers: { 'if-none-match': `"zzz", ${etag}` } });
    assert.equal(nm.status, 304);
    assert.equal(nm.body.length, 0);
    assert.equal(nm.headers.etag, etag);
    assert.equal((await request(`${base}/data.bin`, { headers: { 'if-none-match': `W/${etag}` } })).status, 304);
    assert.equal((await request(`${base}/data.bin`, { headers: { 'if-none-match': '"other"' } })).status, 200);
    assert.equal((await request(`${base}/data.bin`, { headers: { 'if-modified-since': lm } })).status, 304);
    assert.equal((await request(`${base}/data.bin`, { headers: { 'if-modified-since': formatHttpDate(MTIME.getTime() - 1000) } })).status, 200);
    assert.equal((await request(`${base}/data.bin`, { headers: { 'if-none-match': '"other"', 'if-modified-since': lm } })).status, 200, 'INM wins over IMS');
    assert.equal((await request(`${base}/data.bin`, { headers: { 'if-match': etag } })).status, 200);
    assert.equal((await request(`${base}/data.bin`, { headers: { 'if-match': '"other"' } })).status, 412);
    assert.equal((await request(`${base}/data.bin`, { headers: { 'if-match': `W/${etag}` } })).status, 412, 'If-Match compares strongly');
    assert.equal((await request(`${base}/data.bin`, { headers: { 'if-unmodified-since': formatHttpDate(MTIME.getTime() - 1000) } })).status, 412);
    assert.equal((await request(`${base}/data.bin`, { headers: { 'if-unmodified-since': lm } })).status, 200);
    assert.equal((await request(`${base}/data.bin`, { method: 'HEAD', headers: { 'if-none-match': etag } })).status, 304);
  });

  it('If-Range: a matching ETag or date keeps the range, anything else gives 200 and the whole body', async () => {
    const { headers } = await request(`${base}/data.bin`, { method: 'HEAD' });
    const withIfRange = (ifRange: string) => request(`${base}/data.bin`, { headers: { range: 'bytes=0-9', 'if-range': ifRange } });
    assert.equal((await withIfRange(headers.etag!)).status, 206);
    assert.equal((await withIfRange(headers['last-modified']!)).status, 206);
    for (const stale of ['"old"', `W/${headers.etag}`, formatHttpDate(MTIME.getTime() - 1000), 'not a date']) {
      const r = await withIfRange(stale);
      assert.equal(r.status, 200, stale);
      assert.ok(r.body.equals(data));
    }
  });

  it('a changed file gets a new ETag, so an old If-Range no longer matches', async () => {
    const file = path.join(dir, 'changing.txt');
    writeFileSync(file, 'version one');
    const t1 = new Date(Date.UTC(2024, 0, 1));
    utimesSync(file, t1, t1);
    const e1 = (await request(`${base}/changing.txt`, { method: 'HEAD' })).headers.etag!;
    writeFileSync(file, 'version two!');
    const e2 = (await request(`${base}/changing.txt`, { method: 'HEAD' })).headers.etag!;
    assert.notEqual(e1, e2);
    const r = await request(`${base}/changing.txt`, { headers: { range: 'bytes=0-6', 'if-range': e1 } });
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'version two!');
    assert.equal(statSync(file).size, 12);
  });

  it('logs one access line per request', async () => {
    const marker = `/hello.txt?marker=${Date.now()}`;
    await request(`${base}${marker}`);
    const lines = await waitForLines(() => origin.logs.filter((l) => l.event === 'access' && l.path === marker));
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.status, 200);
    assert.equal(lines[0]!.method, 'GET');
    assert.ok((lines[0]!.bytesOut as number) > 12);
  });

  it('clients that leave mid-body leak no file descriptors and get logged', async () => {
    const fds = () => readdirSync(`/proc/${origin.proc.pid}/fd`).length;
    await request(`${base}/hello.txt`);
    const baseline = fds();
    const leave = (headers: Record<string, string>) => new Promise<void>((resolve, reject) => {
      const req = http.get(`${base}/large.bin?leave`, { agent: false, headers }, (res) => {
        res.once('data', () => { req.destroy(); resolve(); });
      });
      req.on('error', (e: NodeJS.ErrnoException) => { if (e.code !== 'ECONNRESET') reject(e); });
    });
    for (let i = 0; i < 20; i++) {
      await leave(i % 2 === 0 ? {} : { range: 'bytes=0-9999999,20000000-' });
    }
    const until = Date.now() + 5000;
    while (fds() > baseline && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    assert.ok(fds() <= baseline, `fds ${fds()} > baseline ${baseline}`);
    const cut = await waitForLines(() => {
      const l = origin.logs.filter((x) => x.event === 'access' && x.path === '/large.bin?leave');
      return l.length >= 20 ? l : [];
    });
    assert.equal(cut.length, 20);
    assert.ok(cut.every((l) => typeof l.error === 'string'), 'each cut exchange is logged with an error');
    assert.equal((await request(`${base}/hello.txt`)).status, 200);
  });
});
