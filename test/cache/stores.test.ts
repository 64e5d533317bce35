/** The stores on their own: bounds and eviction, restart, integrity, chunking, aborted writes leave nothing. */
import assert from 'node:assert/strict';
import { readdirSync, readlinkSync, writeFileSync, statSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { createDiskStore } from '../../src/cache/disk-store.ts';
import { createMemoryStore } from '../../src/cache/memory-store.ts';
import { createRedisStore, REDIS_CHUNK_BYTES } from '../../src/cache/redis-store.ts';
import type { CacheStore, EntryRecord } from '../../src/cache/store.ts';
import { redisUnavailable, startRedis, type RunningRedis } from '../helpers/redis.ts';
import { closeAgent, get, patternBytes, startCachingProxy, startOrigin } from './helpers.ts';

after(() => closeAgent());

const record: EntryRecord = { kind: 'entry', policy: { v: 1 } as unknown as EntryRecord['policy'], size: 0 };
const dirs: string[] = [];
const tmp = () => { const d = mkdtempSync(join(tmpdir(), 'ferry-store-')); dirs.push(d); return d; };
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

async function put(store: CacheStore, key: string, body: Buffer, chunk = 16 * 1024): Promise<boolean> {
  const w = store.createWriter(key, record, 60_000);
  for (let i = 0; i < body.length; i += chunk) await w.write(body.subarray(i, i + chunk));
  return w.commit();
}

async function read(store: CacheStore, key: string): Promise<Buffer | null> {
  const rec = await store.get(key);
  if (rec === null || rec.kind !== 'entry') return null;
  const chunks: Buffer[] = [];
  for await (const c of await store.openBody(key, rec) as Readable) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function contract(name: string, make: () => Promise<CacheStore>, skip: string | false = false) {
  describe(`${name} store contract`, { skip }, () => {
    test('round trip, replace, delete, and an aborted write leaves nothing', async () => {
      const store = await make();
      const body = patternBytes(300_000);
      assert.equal(await put(store, 'k', body), true);
      assert.deepEqual(await read(store, 'k'), body);
      assert.equal((await store.get('k'))?.kind === 'entry' && (await store.get('k') as EntryRecord).size, body.length);
      await put(store, 'k', Buffer.from('second'));
      assert.equal((await read(store, 'k'))?.toString(), 'second');
      const w = store.createWriter('partial', record, 60_000);
      await w.write(Buffer.alloc(50_000, 1));
      w.abort();
      assert.equal(await store.get('partial'), null);
      assert.equal(await w.commit(), false);
      assert.equal(await store.get('partial'), null);
      await store.delete('k');
      assert.equal(await store.get('k'), null);
      assert.equal(await put(store, 'empty', Buffer.alloc(0)), true);
      assert.equal((await read(store, 'empty'))?.length, 0);
      await store.close();
    });

    test('a body over the entry bound is not stored', async () => {
      const store = await make();
      assert.equal(await put(store, 'huge', Buffer.alloc(store.maxEntryBytes + 1)), false);
      assert.equal(await store.get('huge'), null);
      await store.close();
    });
  });
}

contract('memory', async () => createMemoryStore(4 * 1024 * 1024));
contract('disk', async () => createDiskStore(tmp(), 4 * 1024 * 1024));
let redis: RunningRedis | null = null;
let db = 0;
const redisSkip = redisUnavailable() ?? false;
after(async () => { await redis?.stop(); });
contract('redis', async () => {
  redis ??= await startRedis();
  return await createRedisStore(`${redis.url}/${++db}`, { maxEntryBytes: 2 * 1024 * 1024 });
}, redisSkip);

test('memory store: evicts least recently used entries to stay under its byte bound', async () => {
  const store = createMemoryStore(256 * 1024);
  for (let i = 0; i < 20; i++) assert.equal(await put(store, `k${i}`, Buffer.alloc(40_000, i)), true);
  const st = store.stats();
  assert.ok(st.bytes! <= 256 * 1024, `bytes ${st.bytes}`);
  assert.equal(await store.get('k0'), null);
  assert.notEqual(await store.get('k19'), null);
});

test('disk store: evicts past its bound (files removed) and survives a restart', async () => {
  const dir = tmp();
  const bound = 256 * 1024;
  const store = await createDiskStore(dir, bound);
  for (let i = 0; i < 20; i++) assert.equal(await put(store, `k${i}`, patternBytes(40_000, i)), true);
  assert.ok(store.stats().bytes! <= bound);
  assert.equal(await store.get('k0'), null);
  // Content of evicted entries is removed from disk (allow for the async removal).
  let onDisk = Infinity;
  for (let i = 0; i < 50 && onDisk > bound; i++) {
    onDisk = duSync(join(dir, 'content-v2'));
    if (onDisk > bound) await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(onDisk <= bound, `content on disk ${onDisk}`);
  // Restart: a new store on the same directory sees the survivors.
  const again = await createDiskStore(dir, bound);
  assert.deepEqual(await read(again, 'k19'), patternBytes(40_000, 19));
  assert.equal(again.stats().entries, store.stats().entries);
});

test('disk store: a corrupted body fails its integrity check instead of being served', async () => {
  const dir = tmp();
  const store = await createDiskStore(dir, 4 * 1024 * 1024);
  await put(store, 'k', patternBytes(10_000));
  const file = findFiles(join(dir, 'content-v2'))[0]!;
  writeFileSync(file, Buffer.alloc(10_000, 7));
  await assert.rejects(read(store, 'k'));
  // The reader got fewer bytes than the entry's size before the error: never a complete-looking body.
  const rec = await store.get('k');
  let got = 0;
  await assert.rejects(async () => { for await (const c of await store.openBody('k', rec as EntryRecord) as Readable) got += (c as Buffer).length; });
  assert.ok(got < 10_000, `got ${got}`);
});

test('redis store: bodies are stored in bounded chunks', { skip: redisSkip }, async () => {
  redis ??= await startRedis();
  const store = await createRedisStore(`${redis.url}/${++db}`);
  const body = patternBytes(REDIS_CHUNK_BYTES * 3 + 17);
  assert.equal(await put(store, 'big', body, 64 * 1024), true);
  assert.deepEqual(await read(store, 'big'), body);
  await store.close();
});

test('disk cache through the proxy survives a proxy restart', async () => {
  const origin = await startOrigin((_req, res, n) => { res.writeHead(200, { 'cache-control': 'max-age=3600' }); res.end(`v${n}`); });
  const spec = `disk:${tmp()}:8MiB`;
  const first = await startCachingProxy(origin.url, spec);
  // The key holds the Host the client names; both proxies are asked for the same site.
  const host = { host: 'site.example' };
  await get(`${first.url}/page`, host);
  await first.close();
  const second = await startCachingProxy(origin.url, spec);
  const r = await get(`${second.url}/page`, host);
  await second.close();
  await origin.close();
  assert.equal(r.body.toString(), 'v1');
  assert.match(r.headers['cache-status']!, /hit/);
  assert.equal(origin.count('/page'), 1);
});

function findFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...findFiles(p)); else out.push(p);
  }
  return out;
}

function duSync(dir: string): number {
  try { return findFiles(dir).reduce((n, f) => n + statSync(f).size, 0); } catch { return 0; }
}

test('Redis unreachable: requests are still answered from the origin (the cache is bypassed, docs/cache.md "When the store fails")', async () => {
  const origin = await startOrigin((_req, res, n) => { res.writeHead(200, { 'cache-control': 'max-age=3600' }); res.end(`v${n}`); });
  // Port 1 on loopback: connection refused at once.
  const proxy = await startCachingProxy(origin.url, 'redis://127.0.0.1:1');
  try {
    const a = await get(`${proxy.url}/r`);
    const b = await get(`${proxy.url}/r`);
    assert.equal(a.status, 200);
    assert.equal(b.body.toString(), 'v2');
    assert.equal(b.headers['cache-status'], 'ferry; fwd=bypass; detail=store-unavailable');
  } finally {
    await proxy.close();
    await origin.close();
  }
});

test('origin unreachable on a miss: the 502 still says what the cache did', async () => {
  const proxy = await startCachingProxy('http://127.0.0.1:1', 'memory');
  try {
    const r = await get(`${proxy.url}/down`);
    assert.equal(r.status, 502);
    assert.equal(r.headers['cache-status'], 'ferry; fwd=miss; detail=upstream-error');
  } finally {
    await proxy.close();
  }
});

test('disk store: aborted writes leave no open descriptor and no file (a leaked fd kept the deleted temp file\'s blocks) — issue 17', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-abort-fd-'));
  const openInto = () => readdirSync('/proc/self/fd').filter((f) => { try { return readlinkSync(`/proc/self/fd/${f}`).startsWith(dir); } catch { return false; } });
  const files = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(d, e.name)) : [join(d, e.name)]));
  try {
    const store = await createDiskStore(dir, 64 * 1024 * 1024);
    const record = { kind: 'entry', policy: {} as EntryRecord['policy'], size: 0 } as EntryRecord;
    for (let i = 0; i < 5; i++) {
      const w = store.createWriter(`k${i}`, record, 60_000);
      await w.write(Buffer.alloc(100_000, i));
      await new Promise((r) => setTimeout(r, 30));
      w.abort();
    }
    for (let i = 0; i < 50 && (openInto().length > 0 || files(dir).some((f) => !f.endsWith('CACHEDIR.TAG'))); i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(openInto(), [], 'no descriptor left open into the cache directory');
    assert.deepEqual(files(dir).filter((f) => !f.endsWith('CACHEDIR.TAG')), [], 'no content left');
    assert.equal((await store.get('k0')), null);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
