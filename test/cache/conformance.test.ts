/**
 * A representative selection of http-tests/cache-tests (cache-tests.fyi) cases, ported to our own mini harness and
 * run through a real caching proxy (memory and disk stores). As in that suite, the client numbers its requests and
 * the origin answers request i with the configured response i; "cached" means the origin never saw request i.
 * Each case uses its own URL; cases run concurrently. Pauses are real (1.2 s after a max-age=1 response), so
 * the file waits about that long once, not per case.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { closeAgent, get, httpDate, startCachingProxy, startOrigin, storeKinds, type CachingProxy, type Origin, type Reply } from './helpers.ts';

after(() => closeAgent());

type Expect = 'cached' | 'not_cached' | 'etag_validated' | 'lm_validated';
interface Step {
  method?: string;
  reqHeaders?: Record<string, string>;
  status?: number;
  /** Response headers; a number for date fields means "now + that many seconds". */
  resHeaders?: Array<[string, string | number]>;
  body?: string;
  pauseAfter?: boolean;
  expect?: Expect;
  expectStatus?: number;
  expectHeaders?: Record<string, string | RegExp | null>;
  expectBody?: string;
}
interface Case { id: string; steps: Step[] }

const LM = httpDate(-86400);
/** The origin's Date; the cached answer must carry that same Date, not a newer one (other-date-update). */
const FIXED_DATE = httpDate();
const DATE_FIELDS = new Set(['date', 'expires', 'last-modified']);

const CASES: Case[] = [
  // cc-freshness / expires-freshness
  { id: 'freshness-max-age', steps: [{ resHeaders: [['cache-control', 'max-age=3600']] }, { expect: 'cached' }] },
  { id: 'freshness-max-age-0', steps: [{ resHeaders: [['cache-control', 'max-age=0']] }, { expect: 'not_cached' }] },
  { id: 'freshness-max-age-a100', steps: [{ resHeaders: [['cache-control', 'max-age=a100']] }, { expect: 'not_cached' }] },
  { id: 'freshness-max-age-100a', steps: [{ resHeaders: [['cache-control', 'max-age=100a']] }, { expect: 'not_cached' }] },
  { id: 'freshness-max-age-negative', steps: [{ resHeaders: [['cache-control', 'max-age=-100']] }, { expect: 'not_cached' }] },
  { id: 'freshness-max-age-age', steps: [{ resHeaders: [['date', 0], ['cache-control', 'max-age=10'], ['age', '15']] }, { expect: 'not_cached' }] },
  { id: 'freshness-max-age-expires', steps: [{ resHeaders: [['cache-control', 'max-age=3600'], ['expires', -10000], ['date', 0]] }, { expect: 'cached' }] },
  { id: 'freshness-max-age-0-expires', steps: [{ resHeaders: [['expires', 10000], ['cache-control', 'max-age=0'], ['date', 0]] }, { expect: 'not_cached' }] },
  { id: 'freshness-max-age-case-insensitive', steps: [{ resHeaders: [['cache-control', 'MaX-aGe=3600']] }, { expect: 'cached' }] },
  { id: 'freshness-s-maxage-shared', steps: [{ resHeaders: [['cache-control', 's-maxage=3600']] }, { expect: 'cached' }] },
  { id: 'freshness-max-age-s-maxage-shared-longer', steps: [{ resHeaders: [['cache-control', 'max-age=3600, s-maxage=1']], pauseAfter: true }, { expect: 'not_cached' }] },
  { id: 'freshness-max-age-ignore-quoted', steps: [{ resHeaders: [['cache-control', 'extension="max-age=100", max-age=1']], pauseAfter: true }, { expect: 'not_cached' }] },
  { id: 'freshness-expires-future', steps: [{ resHeaders: [['expires', 30 * 24 * 3600], ['date', 0]] }, { expect: 'cached' }] },
  { id: 'freshness-expires-past', steps: [{ resHeaders: [['expires', -30 * 24 * 3600], ['date', 0]] }, { expect: 'not_cached' }] },
  { id: 'freshness-expires-invalid', steps: [{ resHeaders: [['expires', '0'], ['date', 0]] }, { expect: 'not_cached' }] },
  // expires-parse (RFC 9111 §5.3): an invalid HTTP-date is already expired; the three valid forms and letter case are read
  ...([['utc', 'Thu, 18 Aug 2050 02:01:18 UTC'], ['aest', 'Thu, 18 Aug 2050 02:01:18 AEST'], ['no-comma', 'Thu 18 Aug 2050 02:01:18 GMT'],
    ['multiple-spaces', 'Thu, 18  Aug  2050 02:01:18 GMT'], ['date-dashes', 'Thu, 18-Aug-2050 02:01:18 GMT'], ['1-digit-hour', 'Thu, 18 Aug 2050 2:01:18 GMT']] as const)
    .map(([name, value]): Case => ({ id: `freshness-expires-invalid-${name}`, steps: [{ resHeaders: [['expires', value], ['date', 0]] }, { expect: 'not_cached' }] })),
  ...([['rfc850', 'Thursday, 18-Aug-50 02:01:18 GMT'], ['ansi-c', 'Thu Aug  8 02:01:18 2050'], ['wrong-case', 'THU, 18 AUG 2050 02:01:18 gmt']] as const)
    .map(([name, value]): Case => ({ id: `freshness-expires-${name}`, steps: [{ resHeaders: [['expires', value], ['date', 0]] }, { expect: 'cached' }] })),
  // heuristic-freshness, status
  { id: 'heuristic-200', steps: [{ resHeaders: [['last-modified', -100000], ['date', 0]] }, { expect: 'cached' }] },
  { id: 'heuristic-404', steps: [{ status: 404, resHeaders: [['last-modified', -100000], ['date', 0]] }, { expect: 'cached', expectStatus: 404 }] },
  { id: 'heuristic-410', steps: [{ status: 410, resHeaders: [['last-modified', -100000], ['date', 0]] }, { expect: 'cached', expectStatus: 410 }] },
  { id: 'heuristic-302-not', steps: [{ status: 302, resHeaders: [['last-modified', -100000], ['date', 0], ['location', '/x']] }, { expect: 'not_cached' }] },
  { id: 'status-301-max-age', steps: [{ status: 301, resHeaders: [['cache-control', 'max-age=3600'], ['location', '/x']] }, { expect: 'cached', expectStatus: 301 }] },
  // status: any final status with explicit freshness may be stored (RFC 9111 §3), unless must-understand
  ...[299, 400, 500, 503, 599].map((st): Case => ({ id: `status-${st}-fresh`, steps: [{ status: st, resHeaders: [['cache-control', 'max-age=3600'], ['date', 0]] }, { expect: 'cached', expectStatus: st }] })),
  // must-understand (RFC 9111 §5.2.2.3): overrides no-store for an understood status
  { id: 'status-200-must-understand', steps: [{ resHeaders: [['cache-control', 'max-age=3600, no-store, must-understand']] }, { expect: 'cached' }] },
  // public lets heuristic freshness apply to any status (RFC 9111 §4.2.2)
  { id: 'heuristic-599-cached', steps: [{ status: 599, resHeaders: [['last-modified', -86400], ['date', 0], ['cache-control', 'public']] }, { expect: 'cached', expectStatus: 599 }] },
  { id: 'heuristic-599-not_cached', steps: [{ status: 599, resHeaders: [['last-modified', -86400], ['date', 0]] }, { expect: 'not_cached' }] },
  { id: 'status-599-must-understand', steps: [{ status: 599, resHeaders: [['cache-control', 'max-age=3600, must-understand'], ['date', 0]] }, { expect: 'not_cached' }] },
  { id: 'status-500-no-freshness', steps: [{ status: 500, resHeaders: [['last-modified', -100000], ['date', 0]] }, { expect: 'not_cached' }] },
  // cc-response
  { id: 'cc-resp-no-store', steps: [{ resHeaders: [['cache-control', 'no-store, max-age=3600']] }, { expect: 'not_cached' }] },
  { id: 'cc-resp-no-cache', steps: [{ resHeaders: [['cache-control', 'no-cache'], ['etag', '"abc"']] }, { expect: 'etag_validated', status: 304, resHeaders: [['etag', '"abc"']] }] },
  { id: 'cc-resp-private-shared', steps: [{ resHeaders: [['cache-control', 'private, max-age=3600']] }, { expect: 'not_cached' }] },
  { id: 'cc-resp-must-revalidate-fresh', steps: [{ resHeaders: [['cache-control', 'max-age=10000, must-revalidate']] }, { expect: 'cached' }] },
  { id: 'cc-resp-must-revalidate-stale', steps: [{ resHeaders: [['cache-control', 'max-age=2, must-revalidate'], ['age', '3']] }, { expect: 'not_cached' }] },
  // authorization
  { id: 'auth-no-public', steps: [{ reqHeaders: { authorization: 'FOO' }, resHeaders: [['cache-control', 'max-age=3600']] }, { reqHeaders: { authorization: 'FOO' }, expect: 'not_cached' }] },
  { id: 'auth-public', steps: [{ reqHeaders: { authorization: 'FOO' }, resHeaders: [['cache-control', 'public, max-age=3600']] }, { reqHeaders: { authorization: 'FOO' }, expect: 'cached' }] },
  { id: 'auth-s-maxage', steps: [{ reqHeaders: { authorization: 'FOO' }, resHeaders: [['cache-control', 's-maxage=3600']] }, { reqHeaders: { authorization: 'FOO' }, expect: 'cached' }] },
  { id: 'auth-must-revalidate', steps: [{ reqHeaders: { authorization: 'FOO' }, resHeaders: [['cache-control', 'max-age=3600, must-revalidate']] }, { reqHeaders: { authorization: 'FOO' }, expect: 'cached' }] },
  // cc-request
  { id: 'ccreq-ma0', steps: [{ resHeaders: [['cache-control', 'max-age=3600']] }, { reqHeaders: { 'cache-control': 'max-age=0' }, expect: 'not_cached' }] },
  { id: 'ccreq-no-cache', steps: [{ resHeaders: [['cache-control', 'max-age=3600']] }, { reqHeaders: { 'cache-control': 'no-cache' }, expect: 'not_cached' }] },
  { id: 'ccreq-no-cache-etag', steps: [{ resHeaders: [['cache-control', 'max-age=3600'], ['etag', '"abcd"']] }, { reqHeaders: { 'cache-control': 'no-cache' }, expect: 'etag_validated', status: 304, resHeaders: [['etag', '"abcd"']] }] },
  { id: 'ccreq-pragma-no-cache', steps: [{ resHeaders: [['cache-control', 'max-age=3600']] }, { reqHeaders: { pragma: 'no-cache' }, expect: 'not_cached' }] },
  { id: 'ccreq-max-stale', steps: [{ resHeaders: [['cache-control', 'max-age=1']], pauseAfter: true }, { reqHeaders: { 'cache-control': 'max-stale=1000' }, expect: 'cached' }] },
  { id: 'freshness-max-age-quoted', steps: [{ resHeaders: [['cache-control', 'max-age="3600"']] }, { expect: 'cached' }] },
  { id: 'freshness-max-age-single-quoted', steps: [{ resHeaders: [['cache-control', "max-age='3600'"]] }, { expect: 'not_cached' }] },
  { id: 'freshness-max-age-space-before-equals', steps: [{ resHeaders: [['cache-control', 'max-age =100']] }, { expect: 'not_cached' }] },
  { id: 'ccreq-min-fresh', steps: [{ resHeaders: [['cache-control', 'max-age=1500']] }, { reqHeaders: { 'cache-control': 'min-fresh=2000' }, expect: 'not_cached' }] },
  { id: 'ccreq-oic-hit', steps: [{ resHeaders: [['cache-control', 'max-age=3600']] }, { reqHeaders: { 'cache-control': 'only-if-cached' }, expect: 'cached' }] },
  { id: 'ccreq-oic-miss', steps: [{ reqHeaders: { 'cache-control': 'only-if-cached' }, expect: 'cached', expectStatus: 504 }] },
  { id: 'ccreq-oic-stale', steps: [{ resHeaders: [['cache-control', 'max-age=1'], ['age', '5'], ['etag', '"s"']] }, { reqHeaders: { 'cache-control': 'only-if-cached' }, expect: 'cached', expectStatus: 504 }] },
  { id: 'head-stale-forwarded-as-head', steps: [{ resHeaders: [['cache-control', 'max-age=1'], ['age', '5'], ['etag', '"h"']] }, { method: 'HEAD', expect: 'not_cached', expectBody: '' }] },
  // conditional
  { id: 'conditional-etag-stored', steps: [{ resHeaders: [['cache-control', 'max-age=1'], ['etag', '"abcdef"']], pauseAfter: true }, { expect: 'etag_validated', status: 304, resHeaders: [['etag', '"abcdef"']], expectBody: 'body 0' }] },
  { id: 'conditional-lm-stored', steps: [{ resHeaders: [['cache-control', 'max-age=1'], ['last-modified', LM]], pauseAfter: true }, { expect: 'lm_validated', status: 304, resHeaders: [['last-modified', LM]], expectBody: 'body 0' }] },
  { id: 'conditional-client-inm-hit', steps: [{ resHeaders: [['cache-control', 'max-age=3600'], ['etag', '"abcdef"']] }, { reqHeaders: { 'if-none-match': '"abcdef"' }, expect: 'cached', expectStatus: 304 }] },
  { id: 'conditional-client-ims-hit', steps: [{ resHeaders: [['cache-control', 'max-age=3600'], ['last-modified', LM]] }, { reqHeaders: { 'if-modified-since': httpDate() }, expect: 'cached', expectStatus: 304 }] },
  { id: 'conditional-client-inm-other', steps: [{ resHeaders: [['cache-control', 'max-age=3600'], ['etag', '"abcdef"']] }, { reqHeaders: { 'if-none-match': '"other"' }, expect: 'cached', expectStatus: 200 }] },
  // a 304 without validators answers the one stored response ferry asked about
  { id: 'cc-resp-must-revalidate-stale-304-no-etag', steps: [{ resHeaders: [['cache-control', 'max-age=1, must-revalidate'], ['etag', '"abcd"']], pauseAfter: true }, { status: 304, expect: 'etag_validated', expectStatus: 200, expectBody: 'body 0' }] },
  { id: 'conditional-lm-stale', steps: [{ resHeaders: [['cache-control', 'max-age=1'], ['last-modified', LM]], pauseAfter: true }, { status: 304, expect: 'lm_validated', expectStatus: 200, expectBody: 'body 0' }] },
  // update304
  {
    id: '304-etag-update-stored', steps: [
      { resHeaders: [['cache-control', 'max-age=1'], ['date', 0], ['etag', '"e1"'], ['test-header', 'A']], pauseAfter: true },
      { status: 304, resHeaders: [['cache-control', 'max-age=3600'], ['date', 0], ['etag', '"e1"'], ['test-header', 'B']], expect: 'etag_validated', expectHeaders: { 'test-header': 'B' } },
      { expect: 'cached', expectHeaders: { 'test-header': 'B' } },
    ],
  },
  {
    id: '304-etag-update-response-Content-MD5', steps: [
      { resHeaders: [['cache-control', 'max-age=1'], ['date', 0], ['etag', '"m1"'], ['content-md5', 'rL0Y20zC+Fzt72VPzMSk2A==']], pauseAfter: true },
      { status: 304, resHeaders: [['cache-control', 'max-age=3600'], ['date', 0], ['etag', '"m1"'], ['content-md5', 'N7UdGUp1E+RbVvZSTy1R8g==']], expect: 'etag_validated', expectHeaders: { 'content-md5': 'rL0Y20zC+Fzt72VPzMSk2A==' } },
      { expect: 'cached', expectHeaders: { 'content-md5': 'rL0Y20zC+Fzt72VPzMSk2A==' } },
    ],
  },
  // vary
  { id: 'vary-match', steps: [{ reqHeaders: { foo: '1' }, resHeaders: [['cache-control', 'max-age=5000'], ['vary', 'Foo']] }, { reqHeaders: { foo: '1' }, expect: 'cached' }] },
  { id: 'vary-no-match', steps: [{ reqHeaders: { foo: '1' }, resHeaders: [['cache-control', 'max-age=5000'], ['vary', 'Foo']] }, { reqHeaders: { foo: '2' }, expect: 'not_cached' }] },
  { id: 'vary-omit', steps: [{ reqHeaders: { foo: '1' }, resHeaders: [['cache-control', 'max-age=5000'], ['vary', 'Foo']] }, { expect: 'not_cached' }] },
  { id: 'vary-normalise-lang-case', steps: [{ reqHeaders: { 'accept-language': 'en, de' }, resHeaders: [['cache-control', 'max-age=5000'], ['vary', 'Accept-Language']] }, { reqHeaders: { 'accept-language': 'eN, De' }, expect: 'cached' }] },
  { id: 'vary-normalise-lang-order', steps: [{ reqHeaders: { 'accept-language': 'en, de' }, resHeaders: [['cache-control', 'max-age=5000'], ['vary', 'Accept-Language']] }, { reqHeaders: { 'accept-language': 'de, en' }, expect: 'cached' }] },
  { id: 'vary-lang-weights-differ', steps: [{ reqHeaders: { 'accept-language': 'en, de;q=0.5' }, resHeaders: [['cache-control', 'max-age=5000'], ['vary', 'Accept-Language']] }, { reqHeaders: { 'accept-language': 'de, en;q=0.5' }, expect: 'not_cached' }] },
  { id: 'vary-star', steps: [{ resHeaders: [['cache-control', 'max-age=5000'], ['vary', '*']] }, { expect: 'not_cached' }] },
  { id: 'vary-2-match', steps: [{ reqHeaders: { foo: '1', bar: 'abc' }, resHeaders: [['cache-control', 'max-age=5000'], ['vary', 'Foo, Bar']] }, { reqHeaders: { foo: '1', bar: 'abc' }, expect: 'cached' }] },
  { id: 'vary-2-no-match', steps: [{ reqHeaders: { foo: '1', bar: 'abc' }, resHeaders: [['cache-control', 'max-age=5000'], ['vary', 'Foo, Bar']] }, { reqHeaders: { foo: '1', bar: 'abcd' }, expect: 'not_cached' }] },
  {
    id: 'vary-invalidate-two-stored', steps: [
      { reqHeaders: { foo: '1' }, resHeaders: [['cache-control', 'max-age=5000'], ['vary', 'Foo']] },
      { reqHeaders: { foo: '2' }, resHeaders: [['cache-control', 'max-age=5000'], ['vary', 'Foo']], expect: 'not_cached' },
      { reqHeaders: { foo: '1' }, expect: 'cached', expectBody: 'body 0' },
      { reqHeaders: { foo: '2' }, expect: 'cached', expectBody: 'body 1' },
    ],
  },
  // invalidation
  ...['POST', 'PUT', 'DELETE', 'M-SEARCH'].map((m): Case => ({
    id: `invalidate-${m}`, steps: [
      { resHeaders: [['cache-control', 'max-age=3600']] },
      { method: m, expect: 'not_cached' },
      { expect: 'not_cached' },
    ],
  })),
  { id: 'invalidate-POST-failed', steps: [{ resHeaders: [['cache-control', 'max-age=3600']] }, { method: 'POST', status: 500, expect: 'not_cached' }, { expect: 'cached' }] },
  // stale
  // Served from the store at once (the origin does see the background revalidation, so not "cached" by count).
  { id: 'stale-while-revalidate', steps: [{ resHeaders: [['cache-control', 'max-age=1, stale-while-revalidate=3600'], ['age', '2']] }, { expectBody: 'body 0', expectHeaders: { 'cache-status': /^ferry; hit/ } }] },
  { id: 'stale-if-error-503', steps: [{ resHeaders: [['cache-control', 'max-age=1, stale-if-error=3600'], ['age', '2']] }, { status: 503, expect: 'not_cached', expectStatus: 200, expectBody: 'body 0' }] },
  { id: 'stale-no-sie-503', steps: [{ resHeaders: [['cache-control', 'max-age=1'], ['age', '2'], ['etag', '"x"']] }, { status: 503, expect: 'etag_validated', expectStatus: 503 }] },
  // partial
  { id: 'partial-store-complete-reuse-partial', steps: [{ resHeaders: [['cache-control', 'max-age=3600']], body: '01234567890' }, { reqHeaders: { range: 'bytes=0-1' }, expect: 'cached', expectStatus: 206, expectBody: '01' }] },
  { id: 'partial-store-complete-reuse-partial-no-last', steps: [{ resHeaders: [['cache-control', 'max-age=3600']], body: '01234567890' }, { reqHeaders: { range: 'bytes=1-' }, expect: 'cached', expectStatus: 206, expectBody: '1234567890' }] },
  { id: 'partial-store-complete-reuse-partial-suffix', steps: [{ resHeaders: [['cache-control', 'max-age=3600']], body: '0123456789A' }, { reqHeaders: { range: 'bytes=-1' }, expect: 'cached', expectStatus: 206, expectBody: 'A' }] },
  { id: 'partial-use-stored-headers', steps: [{ reqHeaders: { range: 'bytes=-5' }, status: 206, resHeaders: [['cache-control', 'max-age=3600'], ['content-range', 'bytes 4-9/10']], body: '01234' }, { expect: 'not_cached', expectStatus: 200 }] },
  // headers-store-Content-Range: a 200 carrying Content-Range is stored and served with it; a Range request still
  // gets a 206 made from the stored body, with its own Content-Range
  { id: 'headers-store-Content-Range', steps: [{ resHeaders: [['cache-control', 'max-age=3600'], ['content-range', 'x-origin-value']], body: '0123456789' }, { expect: 'cached', expectHeaders: { 'content-range': 'x-origin-value' } }, { reqHeaders: { range: 'bytes=2-3' }, expect: 'cached', expectStatus: 206, expectBody: '23', expectHeaders: { 'content-range': 'bytes 2-3/10' } }] },
  // headers, age
  { id: 'headers-omit-connection-nominated', steps: [{ resHeaders: [['cache-control', 'max-age=3600'], ['connection', 'x-hop'], ['x-hop', '1'], ['x-keep', '1']] }, { expect: 'cached', expectHeaders: { 'x-hop': null, 'x-keep': '1' } }] },
  { id: 'headers-omit-headers-listed-in-Cache-Control-no-cache', steps: [{ resHeaders: [['cache-control', 'no-cache="a, b"'], ['a', '1'], ['b', '2'], ['c', '3'], ['cache-control', 'max-age=3600'], ['date', 0]] }, { expect: 'cached', expectHeaders: { a: null, b: null, c: '3' } }] },
  { id: 'other-date-update', steps: [{ resHeaders: [['expires', 30 * 24 * 3600], ['date', FIXED_DATE]], pauseAfter: true }, { expect: 'cached', expectHeaders: { date: FIXED_DATE } }] },
  // cdn-cache-control (RFC 9213): ferry is the CDN here
  { id: 'cdn-max-age', steps: [{ resHeaders: [['cdn-cache-control', 'max-age=3600']] }, { expect: 'cached', expectHeaders: { 'cdn-cache-control': 'max-age=3600' } }] },
  { id: 'cdn-max-age-0-expires', steps: [{ resHeaders: [['cdn-cache-control', 'max-age=0'], ['expires', 10000], ['date', 0]] }, { expect: 'not_cached' }] },
  { id: 'cdn-max-age-long-cc-max-age', steps: [{ resHeaders: [['cache-control', 'max-age=3600'], ['cdn-cache-control', 'max-age=1']], pauseAfter: true }, { expect: 'not_cached' }] },
  { id: 'cdn-private', steps: [{ resHeaders: [['cdn-cache-control', 'private'], ['cache-control', 'max-age=10000'], ['expires', 10000], ['date', 0]] }, { expect: 'not_cached' }] },
  { id: 'cdn-no-cache', steps: [{ resHeaders: [['cdn-cache-control', 'no-cache'], ['cache-control', 'max-age=10000'], ['expires', 10000], ['date', 0]] }, { expect: 'not_cached' }] },
  { id: 'cdn-no-store-cc-fresh', steps: [{ resHeaders: [['cache-control', 'max-age=10000'], ['cdn-cache-control', 'no-store'], ['expires', 10000], ['date', 0]] }, { expect: 'not_cached' }] },
  { id: 'cdn-fresh-cc-nostore', steps: [{ resHeaders: [['cache-control', 'no-store'], ['cdn-cache-control', 'max-age=10000']] }, { expect: 'cached', expectHeaders: { 'cache-control': 'no-store' } }] },
  { id: 'cdn-cc-invalid-sh-type-unknown', steps: [{ resHeaders: [['cdn-cache-control', 'max-age=10000, &&&&&'], ['cache-control', 'no-store']] }, { expect: 'not_cached' }] },
  { id: 'cdn-cc-invalid-sh-type-wrong', steps: [{ resHeaders: [['cdn-cache-control', 'max-age="10000"'], ['cache-control', 'no-store']] }, { expect: 'not_cached' }] },
  // surrogate-control (Edge Architecture 1.0): ferry announces itself as `ferry` in Surrogate-Capability
  { id: 'surrogate-max-age', steps: [{ resHeaders: [['surrogate-control', 'max-age=3600']] }, { expect: 'cached' }] },
  { id: 'surrogate-max-age-other-target', steps: [{ resHeaders: [['date', 0], ['surrogate-control', 'max-age=3600;not-for-you'], ['age', '7200']] }, { expect: 'not_cached' }] },
  { id: 'surrogate-max-age-long-cc-max-age', steps: [{ resHeaders: [['cache-control', 'max-age=3600'], ['surrogate-control', 'max-age=1']], pauseAfter: true }, { expect: 'not_cached' }] },
  { id: 'surrogate-no-store-cc-fresh', steps: [{ resHeaders: [['cache-control', 'max-age=10000'], ['surrogate-control', 'no-store'], ['expires', 10000], ['date', 0]] }, { expect: 'not_cached' }] },
  { id: 'surrogate-fresh-cc-nostore', steps: [{ resHeaders: [['cache-control', 'no-store'], ['surrogate-control', 'max-age=10000;ferry']] }, { expect: 'cached', expectHeaders: { 'surrogate-control': 'max-age=10000;ferry' } }] },
  { id: 'age-stored-added', steps: [{ resHeaders: [['cache-control', 'max-age=3600'], ['age', '30'], ['date', -30]] }, { expect: 'cached', expectHeaders: { age: /^(3\d|[4-9]\d)$/ } }] },
  // age-parse (RFC 9111 §5.1): first member of a list; a value that is not a non-negative integer is ignored
  { id: 'age-parse-nonnumeric', steps: [{ resHeaders: [['date', 0], ['cache-control', 'max-age=3600'], ['age', 'abc']], pauseAfter: true }, { expect: 'cached' }] },
  { id: 'age-parse-negative', steps: [{ resHeaders: [['date', 0], ['cache-control', 'max-age=3600'], ['age', '-7200']], pauseAfter: true }, { expect: 'cached' }] },
  { id: 'age-parse-float', steps: [{ resHeaders: [['date', 0], ['cache-control', 'max-age=3600'], ['age', '7200.0']], pauseAfter: true }, { expect: 'cached' }] },
  { id: 'age-parse-parameter', steps: [{ resHeaders: [['date', 0], ['cache-control', 'max-age=3600'], ['age', '7200;foo=bar']], pauseAfter: true }, { expect: 'cached' }] },
  { id: 'age-parse-prefix', steps: [{ resHeaders: [['date', 0], ['cache-control', 'max-age=3600'], ['age', '0,7200']], pauseAfter: true }, { expect: 'cached' }] },
  { id: 'age-parse-suffix', steps: [{ resHeaders: [['date', 0], ['cache-control', 'max-age=3600'], ['age', '7200,0']], pauseAfter: true }, { expect: 'not_cached' }] },
  // updateHEAD (RFC 9111 §4.3.5): a 200 to a forwarded HEAD freshens the stored GET response when its validators match
  {
    id: 'head-200-update', steps: [
      { resHeaders: [['cache-control', 'max-age=1'], ['etag', '"h1"'], ['template-a', '1'], ['template-b', 'kept']], pauseAfter: true },
      { method: 'HEAD', resHeaders: [['cache-control', 'max-age=1000'], ['etag', '"h1"'], ['template-a', '2']], expect: 'not_cached', expectHeaders: { 'template-a': '2', 'template-b': 'kept' } },
      { expect: 'cached', expectBody: 'body 0', expectHeaders: { 'template-a': '2', 'template-b': 'kept' } },
    ],
  },
  {
    id: 'head-200-other-etag-no-update', steps: [
      { resHeaders: [['cache-control', 'max-age=1'], ['etag', '"h1"'], ['template-a', '1']], pauseAfter: true },
      { method: 'HEAD', resHeaders: [['cache-control', 'max-age=1000'], ['etag', '"h2"'], ['template-a', '2']], expect: 'not_cached', expectHeaders: { 'template-a': '2' } },
      { expect: 'etag_validated' },
    ],
  },
  { id: 'head-from-stored-get', steps: [{ resHeaders: [['cache-control', 'max-age=3600']] }, { method: 'HEAD', expect: 'cached', expectBody: '' }] },
];

function responseFor(c: Case, i: number): { status: number; headers: Array<[string, string]>; body: string } {
  const step = c.steps[i] ?? {};
  const headers = (step.resHeaders ?? []).map(([n, v]): [string, string] => [n, typeof v === 'number' && DATE_FIELDS.has(n) ? httpDate(v) : String(v)]);
  return { status: step.status ?? 200, headers, body: step.body ?? `body ${i}` };
}

for (const kind of storeKinds().filter((k) => k.name !== 'redis')) {
  describe(`cache-tests selection, ${kind.name} store`, { concurrency: true }, () => {
    let origin: Origin;
    let proxy: CachingProxy;
    const byCase = new Map(CASES.map((c) => [c.id, c]));
    before(async () => {
      await kind.setup();
      origin = await startOrigin((req, res) => {
        const id = decodeURIComponent((req.url ?? '').split('/')[2] ?? '');
        const c = byCase.get(id);
        const i = Number(req.headers['x-case-req'] ?? -1);
        if (!c || i < 0) { res.writeHead(404); res.end(); return; }
        const r = responseFor(c, i);
        res.writeHead(r.status, r.headers.flat());
        res.end(req.method === 'HEAD' || r.status === 304 ? undefined : r.body);
      });
      proxy = await startCachingProxy(origin.url, kind.spec());
    });
    after(async () => { await proxy?.close(); await origin?.close(); await kind.teardown(); });

    for (const c of CASES) {
      test(c.id, async () => {
        const path = `/c/${encodeURIComponent(c.id)}`;
        for (const [i, step] of c.steps.entries()) {
          const reply: Reply = await get(`${proxy.url}${path}`, { 'x-case-req': String(i), ...(step.reqHeaders ?? {}), ...(step.method && step.method !== 'GET' && step.method !== 'HEAD' ? { 'content-length': '0' } : {}) }, step.method ?? 'GET');
          const seen = origin.seen.filter((s) => s.url === path && s.headers['x-case-req'] === String(i));
          const where = `${c.id} request ${i} (cache-status: ${reply.headers['cache-status']})`;
          if (step.expect === 'cached') assert.equal(seen.length, 0, `${where}: expected cached`);
          if (step.expect === 'not_cached') assert.ok(seen.length >= 1, `${where}: expected the origin to see it`);
          if (step.expect === 'etag_validated') assert.ok(seen.some((s) => s.headers['if-none-match'] !== undefined), `${where}: expected If-None-Match`);
          if (step.expect === 'lm_validated') assert.ok(seen.some((s) => s.headers['if-modified-since'] !== undefined), `${where}: expected If-Modified-Since`);
          if (step.expectStatus !== undefined) assert.equal(reply.status, step.expectStatus, where);
          if (step.expectBody !== undefined) assert.equal(reply.body.toString(), step.expectBody, where);
          for (const [n, v] of Object.entries(step.expectHeaders ?? {})) {
            if (v === null) assert.equal(reply.headers[n], undefined, `${where}: ${n} must be absent`);
            else if (v instanceof RegExp) assert.match(reply.headers[n] ?? '', v, `${where}: ${n}`);
            else assert.equal(reply.headers[n], v, `${where}: ${n}`);
          }
          if (step.pauseAfter) await new Promise((r) => setTimeout(r, 1200));
        }
      });
    }
  });
}
