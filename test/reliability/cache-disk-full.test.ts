/**
 * The disk cache on a full and on a read-only disk (issue 17 "Exhaustion": ENOSPC, EROFS): a 1 MiB tmpfs mounted by
 * the test. A response that does not fit still reaches the client whole (seeded random body, SHA-256), the entry is
 * not stored (the next request is not a hit), the condition is logged once (`cache-store-write-failed`, naming the
 * error code) and counted (`/stats` cache.stored.health.writeFailures); a small entry still stores and is served;
 * after `mount -o remount,ro`, responses are still whole, nothing is stored, and stored entries are still hits.
 * Mounting needs root: elsewhere the test is skipped with that message, never in CI.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { startProxy, waitFor, type RunningProxy } from '../fixtures/proxy.ts';
import { startRandomOrigin, type RandomOrigin } from '../fixtures/random-origin.ts';
import { hashStream, seededSha256 } from '../helpers/seeded-body.ts';

const mountPoint = mkdtempSync(join(tmpdir(), 'ferry-tmpfs-'));
const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountPoint], { encoding: 'utf8' });
let skip: string | false = false;
if (mounted.status !== 0) {
  const why = `cannot mount a tmpfs here (${(mounted.stderr || mounted.error?.message || '').trim()}): run as root to test a full disk`;
  if (process.env.CI) throw new Error(`CI must run the full-disk test: ${why}`);
  skip = why;
  rmdirSync(mountPoint);
}

describe('disk cache on a full, then read-only, tmpfs', { skip }, () => {
  let origin: RandomOrigin;
  let proxy: RunningProxy;
  before(async () => {
    origin = await startRandomOrigin();
    // The store's own bound (64 MiB, entries up to 16 MiB) is far above the disk: the disk fills first.
    proxy = await startProxy({ upstream: origin.url, cache: `disk:${mountPoint}/cache:64MiB` });
  });
  after(async () => {
    await proxy?.close();
    await origin?.close();
    // Lazily when busy (a failed run may still hold a file open): never leave the mount behind.
    if (spawnSync('umount', [mountPoint]).status !== 0) spawnSync('umount', ['-l', mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  async function get(seed: number, size: number): Promise<{ cacheStatus: string }> {
    const r = await request(`${proxy.url}/random/${seed}/${size}?cache=600`);
    const { bytes, sha256 } = await hashStream(r.body);
    assert.equal(r.statusCode, 200);
    assert.equal(bytes, size, `seed ${seed}: the whole body`);
    assert.equal(sha256, seededSha256(seed, size), `seed ${seed}: the right bytes`);
    return { cacheStatus: String(r.headers['cache-status']) };
  }
  const lines = (event: string) => proxy.logs.filter((l) => l.event === event);
  const health = async () => ((await (await request(`${proxy.url}/stats`)).body.json()) as { cache: { stored: { health: { writeFailures: number } } } }).cache.stored.health;

  test('a client that goes away mid-body is not a write failure (the abort is ours, not the disk\'s)', async () => {
    const r = await request(`${proxy.url}/random/20/600000?cache=600`);
    for await (const _ of r.body) { r.body.destroy(); break; }
    await new Promise((res) => setTimeout(res, 300));
    assert.doesNotMatch((await get(21, 1000)).cacheStatus, /; hit/);
    assert.deepEqual(lines('cache-store-write-failed'), [], 'no write-failed line for an aborted transfer');
    assert.equal((await health()).writeFailures, 0);
  });

  test('ENOSPC: the client gets the whole body, nothing stored, logged once, counted; a small entry still stores', async () => {
    await get(1, 2_000_000);
    assert.doesNotMatch((await get(1, 2_000_000)).cacheStatus, /; hit/, 'not stored: a second request is not a hit');
    await get(2, 1_500_000);
    await waitFor(() => lines('cache-store-write-failed').length > 0, 'the write-failed line');
    assert.equal(lines('cache-store-write-failed').length, 1, 'one line for the run of failures');
    assert.match(String(lines('cache-store-write-failed')[0]!.err), /ENOSPC/);
    assert.ok((await health()).writeFailures >= 3, 'each refused write counted');

    await get(3, 100_000);
    assert.match((await get(3, 100_000)).cacheStatus, /ferry; hit/, 'a small entry fits and is served from the disk');
    await waitFor(() => lines('cache-store-writes-recovered').length === 1, 'the recovery line');
  });

  test('EROFS: whole bodies, nothing stored, logged, stored entries still hits', async () => {
    const ro = spawnSync('mount', ['-o', 'remount,ro', mountPoint], { encoding: 'utf8' });
    assert.equal(ro.status, 0, ro.stderr);
    const before = (await health()).writeFailures;
    await get(4, 200_000);
    assert.doesNotMatch((await get(4, 200_000)).cacheStatus, /; hit/, 'not stored on a read-only disk');
    await waitFor(() => lines('cache-store-write-failed').length === 2, 'a line for the new run of failures');
    assert.match(String(lines('cache-store-write-failed')[1]!.err), /EROFS/);
    assert.ok((await health()).writeFailures >= before + 2);
    assert.match((await get(3, 100_000)).cacheStatus, /ferry; hit/, 'what is stored is still served');
  });
});
