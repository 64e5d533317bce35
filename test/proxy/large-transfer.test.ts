/**
 * 1 GiB through the proxy (the CLI, a separate process) in both directions with SHA-256 equality, the receiving side
 * pausing mid-transfer so that only backpressure keeps memory flat; the proxy's peak RSS stays within 100 MiB of idle.
 * Then 500 concurrent keep-alive clients, all answered.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { sampleRss, startRole, type RunningRole } from '../helpers/cli.ts';
import { patternDigest as expectedDigest, pump, startPatternOrigin, type PatternOrigin } from './attack-load.ts';

const GIB = 1024 ** 3;
/**
 * How long the receiving side stops reading. 1 s is ample: without backpressure the proxy would read the rest of the
 * body (up to 768 MiB, at several hundred MiB/s over loopback) into memory within it, far past the 100 MiB bound,
 * and the RSS is sampled every 50 ms; a longer pause only waited.
 */
const PAUSE_MS = 1_000;
const MIB = 1024 * 1024;

describe('large transfers and many clients through ferry proxy', () => {
  let origin: PatternOrigin;
  let proxy: RunningRole;
  let idleRss = 0;
  before(async () => {
    origin = await startPatternOrigin({ pauseUpload: { afterBytes: 256 * MIB, ms: PAUSE_MS } });
    const up = origin.url;
    proxy = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', up, '--log-level', 'warn']);
    // warm up, then take the idle reading
    for (let i = 0; i < 20; i++) await (await fetch(`${proxy.url}/bytes/100000`)).arrayBuffer();
    await new Promise((r) => setTimeout(r, 300));
    idleRss = proxy.rss();
  });
  after(async () => {
    await proxy?.stop();
    await origin?.close();
  });

  it('1 GiB download: same SHA-256, client pausing mid-transfer, proxy RSS flat', async () => {
    const rss = sampleRss(proxy.proc.pid!);
    const digest = await new Promise<string>((resolve, reject) => {
      http.get(`${proxy.url}/bytes/${GIB}`, (res) => {
        assert.equal(res.statusCode, 200);
        const h = createHash('sha256');
        let seen = 0;
        let paused = false;
        res.on('data', (c: Buffer) => {
          h.update(c);
          seen += c.length;
          if (!paused && seen > 256 * MIB) { paused = true; res.pause(); setTimeout(() => res.resume(), PAUSE_MS); }
        });
        res.on('end', () => (seen === GIB ? resolve(h.digest('hex')) : reject(new Error(`got ${seen} bytes`))));
        res.on('error', reject);
      }).on('error', reject);
    });
    const peak = rss.stop();
    assert.equal(digest, expectedDigest(GIB));
    const growth = (peak - idleRss) / MIB;
    console.log(`download: idle RSS ${(idleRss / MIB).toFixed(1)} MiB, peak ${(peak / MIB).toFixed(1)} MiB, growth ${growth.toFixed(1)} MiB`);
    assert.ok(growth < 100, `proxy RSS grew by ${growth.toFixed(1)} MiB`);
  });

  it('1 GiB upload: same SHA-256 at the origin, origin pausing mid-transfer, proxy RSS flat', async () => {
    const rss = sampleRss(proxy.proc.pid!);
    const answer = await new Promise<string>((resolve, reject) => {
      const req = http.request(`${proxy.url}/upload`, { method: 'POST', headers: { 'content-length': GIB, 'content-type': 'application/octet-stream' } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => { text += c; }).on('end', () => resolve(text));
      });
      req.on('error', reject);
      pump(req, GIB, () => req.end());
    });
    const peak = rss.stop();
    assert.equal(answer, `${GIB} ${expectedDigest(GIB)}`);
    const growth = (peak - idleRss) / MIB;
    console.log(`upload: idle RSS ${(idleRss / MIB).toFixed(1)} MiB, peak ${(peak / MIB).toFixed(1)} MiB, growth ${growth.toFixed(1)} MiB`);
    assert.ok(growth < 100, `proxy RSS grew by ${growth.toFixed(1)} MiB`);
  });

  it('500 concurrent keep-alive clients are all answered, twice on the same connections', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 500, maxFreeSockets: 500 });
    const sockets = new Set<unknown>();
    const one = () => new Promise<number>((resolve, reject) => {
      http.get(`${proxy.url}/x`, { agent }, (res) => {
        sockets.add(res.socket);
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      }).on('error', reject);
    });
    try {
      for (let round = 0; round < 2; round++) {
        const statuses = await Promise.all(Array.from({ length: 500 }, one));
        assert.equal(statuses.filter((s) => s === 200).length, 500);
      }
      assert.ok(sockets.size <= 500, `connections were reused (${sockets.size} sockets for 1000 requests)`);
    } finally { agent.destroy(); }
  });
});
