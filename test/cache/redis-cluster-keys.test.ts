/**
 * The Redis cache store on Redis Cluster (three masters, test/helpers/redis-topologies.ts) names every key it touches:
 * a script reaches only keys it declares in KEYS (Redis Cluster routes a script by its declared keys; one reaching an
 * undeclared key works only by luck of the slot and is refused outright where that is enforced). Every command a
 * script ran, as MONITOR reports it on each master (source "lua", right after the script's own line), must name a key
 * the script declared. Fills of a one-chunk, a several-chunk and an empty body, hits, refreshes (putRecord), a
 * replacement and a delete, all byte-exact.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createRedisStore, REDIS_CHUNK_BYTES } from '../../src/cache/redis-store.ts';
import type { CacheStore, EntryRecord } from '../../src/cache/store.ts';
import { redisUnavailable, watchCommands } from '../helpers/redis.ts';
import { startCluster, type RunningCluster } from '../helpers/redis-topologies.ts';

const skip = redisUnavailable() ?? false;
const record: EntryRecord = { kind: 'entry', policy: { v: 1 } as unknown as EntryRecord['policy'], size: 0 };

interface NodeWatch { undeclared: string[]; scripts: number; sync(): Promise<void>; stop(): void }

/** MONITOR on one master: each script-run command's key is checked against the keys of the script that ran it. */
async function watchNode(port: number): Promise<NodeWatch> {
  const undeclared: string[] = [];
  let scripts = 0;
  let declared = new Set<string>();
  const w = await watchCommands(`redis://127.0.0.1:${port}`, (args, source) => {
    const name = args[0]!.toLowerCase();
    if (source === 'lua') {
      if (!declared.has(args[1]!)) undeclared.push(`${name} ${args[1]}`);
      return;
    }
    const isScript = name === 'eval' || name === 'evalsha';
    if (isScript) scripts++;
    declared = new Set(isScript ? args.slice(3, 3 + Number(args[2])) : []);
  });
  return { get undeclared() { return undeclared; }, get scripts() { return scripts; }, sync: w.sync, stop: w.stop };
}

async function put(store: CacheStore, key: string, body: Buffer): Promise<void> {
  const w = store.createWriter(key, record, 60_000);
  for (let at = 0; at < body.length; at += 65536) await w.write(body.subarray(at, at + 65536));
  assert.equal(await w.commit(), true, `${key} committed`);
}

async function hit(store: CacheStore, key: string): Promise<Buffer> {
  const got = await store.get(key);
  assert.ok(got?.kind === 'entry', `${key} is there`);
  const parts: Buffer[] = [];
  for await (const c of await store.openBody(key, got)) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

describe('Redis cache store on Redis Cluster: every key a script touches is declared', { skip }, () => {
  let cluster: RunningCluster;
  let store: CacheStore;
  let nodes: NodeWatch[];
  before(async () => {
    cluster = await startCluster();
    store = await createRedisStore(cluster.url);
    nodes = await Promise.all(cluster.ports.map(watchNode));
  });
  after(async () => {
    for (const n of nodes ?? []) n.stop();
    await store?.close();
    await cluster?.stop();
  });

  test('fills, hits, refreshes, a replacement and a delete: byte-exact, no undeclared key', async () => {
    const bodies = new Map<string, Buffer>([
      ['small', Buffer.alloc(1024, 's')],
      ['large', Buffer.alloc(2 * REDIS_CHUNK_BYTES + 100, 'l')],
      ['exact', Buffer.alloc(REDIS_CHUNK_BYTES, 'e')],
      ['empty', Buffer.alloc(0)],
    ]);
    for (let n = 0; n < 6; n++) for (const [name, body] of bodies) await put(store, `${name}-${n}`, body); // spread over the masters
    for (let n = 0; n < 6; n++) for (const [name, body] of bodies) assert.deepEqual(await hit(store, `${name}-${n}`), body, `${name}-${n}`);
    for (const name of bodies.keys()) {
      await store.putRecord(`${name}-0`, { ...record, size: 0 }, 120_000); // a 304 refresh keeps the body
      assert.deepEqual(await hit(store, `${name}-0`), bodies.get(name), `${name} after its refresh`);
    }
    const replaced = Buffer.alloc(REDIS_CHUNK_BYTES + 7, 'r');
    const before = await store.get('large-1');
    await put(store, 'large-1', replaced);
    assert.ok(before?.kind === 'entry');
    const parts: Buffer[] = [];
    for await (const c of await store.openBody('large-1', before)) parts.push(c as Buffer);
    assert.deepEqual(Buffer.concat(parts), bodies.get('large'), 'a reader of the replaced entry still gets the body its record named');
    assert.deepEqual(await hit(store, 'large-1'), replaced);
    await store.delete('small-2');
    assert.equal(await store.get('small-2'), null);
    await Promise.all(nodes.map((n) => n.sync()));
    assert.deepEqual(nodes.flatMap((n) => n.undeclared), [], 'commands run by a script on keys it did not declare');
    assert.ok(nodes.reduce((s, n) => s + n.scripts, 0) > 0, 'the several-chunk commits ran a script (the check saw it)');
  });
});
