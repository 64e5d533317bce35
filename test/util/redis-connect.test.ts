import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseStoreSpec } from '../../src/cache/store.ts';
import { UsageError } from '../../src/errors.ts';
import { parseRedisUrl } from '../../src/util/redis-url.ts';
import { runCli } from '../helpers/cli.ts';

test('Redis URL forms: single, Sentinel (sentinels, master, db, credentials), Cluster (seed nodes)', () => {
  assert.deepEqual(parseRedisUrl('redis://127.0.0.1:6379/2'), { ok: true, target: { kind: 'single', url: 'redis://127.0.0.1:6379/2' } });
  assert.deepEqual(parseRedisUrl('redis-sentinel://10.0.0.1:26379,10.0.0.2:26379/mymaster'), {
    ok: true, target: { kind: 'sentinel', nodes: [{ host: '10.0.0.1', port: 26379 }, { host: '10.0.0.2', port: 26379 }], master: 'mymaster', db: 0 },
  });
  assert.deepEqual(parseRedisUrl('redis-sentinel://:s%40cret@h:1/m/3'), {
    ok: true, target: { kind: 'sentinel', nodes: [{ host: 'h', port: 1 }], master: 'm', db: 3, password: 's@cret' },
  });
  assert.deepEqual(parseRedisUrl('redis-cluster://user:pw@a:7000,b:7001,[::1]:7002'), {
    ok: true, target: { kind: 'cluster', nodes: [{ host: 'a', port: 7000 }, { host: 'b', port: 7001 }, { host: '::1', port: 7002 }], username: 'user', password: 'pw' },
  });
});

test('bad Redis URLs are refused with a reason (usage error, exit 2), the password never echoed', async () => {
  for (const bad of ['redis-sentinel://h:1', 'redis-sentinel://h:1/m/99', 'redis-sentinel://h/m', 'redis-cluster://a:7000/0', 'redis-cluster://a:99999', 'redis-cluster://']) {
    const r = parseRedisUrl(bad);
    assert.equal(r.ok, false, bad);
    assert.throws(() => parseStoreSpec(bad), UsageError, bad);
  }
  assert.equal(parseStoreSpec('redis-cluster://a:7000').kind, 'redis');
  const r = await runCli(['relay-server', '--listen', '127.0.0.1:0', '--insecure-gateway-auth-only', '--store', 'redis-sentinel://:hunter2@h:1']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /master name/);
  assert.doesNotMatch(r.stderr + r.stdout, /hunter2/);
});
