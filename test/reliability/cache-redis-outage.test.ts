/**
 * The cache's Redis stalls and restarts (issue 17 item "every Redis call is bounded … the cache then bypasses"): a
 * real redis-server paused with SIGSTOP for longer than the 1 s command timeout, then stopped and restarted on the
 * same port, while requests flow through `--cache redis://…`. Every request is answered byte-exact (seeded random
 * bodies, SHA-256) within the bound (2 × the command timeout plus the origin's time: a lookup that times out, or a
 * fill whose write times out); Cache-Status says `fwd=bypass; detail=store-unavailable`; the outage is logged once
 * and counted in /stats; hits come back by themselves within seconds of Redis answering again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { startProxy, waitFor, type RunningProxy } from '../fixtures/proxy.ts';
import { startRandomOrigin, type RandomOrigin } from '../fixtures/random-origin.ts';
import { redisUnavailable, startRedis, type RunningRedis } from '../helpers/redis.ts';
import { hashStream, seededSha256 } from '../helpers/seeded-body.ts';
import { REDIS_COMMAND_TIMEOUT_MS } from '../../src/util/redis-options.ts';

const skip = redisUnavailable();
/** The stated bound: two store calls that time out (lookup, then a chunk write of a fill), on a loaded 2-core VM. */
const BOUND_MS = 2 * REDIS_COMMAND_TIMEOUT_MS + 1_500;
const SIZE = 300_000;

/** `error`: the response was cut after its head (or, for the traffic loops, the request failed before one). */
interface Got { status: number; cacheStatus: string; ms: number; ok: boolean; error?: string }

describe('cache with a Redis that stalls and restarts', { skip: skip ?? false }, () => {
  let redis: RunningRedis;
  let origin: RandomOrigin;
  let proxy: RunningProxy;
  let paused = false;
  let longest = 0;
  let checked = 0;
  before(async () => {
    redis = await startRedis();
    origin = await startRandomOrigin();
    proxy = await startProxy({ upstream: origin.url, cache: redis.url });
  });
  after(async () => {
    if (paused) redis.signal('SIGCONT');
    await proxy?.close();
    await origin?.close();
    await redis?.stop();
  });

  async function get(seed: number): Promise<Got> {
    const t0 = performance.now();
    const r = await request(`${proxy.url}/random/${seed}/${SIZE}?cache=600`, { headersTimeout: 20_000, bodyTimeout: 20_000 });
    const cacheStatus = String(r.headers['cache-status'] ?? '');
    let got: { bytes: number; sha256: string } | Error;
    try { got = await hashStream(r.body); } catch (err) { got = err instanceof Error ? err : new Error(String(err)); }
    const ms = performance.now() - t0;
    longest = Math.max(longest, ms);
    checked++;
    if (got instanceof Error) return { status: r.statusCode, cacheStatus, ms, ok: false, error: got.message };
    return { status: r.statusCode, cacheStatus, ms, ok: got.bytes === SIZE && got.sha256 === seededSha256(seed, SIZE) };
  }
  /**
   * get() for the background traffic loops: a failure is a result, never an unhandled rejection. One failed the test
   * while its body ran on, and the Redis it restarted afterwards kept the file's process alive until the timeout.
   */
  const getRecorded = (seed: number): Promise<Got> => {
    const t0 = performance.now();
    return get(seed).catch((err: unknown) => ({ status: 0, cacheStatus: '', ms: performance.now() - t0, ok: false, error: err instanceof Error ? err.message : String(err) }));
  };
  const lines = (event: string) => proxy.logs.filter((l) => l.event === event);
  const health = async () => ((await (await request(`${proxy.url}/stats`)).body.json()) as { cache: { stored: { health: { down: boolean; outages: number; bypassed: number } } } }).cache.stored.health;

  /** Requests until one is a hit again (Redis answering, the entry stored): how long that took. */
  async function untilHit(seed: number, what: string): Promise<number> {
    const t0 = performance.now();
    for (;;) {
      const g = await get(seed);
      assert.ok(g.ok && g.status === 200, `${what}: wrong bytes or status ${g.status}`);
      assert.ok(g.ms < BOUND_MS, `${what}: a request took ${g.ms.toFixed(0)} ms`);
      if (/; hit/.test(g.cacheStatus)) return performance.now() - t0;
      assert.ok(performance.now() - t0 < 10_000, `${what}: no hit within 10 s (last Cache-Status ${g.cacheStatus})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  test('SIGSTOP: bypass within the bound, one log line, counted; hits again after SIGCONT', async (t) => {
    await get(1);
    assert.match((await get(1)).cacheStatus, /ferry; hit/, 'warm: the second request is a hit');

    redis.signal('SIGSTOP');
    paused = true;
    // 3 s of traffic (longer than the command timeout), 8 clients at a time, new and stored URLs alike.
    const until = performance.now() + 3_000;
    const results: Got[] = [];
    await Promise.all(Array.from({ length: 8 }, async (_, c) => {
      for (let i = 0; performance.now() < until; i++) results.push(await get(i % 2 === 0 ? 1 : 100 + c * 1000 + i));
    }));
    const slowest = Math.max(...results.map((r) => r.ms));
    t.diagnostic(`Redis paused: ${results.length} requests, slowest ${slowest.toFixed(0)} ms (bound ${BOUND_MS} ms)`);
    assert.deepEqual(results.filter((r) => !r.ok || r.status !== 200), [], 'every request 200 and byte-exact');
    assert.ok(slowest < BOUND_MS, `slowest ${slowest.toFixed(0)} ms`);
    const bypassed = results.filter((r) => r.cacheStatus === 'ferry; fwd=bypass; detail=store-unavailable');
    assert.ok(bypassed.length >= results.length / 2, `most requests bypass: ${bypassed.length}/${results.length}`);
    await waitFor(() => lines('cache-store-unavailable').length > 0, 'the outage line');
    assert.equal(lines('cache-store-unavailable').length, 1, 'one line for the outage');
    assert.equal(lines('cache-store-unavailable')[0]!.level, 40, 'a warning');
    assert.equal(lines('cache-store-error').length, 0, 'no per-request store lines');
    const h = await health();
    assert.equal(h.down, true);
    assert.equal(h.outages, 1);
    // Counted: requests that skipped the store (the others found it down by their own lookup, one per second).
    assert.ok(h.bypassed > 0 && h.bypassed <= bypassed.length, `bypasses counted: ${h.bypassed} of ${bypassed.length}`);

    redis.signal('SIGCONT');
    paused = false;
    const recovery = await untilHit(2, 'after SIGCONT');
    t.diagnostic(`hit again ${recovery.toFixed(0)} ms after SIGCONT`);
    await waitFor(() => lines('cache-store-recovered').length === 1, 'the recovery line');
    assert.equal((await health()).down, false);
  });

  test('stop and restart on the same port during traffic: bounded, byte-exact, hits again within seconds', async (t) => {
    const port = redis.port;
    const results: Got[] = [];
    let stop = false;
    const traffic = Promise.all(Array.from({ length: 4 }, async (_, c) => {
      for (let i = 0; !stop && i < 2_000; i++) { results.push(await getRecorded(i % 3 === 0 ? 1 : 5000 + c * 1000 + i)); await new Promise((r) => setTimeout(r, 10)); }
    }));
    await new Promise((r) => setTimeout(r, 300));
    await redis.stop();
    await new Promise((r) => setTimeout(r, 2_000));
    redis = await startRedis({ port });
    const restarted = performance.now();
    await new Promise((r) => setTimeout(r, 500));
    stop = true;
    await traffic;
    const recovery = await untilHit(3, 'after the restart') + (performance.now() - restarted);
    const slowest = Math.max(...results.map((r) => r.ms));
    t.diagnostic(`restart: ${results.length} requests during it, slowest ${slowest.toFixed(0)} ms; hit again within ${recovery.toFixed(0)} ms of the restart`);
    // A hit whose body was coming from Redis when Redis stopped cannot be completed: ferry cuts the client's
    // connection, so the client sees an incomplete message (RFC 9112 §6.3), never wrong bytes as a whole response
    // (seen once in a CI run: "other side closed" mid-body). At most the hits in flight at the stop, one per loop;
    // every other request is 200 and byte-exact.
    const cutHits = results.filter((r) => r.error !== undefined && r.status === 200 && /; hit/.test(r.cacheStatus));
    assert.deepEqual(results.filter((r) => !(r.ok && r.status === 200) && !cutHits.includes(r)), [], 'every request 200 and byte-exact, or a hit cut when Redis stopped');
    assert.ok(cutHits.length <= 4, `${cutHits.length} hits cut`);
    assert.ok(slowest < BOUND_MS, `slowest ${slowest.toFixed(0)} ms`);
    assert.ok(results.some((r) => r.cacheStatus.includes('detail=store-unavailable')), 'some requests bypassed while Redis was down');
    assert.equal(lines('cache-store-unavailable').length, 2, 'one line per outage (the pause, the restart)');
    assert.equal((await health()).outages, 2);
    t.diagnostic(`requests checked in this file: ${checked}, longest ${longest.toFixed(0)} ms`);
  });
});
