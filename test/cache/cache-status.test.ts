import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseList, Token } from 'structured-headers';
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

test('every member ferry writes is a valid RFC 8941 List member, read back by the library (issue 17)', () => {
  const member = formatCacheStatus({ kind: 'forward', reason: 'bypass', detail: 'store-unavailable' });
  assert.equal(member, 'ferry; fwd=bypass; detail=store-unavailable');
  const [item] = parseList(`upstream; hit, ${member}`).slice(1) as Array<[Token, Map<string, unknown>]>;
  assert.equal(String(item![0]), 'ferry');
  assert.equal(String(item![1].get('fwd')), 'bypass');
  assert.equal(String(item![1].get('detail')), 'store-unavailable');
  for (const detail of ['two words', 'quote " and \\', 'ünïcode\n', '1st']) {
    const parsed = parseList(formatCacheStatus({ kind: 'hit', ttl: 3, detail }));
    assert.equal(parsed.length, 1, detail);
    assert.equal(typeof (parsed[0]![1] as Map<string, unknown>).get('detail'), 'string', detail);
  }
});
