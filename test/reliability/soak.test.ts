/**
 * The 20-second soak (bench/soak.ts; `npm run soak` runs 2 minutes): mixed traffic through proxy + Redis cache +
 * relay with faults injected. After warm-up RSS, descriptors, sockets, Redis keys and timers stay within the stated
 * bounds; 0 wrong bytes; every failed request had a fault injected into it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redisUnavailable } from '../helpers/redis.ts';
import { runSoak } from '../../bench/soak.ts';

const skip = redisUnavailable();

test('soak, 20 s: bounded resources, no wrong bytes, only injected errors', { skip: skip ?? false }, async (t) => {
  const r = await runSoak(Number(process.env.FERRY_SOAK_SECONDS ?? 20), (line) => t.diagnostic(line));
  t.diagnostic(`requests ${r.requests}, bytes checked ${r.bytesChecked}, faults injected ${r.faultsInjected} (${r.failedInjected} requests failed by them), wrong bytes ${r.wrongBytes}, longest stall ${r.longestStallMs} ms, peaks ${JSON.stringify(r.peaks)}`);
  assert.equal(r.wrongBytes, 0);
  assert.deepEqual(r.unexpected, []);
  assert.deepEqual(r.violations, []);
  assert.ok(r.requests > 50 && r.faultsInjected > 5 && r.failedInjected > 0, 'traffic flowed and faults really cut requests');
});
