/**
 * Redis Cluster and Redis Sentinel URLs for the cache and the relay store (issue 17), against instances this test
 * starts on loopback (test/helpers/redis-topologies.ts):
 * - `redis-cluster://` (three masters): cache fills, hits and 304 refreshes (the MULTI over an entry's record and
 *   chunks needs their shared hash tag) spread over all three masters without a single store error; relay
 *   transfers both ways through a relay-server whose store is the cluster (its Lua script and MULTI calls need the
 *   session hash tag).
 * - `redis-sentinel://` (master + replica + sentinel): the master is killed; requests during the failover are all
 *   answered byte-exact within the bound (the cache bypasses), hits come back once the replica is promoted, and a
 *   relay transfer after the failover is byte-exact.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { startProxy, type RunningProxy } from '../fixtures/proxy.ts';
import { startRandomOrigin, type RandomOrigin } from '../fixtures/random-origin.ts';
import { redisUnavailable } from '../helpers/redis.ts';
import { startCluster, startSentinel, type RunningCluster, type RunningSentinel } from '../helpers/redis-topologies.ts';
import { hashStream, seededBuffer, seededSha256 } from '../helpers/seeded-body.ts';
import { startRelayPair, startTarget, viaProxy, type RelayPair, type Target } from '../relay/harness.ts';
import { createHash } from 'node:crypto';
import { REDIS_COMMAND_TIMEOUT_MS } from '../../src/util/redis-options.ts';

const skip = redisUnavailable();
const SIZE = 300_000; // two 256 KiB chunks in the Redis store
const BOUND_MS = 2 * REDIS_COMMAND_TIMEOUT_MS + 1_500;

async function get(proxy: RunningProxy, seed: number, maxAge: number): Promise<{ status: number; cacheStatus: string; ok: boolean; ms: number }> {
  const t0 = performance.now();
  const r = await request(`${proxy.url}/random/${seed}/${SIZE}?cache=${maxAge}`, { headersTimeout: 20_000 });
  const { bytes, sha256 } = await hashStream(r.body);
  return { status: r.statusCode, cacheStatus: String(r.headers['cache-status']), ok: bytes === SIZE && sha256 === seededSha256(seed, SIZE), ms: performance.now() - t0 };
}

async function relayRoundTrip(pair: RelayPair, target: Target, seed: number): Promise<void> {
  const body = seededBuffer(seed, 700_000);
  const up = await viaProxy(pair.client.url, 'POST', `${target.url}/echo`, PassThrough.from([body]), { 'content-length': String(body.length) });
  assert.equal(up.status, 200);
  assert.equal(up.sha256, createHash('sha256').update(body).digest('hex'), 'relay upload echoed byte-exact');
}

const storeErrors = (p: RunningProxy) => p.logs.filter((l) => String(l.event).startsWith('cache-store'));

describe('Redis Cluster (three masters) for the cache and the relay store', { skip: skip ?? false }, () => {
  let cluster: RunningCluster;
  let origin: RandomOrigin;
  let proxy: RunningProxy;
  before(async () => {
    cluster = await startCluster();
    origin = await startRandomOrigin();
    proxy = await startProxy({ upstream: origin.url, cache: cluster.url });
  });
  after(async () => {
    await proxy?.close();
    await origin?.close();
    await cluster?.stop();
  });

  test('cache: fills, hits and 304 refreshes over all masters, no store error', async () => {
    for (let seed = 1; seed <= 12; seed++) {
      const a = await get(proxy, seed, 600);
      const b = await get(proxy, seed, 600);
      assert.ok(a.ok && b.ok, `seed ${seed}: byte-exact`);
      assert.match(b.cacheStatus, /ferry; hit/, `seed ${seed}: stored on the cluster`);
    }
    // max-age=0 + ETag: the second request revalidates, the 304 refreshes record and chunks in one MULTI.
    for (let seed = 50; seed < 54; seed++) {
      await get(proxy, seed, 0);
      const r = await get(proxy, seed, 0);
      assert.ok(r.ok);
      assert.match(r.cacheStatus, /fwd-status=304/, `seed ${seed}: revalidated`);
    }
    assert.deepEqual(storeErrors(proxy), [], 'no store failure (CROSSSLOT would be one)');
    const perNode = cluster.ports.map((p) => Number(spawnSync('redis-cli', ['-p', String(p), 'dbsize'], { encoding: 'utf8' }).stdout.trim()));
    assert.ok(perNode.filter((n) => n > 0).length >= 2, `keys on several masters: ${perNode.join(', ')}`);
  });

  test('relay-server --store redis-cluster://: transfers byte-exact', async () => {
    const target = await startTarget();
    const pair = await startRelayPair({ maxMessage: 64 * 1024, serverArgs: ['--store', cluster.url] });
    try {
      for (let seed = 1; seed <= 3; seed++) await relayRoundTrip(pair, target, seed);
      const down = await viaProxy(pair.client.url, 'GET', `${target.url}/bytes/${SIZE}`);
      assert.equal(down.status, 200);
      assert.equal(down.bytes, SIZE);
    } finally {
      await pair.close();
      await target.close();
    }
  });
});

describe('Redis Sentinel (master + replica) for the cache and the relay store, master killed', { skip: skip ?? false }, () => {
  let sentinel: RunningSentinel;
  let origin: RandomOrigin;
  let proxy: RunningProxy;
  let target: Target;
  let pair: RelayPair;
  before(async () => {
    sentinel = await startSentinel();
    origin = await startRandomOrigin();
    target = await startTarget();
    proxy = await startProxy({ upstream: origin.url, cache: sentinel.url });
    pair = await startRelayPair({ maxMessage: 64 * 1024, serverArgs: ['--store', sentinel.url] });
  });
  after(async () => {
    await pair?.close();
    await target?.close();
    await proxy?.close();
    await origin?.close();
    await sentinel?.stop();
  });

  test('the replica takes over: requests during the failover are byte-exact and bounded; hits and relay transfers resume', async (t) => {
    await get(proxy, 1, 600);
    assert.match((await get(proxy, 1, 600)).cacheStatus, /ferry; hit/, 'stored through the sentinel');
    await relayRoundTrip(pair, target, 1);

    const killed = performance.now();
    let promoted = false;
    const failover = sentinel.killMaster().then((port) => { promoted = true; return port; });
    const during: Array<{ status: number; ok: boolean; ms: number }> = [];
    for (let i = 0; !promoted && i < 400; i++) during.push(await get(proxy, 100 + (i % 5), 600));
    const newMaster = await failover;
    t.diagnostic(`failover to :${newMaster} after ${(performance.now() - killed).toFixed(0)} ms; ${during.length} requests during it, slowest ${Math.max(0, ...during.map((d) => d.ms)).toFixed(0)} ms`);
    assert.equal(newMaster, sentinel.replicaPort);
    assert.deepEqual(during.filter((d) => d.status !== 200 || !d.ok), [], 'every request during the failover 200 and byte-exact');
    assert.ok(during.every((d) => d.ms < BOUND_MS), `bounded by ${BOUND_MS} ms`);

    // Hits again on the new master, by themselves.
    const t0 = performance.now();
    for (;;) {
      const a = await get(proxy, 7, 600);
      assert.ok(a.ok && a.status === 200);
      if (/ferry; hit/.test(a.cacheStatus)) break;
      assert.ok(performance.now() - t0 < 15_000, `no hit within 15 s of the promotion (${a.cacheStatus})`);
      await new Promise((r) => setTimeout(r, 100));
    }
    t.diagnostic(`cache hits again ${(performance.now() - t0).toFixed(0)} ms after the promotion`);
    const r0 = performance.now();
    for (;;) {
      try { await relayRoundTrip(pair, target, 2); break; } catch (err) {
        if (performance.now() - r0 > 20_000) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    t.diagnostic(`relay transfer byte-exact ${(performance.now() - r0).toFixed(0)} ms after the promotion`);
  });
});
