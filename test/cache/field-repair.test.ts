/** Response fields read the RFC 9111 way where http-cache-semantics reads them otherwise (src/cache/field-repair.ts), the stale-on-disconnect and HEAD-freshening rules. Pure. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ALREADY_EXPIRED, applyMustUnderstand, MAX_DELTA_SECONDS, normalizeAge, normalizeExpires } from '../../src/cache/field-repair.ts';
import { createPolicyKit, decideStore, toPolicyRequest } from '../../src/cache/policy.ts';
import { headMayFreshen } from '../../src/cache/head-freshen.ts';
import { isDisconnected, staleOnDisconnectAllows } from '../../src/cache/stale-on-disconnect.ts';
import { FerryError, type FerryErrorCode } from '../../src/errors.ts';
import { formatHttpDate } from '../../src/http/http-date.ts';
import type { HeaderList } from '../../src/http/headers.ts';

test('Age (RFC 9111 §5.1): first member of a list; anything but a non-negative integer is ignored; capped at 2^31', () => {
  assert.equal(normalizeAge('30'), '30');
  assert.equal(normalizeAge(' 0, 7200'), '0');
  assert.equal(normalizeAge('7200, 0'), '7200');
  for (const bad of ['abc', '-7200', '7200.0', '7200;foo=bar', '', '+5', '0x10']) assert.equal(normalizeAge(bad), undefined, bad);
  assert.equal(normalizeAge('99999999999999'), String(MAX_DELTA_SECONDS));
});

test('Expires (RFC 9111 §5.3, RFC 9110 §5.6.7): the three HTTP-date forms read, letter case forgiven, anything else already expired', () => {
  const imf = 'Thu, 18 Aug 2050 02:01:18 GMT';
  assert.equal(normalizeExpires(imf), imf);
  assert.equal(normalizeExpires('Thursday, 18-Aug-50 02:01:18 GMT'), imf); // RFC 850: 50 is 2050, not 1950
  assert.equal(normalizeExpires('Thu Aug 18 02:01:18 2050'), imf); // asctime
  assert.equal(normalizeExpires('THU, 18 AUG 2050 02:01:18 gmt'), imf);
  for (const bad of ['0', '-1', 'Thu, 18 Aug 2050 02:01:18 UTC', 'Thu, 18 Aug 2050 02:01:18 AEST', 'Thu 18 Aug 2050 02:01:18 GMT',
    'Thu, 18  Aug  2050 02:01:18 GMT', 'Thu, 18-Aug-2050 02:01:18 GMT', 'Thu, 18 Aug 2050 02.01.18 GMT', 'Thu, 18 Aug 2050 2:01:18 GMT',
    'Thu, 18 Aug 50 02:01:18 GMT', 'Thu, 18 Aug 2050 2:01:18 GMT, Thu, 18 Aug 2050 2:01:19 GMT', 'Thu, 30 Feb 2050 02:01:18 GMT']) {
    assert.equal(normalizeExpires(bad), ALREADY_EXPIRED, bad);
  }
});

test('Expires: every IMF-fixdate reads back as itself (fast-check)', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 253402300799 }), (s) => {
    const d = formatHttpDate(s * 1000);
    assert.equal(normalizeExpires(d), d);
  }));
});

test('must-understand (RFC 9111 §5.2.2.3): overrides no-store for an understood status; an unknown status is not stored', () => {
  assert.equal(applyMustUnderstand('max-age=60, no-store, must-understand', 200), 'max-age=60, must-understand');
  assert.equal(applyMustUnderstand('max-age=60, must-understand', 404), 'max-age=60, must-understand');
  assert.equal(applyMustUnderstand('max-age=60, no-store, must-understand', 599), null);
  assert.equal(applyMustUnderstand('max-age=60, no-store', 599), 'max-age=60, no-store');
  // through decideStore
  const kit = createPolicyKit(() => Date.parse('2026-01-01T00:00:00Z'));
  const decide = (status: number, res: HeaderList) => decideStore(kit, toPolicyRequest([], { host: 'h', path: '/' }), [], status, res).kind;
  assert.equal(decide(200, [['cache-control', 'max-age=60, no-store, must-understand']]), 'store');
  assert.equal(decide(200, [['cache-control', 'max-age=60, no-store']]), 'no-store');
  assert.equal(decide(599, [['cache-control', 'max-age=60, must-understand']]), 'no-store');
});

test('heuristic freshness for any status marked public (RFC 9111 §4.2.2); without public only explicit freshness stores it', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const kit = createPolicyKit(() => now);
  const lm: HeaderList = [['last-modified', formatHttpDate(now - 86_400_000)], ['date', formatHttpDate(now)]];
  const decide = (res: HeaderList) => decideStore(kit, toPolicyRequest([], { host: 'h', path: '/' }), [], 599, res).kind;
  assert.equal(decide([...lm, ['cache-control', 'public']]), 'store');
  assert.equal(decide(lm), 'no-store');
});

test('stale on disconnect (RFC 9111 §4.2.4): only when the origin gave no answer, and no directive forbids it', () => {
  const kit = createPolicyKit(() => Date.parse('2026-01-01T00:00:00Z'));
  const policy = (cc: string) => kit.create({ method: 'GET', url: '/', headers: {} }, { status: 200, headers: { 'cache-control': cc } });
  assert.equal(staleOnDisconnectAllows(policy('max-age=2'), []), true);
  for (const cc of ['max-age=2, must-revalidate', 'max-age=2, proxy-revalidate', 'no-cache', 's-maxage=2']) assert.equal(staleOnDisconnectAllows(policy(cc), []), false, cc);
  assert.equal(staleOnDisconnectAllows(policy('max-age=2'), [['cache-control', 'no-cache']]), false);
  const err = (code: FerryErrorCode) => new FerryError(code, 'x', { source: 'upstream', status: 502 });
  for (const code of ['FERRY_ERR_UPSTREAM_UNREACHABLE', 'FERRY_ERR_UPSTREAM_CLOSED', 'FERRY_ERR_UPSTREAM_CONNECT_TIMEOUT', 'FERRY_ERR_UPSTREAM_TIMEOUT'] as const) assert.equal(isDisconnected(err(code)), true, code);
  for (const code of ['FERRY_ERR_UPSTREAM_BAD_RESPONSE', 'FERRY_ERR_CLIENT_GONE', 'FERRY_ERR_TOO_MANY_ORIGINS'] as const) assert.equal(isDisconnected(err(code)), false, code);
  assert.equal(isDisconnected(new Error('x')), false);
});

test('HEAD freshening (RFC 9111 §4.3.5): received validators and Content-Length must match the stored response', () => {
  const stored: HeaderList = [['etag', '"a"'], ['last-modified', 'Thu, 01 Jan 2026 00:00:00 GMT']];
  assert.equal(headMayFreshen(stored, 10, []), true);
  assert.equal(headMayFreshen(stored, 10, [['etag', '"a"'], ['content-length', '10']]), true);
  assert.equal(headMayFreshen(stored, 10, [['etag', '"b"']]), false);
  assert.equal(headMayFreshen(stored, 10, [['last-modified', 'Fri, 02 Jan 2026 00:00:00 GMT']]), false);
  assert.equal(headMayFreshen(stored, 10, [['content-length', '11']]), false);
  assert.equal(headMayFreshen([], 10, [['etag', '"a"']]), false);
});
