import assert from 'node:assert/strict';
import { test } from 'node:test';
import { appendCacheStatus, formatCacheStatus } from '../../src/cache/cache-status.ts';

test('RFC 9211 members', () => {
  assert.equal(formatCacheStatus({ kind: 'hit', ttl: 42.4 }), 'ferry; hit; ttl=42');
  assert.equal(formatCacheStatus({ kind: 'forward', reason: 'miss', fwdStatus: 200, stored: true }), 'ferry; fwd=miss; fwd-status=200; stored');
  assert.equal(formatCacheStatus({ kind: 'forward', reason: 'stale', fwdStatus: 304, ttl: 10 }), 'ferry; fwd=stale; fwd-status=304; ttl=10');
  assert.equal(formatCacheStatus({ kind: 'forward', reason: 'bypass', detail: 'request-body' }), 'ferry; fwd=bypass; detail=request-body');
  assert.equal(formatCacheStatus({ kind: 'hit', detail: 'two words' }), 'ferry; hit; detail="two words"');
});

test('ferry appends its member after the upstream caches (closest to the origin first)', () => {
  assert.deepEqual(appendCacheStatus([['cache-status', 'origin-cache; hit']], 'ferry; hit'), [['cache-status', 'origin-cache; hit, ferry; hit']]);
  assert.deepEqual(appendCacheStatus([], 'ferry; hit'), [['cache-status', 'ferry; hit']]);
});
