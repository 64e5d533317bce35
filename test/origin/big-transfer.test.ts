/**
 * 1 GiB through a spawned `ferry origin` in each direction, checked by SHA-256, with the server's
 * RSS sampled: peak − idle must stay within 100 MiB (a buffering server would grow by the body size).
 * The numbers are printed as test diagnostics (`node --test` shows them).
 */
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { startRole, sampleRss, type RunningRole } from '../helpers/cli.ts';
import { createReadStream, mkdtempSync, openSync, closeSync, writeSync, ftruncateSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createPatternStream } from '../../src/origin/pattern-stream.ts';
import { multipartBody, planMultipart } from '../../src/http/multipart.ts';
import { boundaryOf } from '../helpers/byteranges.ts';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
const RSS_BUDGET = 100 * MiB;

let origin: RunningRole;
let dir: string;
before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'ferry-big-'));
  // A sparse 1 GiB file with random blocks at a few offsets, so the content is not all zeros.
  const fd = openSync(path.join(dir, 'big.bin'), 'w');
  ftruncateSync(fd, GiB);
  for (const at of [0, 300 * MiB + 17, GiB - MiB]) writeSync(fd, randomBytes(MiB), 0, MiB, at);
  closeSync(fd);
});
after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });
// A fresh server per test: memory a previous transfer left to the allocator would hide growth.
beforeEach(async () => { origin = await startRole(['origin', '--listen', '127.0.0.1:0', '--root', dir]); });
afterEach(async () => { await origin?.stop(); });

/** GET `url` with headers, hash the body as it streams, sample the server's RSS meanwhile. */
async function hashedGet(url: string, headers: Record<string, string>): Promise<{ digest: string; bytes: number; peak: number; seconds: number; res: http.IncomingMessage }> {
  const got = createHash('sha256');
  const count = { n: 0 };
  const sampler = sampleRss(origin.proc.pid!);
  const t0 = performance.now();
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    http.get(url, { agent: false, headers }, (r) => {
      pipeline(r, hashSink(got, count)).then(() => resolve(r), reject);
    }).on('error', reject);
  });
  return { digest: got.digest('hex'), bytes: count.n, peak: sampler.stop(), seconds: (performance.now() - t0) / 1000, res };
}

function hashSink(hash: ReturnType<typeof createHash>, counter: { n: number }): Writable {
  return new Writable({ write(c: Buffer, _e, cb) { hash.update(c); counter.n += c.length; cb(); } });
}

/** Warm the server up (JIT, first buffers) so "idle" is a fair baseline, then read its RSS. */
async function idleRss(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    await new Promise<void>((resolve, reject) => {
      http.get(`${origin.url}/bytes/${4 * MiB}`, { agent: false }, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject);
    });
  }
  return origin.rss();
}

describe('ferry origin: 1 GiB in each direction with constant memory', () => {
  it('GET /bytes/1GiB: SHA-256 matches, RSS stays within 100 MiB of idle', async (t) => {
    const idle = await idleRss();
    const expected = createHash('sha256');
    await pipeline(createPatternStream(0, GiB - 1), new Writable({ write(c: Buffer, _e, cb) { expected.update(c); cb(); } }));
    const got = createHash('sha256');
    const count = { n: 0 };
    const sampler = sampleRss(origin.proc.pid!);
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      http.get(`${origin.url}/bytes/${GiB}`, { agent: false }, (res) => {
        assert.equal(res.statusCode, 200);
        assert.equal(res.headers['content-length'], String(GiB));
        pipeline(res, hashSink(got, count)).then(resolve, reject);
      }).on('error', reject);
    });
    const seconds = (performance.now() - t0) / 1000;
    const peak = sampler.stop();
    assert.equal(count.n, GiB);
    assert.equal(got.digest('hex'), expected.digest('hex'));
    t.diagnostic(`download: idle RSS ${(idle / MiB).toFixed(1)} MiB, peak ${(peak / MiB).toFixed(1)} MiB, growth ${((peak - idle) / MiB).toFixed(1)} MiB, ${(GiB / MiB / seconds).toFixed(0)} MiB/s`);
    assert.ok(peak - idle <= RSS_BUDGET, `RSS grew by ${((peak - idle) / MiB).toFixed(1)} MiB`);
  });

  it('a 1 GiB file as a two-part multipart/byteranges: SHA-256 matches, RSS within 100 MiB of idle', async (t) => {
    const file = path.join(dir, 'big.bin');
    const idle = await idleRss();
    // Two big parts with a one-byte gap; the expected body is rebuilt from the boundary the server chose.
    const ranges = [{ first: 0, last: GiB / 2 - 1 }, { first: GiB / 2 + 1, last: GiB - 1 }];
    const b = await hashedGet(`${origin.url}/big.bin`, { range: `bytes=0-${GiB / 2 - 1},${GiB / 2 + 1}-` });
    assert.equal(b.res.statusCode, 206);
    const boundary = boundaryOf(b.res.headers['content-type']);
    const plan = planMultipart(ranges, GiB, { partContentType: 'application/octet-stream', randomBytes: () => Buffer.from(boundary.slice('ferry-'.length), 'hex') });
    assert.equal(plan.boundary, boundary);
    assert.equal(b.res.headers['content-length'], String(plan.contentLength));
    assert.equal(b.bytes, plan.contentLength);
    const expected = createHash('sha256');
    await pipeline(multipartBody(plan, (r) => createReadStream(file, { start: r.first, end: r.last })), new Writable({ write(c: Buffer, _e, cb) { expected.update(c); cb(); } }));
    assert.equal(b.digest, expected.digest('hex'));
    const peak = b.peak;
    t.diagnostic(`file multipart: idle RSS ${(idle / MiB).toFixed(1)} MiB, peak ${(peak / MiB).toFixed(1)} MiB, growth ${((peak - idle) / MiB).toFixed(1)} MiB, ${(GiB / MiB / b.seconds).toFixed(0)} MiB/s`);
    assert.ok(peak - idle <= RSS_BUDGET, `RSS grew by ${((peak - idle) / MiB).toFixed(1)} MiB`);
  });

  it('POST /echo with 1 GiB: the echoed bytes hash the same, RSS stays within 100 MiB of idle', async (t) => {
    const idle = await idleRss();
    const block = randomBytes(MiB);
    const sent = createHash('sha256');
    const got = createHash('sha256');
    const count = { n: 0 };
    // 1024 distinct MiB blocks (the block index is stamped into each) so misordered data would show.
    const body = Readable.from((function* () {
      for (let i = 0; i < GiB / MiB; i++) {
        const chunk = Buffer.from(block);
        chunk.writeUInt32BE(i, 0);
        sent.update(chunk);
        yield chunk;
      }
    })());
    const sampler = sampleRss(origin.proc.pid!);
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const req = http.request(`${origin.url}/echo`, {
        method: 'POST', agent: false,
        headers: { 'content-type': 'application/x-big', 'content-length': String(GiB) },
      }, (res) => {
        assert.equal(res.statusCode, 200);
        assert.equal(res.headers['content-type'], 'application/x-big');
        pipeline(res, hashSink(got, count)).then(resolve, reject);
      });
      req.on('error', reject);
      pipeline(body, req).catch(reject);
    });
    const seconds = (performance.now() - t0) / 1000;
    const peak = sampler.stop();
    assert.equal(count.n, GiB);
    assert.equal(got.digest('hex'), sent.digest('hex'));
    t.diagnostic(`upload+echo: idle RSS ${(idle / MiB).toFixed(1)} MiB, peak ${(peak / MiB).toFixed(1)} MiB, growth ${((peak - idle) / MiB).toFixed(1)} MiB, ${(GiB / MiB / seconds).toFixed(0)} MiB/s each way`);
    assert.ok(peak - idle <= RSS_BUDGET, `RSS grew by ${((peak - idle) / MiB).toFixed(1)} MiB`);
  });

});
