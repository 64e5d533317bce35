/**
 * Clock jumps (issue 17 "Exhaustion: clock jumps"): durations use the monotonic clock, so stepping the wall clock
 * of a running ferry neither expires anything early nor keeps it forever.
 * - The cache: `ferry proxy --cache memory` runs in a child whose wall clock a preload steps by ±2 h
 *   (test/fixtures/clock-shift.ts; performance.now is untouched). A response fresh for 30 s is still a hit right
 *   after the clock jumps 2 h ahead (a wall-clock cache would take it as 2 h old); one fresh for 2 s is no longer a
 *   hit 3 s after the clock jumps 2 h back (a wall-clock cache would keep it for 2 more hours). Age stays small.
 * - Relay sessions and nonces (memory store, in-process): a 2 h step ahead expires no live session and frees no
 *   nonce; a 2 h step back does not keep an idle session past its TTL.
 * Seeded bodies, SHA-256 checked.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { MemorySessionStore } from '../../src/relay/memory-session-store.ts';
import { startRandomOrigin, type RandomOrigin } from '../fixtures/random-origin.ts';
import { startRole, type RunningRole } from '../helpers/cli.ts';
import { hashStream, seededSha256 } from '../helpers/seeded-body.ts';

const SHIFT = fileURLToPath(new URL('../fixtures/clock-shift.ts', import.meta.url));
const HOURS_2 = 2 * 3600_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('cache: the wall clock of the proxy steps ±2 h', () => {
  let origin: RandomOrigin;
  let proxy: RunningRole;
  let dir: string;
  let clockFile: string;
  const step = async (ms: number) => { writeFileSync(clockFile, String(ms)); await sleep(150); };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-clock-'));
    clockFile = join(dir, 'offset');
    writeFileSync(clockFile, '0');
    origin = await startRandomOrigin();
    proxy = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', origin.url, '--cache', 'memory'], {
      env: { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${SHIFT}`, FERRY_TEST_CLOCK_FILE: clockFile },
    });
  });
  after(async () => {
    await proxy?.stop();
    await origin?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function get(seed: number, maxAge: number): Promise<{ cacheStatus: string; age: number }> {
    const size = 20_000;
    const r = await request(`${proxy.url}/random/${seed}/${size}?cache=${maxAge}`);
    const { bytes, sha256 } = await hashStream(r.body);
    assert.equal(r.statusCode, 200);
    assert.ok(bytes === size && sha256 === seededSha256(seed, size), 'byte-exact');
    return { cacheStatus: String(r.headers['cache-status']), age: Number(r.headers.age ?? 0) };
  }

  test('the preload does step the child\'s wall clock (the log timestamps move)', async () => {
    await step(HOURS_2);
    await get(99, 0);
    await sleep(200);
    const last = proxy.logs.filter((l) => l.event === 'access').at(-1)!;
    const logged = Date.parse(String(last.time));
    assert.ok(logged - Date.now() > HOURS_2 - 60_000, `log time ${String(last.time)} is 2 h ahead`);
    await step(0);
  });

  test('2 h ahead: a response fresh for 30 s is still a hit, with a small Age', async () => {
    await get(1, 30);
    assert.match((await get(1, 30)).cacheStatus, /ferry; hit/, 'stored');
    await step(HOURS_2);
    const after = await get(1, 30);
    assert.match(after.cacheStatus, /ferry; hit/, 'not expired by the jump');
    assert.ok(after.age < 10, `Age ${after.age}`);
    await step(0);
  });

  test('2 h back: a response fresh for 2 s is no longer a hit 3 s later', async () => {
    await get(2, 2);
    assert.match((await get(2, 2)).cacheStatus, /ferry; hit/, 'stored');
    await step(-HOURS_2);
    assert.match((await get(2, 2)).cacheStatus, /ferry; hit/, 'still fresh right after the jump');
    await sleep(3_000);
    assert.doesNotMatch((await get(2, 2)).cacheStatus, /ferry; hit/, 'expired on time despite the clock going back');
    await step(0);
  });
});

describe('relay memory store: session and nonce expiry across wall-clock steps', () => {
  const realNow = Date.now;
  const stepWall = (ms: number) => { Date.now = () => realNow() + ms; };
  after(() => { Date.now = realNow; });
  const meta = (id: string) => ({ id, target: 'http://127.0.0.1:1/', method: 'GET', createdMs: 0 }) as unknown as Parameters<MemorySessionStore['create']>[0];

  test('2 h ahead: a live session is kept and a nonce stays claimed; 2 h back: an idle session still expires', async () => {
    const store = new MemorySessionStore({ ttlMs: 500 });
    try {
      await store.create(meta('aaaaaaaaaaaaaaaa'));
      assert.equal(await store.claimNonce('n1', 60_000), true);
      stepWall(HOURS_2);
      await store.sweep();
      assert.ok(await store.get('aaaaaaaaaaaaaaaa'), 'not expired by the jump ahead');
      assert.equal(await store.claimNonce('n1', 60_000), false, 'the nonce is still remembered (no replay window opened)');
      stepWall(-HOURS_2);
      await sleep(700);
      await store.sweep();
      assert.equal(await store.get('aaaaaaaaaaaaaaaa'), undefined, 'expired after its TTL despite the jump back');
    } finally {
      Date.now = realNow;
      await store.close();
    }
  });
});
