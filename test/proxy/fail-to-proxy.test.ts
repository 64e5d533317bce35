/**
 * The one mapping from error to what the client sees and what the log says (src/proxy/fail-to-proxy.ts), table-tested
 * like Pingora's fail_to_proxy and Caddy's error handling: every FerryErrorCode with its status, public message,
 * close-or-not and log line. A code added to src/errors.ts fails here until it has a row.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FERRY_ERROR_CODES, FerryError, type ErrorSource, type FerryErrorCode } from '../../src/errors.ts';
import { decideFailure, failureLog, toFerryError } from '../../src/proxy/fail-to-proxy.ts';

type Row = [code: FerryErrorCode, source: ErrorSource, status: number | 'none', message: string, close: boolean, log: string | null];
const OWN = 'the error\'s own message';
const ISE = 'Internal Server Error';

const TABLE: Row[] = [
  ['FERRY_ERR_CLIENT_GONE', 'downstream', 'none', '', false, null],
  ['FERRY_ERR_FRAMING', 'downstream', 400, OWN, true, 'info client-error'],
  ['FERRY_ERR_BODY_TOO_LARGE', 'downstream', 413, OWN, true, null],
  ['FERRY_ERR_NO_ROUTE', 'downstream', 404, OWN, true, null],
  ['FERRY_ERR_FORWARD_DENIED', 'downstream', 403, OWN, true, null],
  ['FERRY_ERR_DESTINATION_DENIED', 'downstream', 403, OWN, true, null],
  ['FERRY_ERR_UPSTREAM', 'upstream', 502, OWN, false, null],
  ['FERRY_ERR_UPSTREAM_UNREACHABLE', 'upstream', 502, 'Bad Gateway: upstream unreachable', false, null],
  ['FERRY_ERR_UPSTREAM_DNS', 'upstream', 502, OWN, false, null],
  ['FERRY_ERR_UPSTREAM_CONNECT', 'upstream', 502, OWN, false, null],
  ['FERRY_ERR_UPSTREAM_CONNECT_TIMEOUT', 'upstream', 502, 'Bad Gateway: upstream unreachable', false, null],
  ['FERRY_ERR_UPSTREAM_TIMEOUT', 'upstream', 504, 'Gateway Timeout: upstream did not answer in time', false, null],
  ['FERRY_ERR_UPSTREAM_BODY_TIMEOUT', 'upstream', 504, OWN, false, null],
  ['FERRY_ERR_UPSTREAM_BAD_RESPONSE', 'upstream', 502, 'Bad Gateway: invalid response from upstream', false, null],
  ['FERRY_ERR_UPSTREAM_CLOSED', 'upstream', 502, 'Bad Gateway: upstream closed the connection', false, null],
  ['FERRY_ERR_UPSTREAM_BODY', 'upstream', 502, OWN, false, null],
  ['FERRY_ERR_UPSTREAM_PROXY', 'upstream', 502, OWN, false, null],
  ['FERRY_ERR_UPSTREAM_TLS', 'upstream', 502, 'Bad Gateway: upstream TLS failed', false, 'warn upstream-tls-error'],
  ['FERRY_ERR_TOO_MANY_ORIGINS', 'upstream', 503, OWN, false, null],
  ['FERRY_ERR_UPGRADE', 'upstream', 502, OWN, false, 'warn upgrade-error'],
  ['FERRY_ERR_RELAY', 'upstream', 502, OWN, false, null],
  ['FERRY_ERR_RELAY_TARGET', 'upstream', 502, OWN, false, null],
  ['FERRY_ERR_RELAY_CLOCK', 'upstream', 502, OWN, false, null],
  ['FERRY_ERR_RELAY_EXPIRED', 'upstream', 410, OWN, false, null],
  ['FERRY_ERR_RELAY_HEAD', 'upstream', 502, OWN, false, null],
  ['FERRY_ERR_RELAY_BAD_HEAD', 'upstream', 502, OWN, false, null],
  ['FERRY_ERR_AWS_CREDENTIALS', 'internal', 500, ISE, false, 'error internal-error'],
  ['FERRY_ERR_INTERNAL', 'internal', 500, ISE, false, 'error internal-error'],
  ['FERRY_ERR_BODY_REUSED', 'internal', 500, ISE, false, 'error internal-error'],
  ['FERRY_ERR_CONFIG', 'config', 500, ISE, false, 'error internal-error'],
  ['FERRY_ERR_LISTEN', 'internal', 500, ISE, false, 'error internal-error'],
];

test('the table lists every FerryErrorCode exactly once', () => {
  assert.deepEqual(TABLE.map((r) => r[0]).sort(), [...FERRY_ERROR_CODES].sort());
});

for (const [code, source, status, message, close, log] of TABLE) {
  test(`${code}: ${status} ${close ? 'close' : 'keep-alive'}, log ${log ?? 'none'}`, () => {
    const err = new FerryError(code, 'the error\'s own message', { source });
    const action = decideFailure(err, false);
    if (status === 'none') assert.deepEqual(action, { kind: 'none' });
    else assert.deepEqual(action, { kind: 'reply', status, message, close });
    const line = failureLog(err);
    assert.equal(line === null ? null : `${line.level} ${line.event}`, log);
    // once the response head is out, the only honest signal left is a cut (RFC 9112 §8)
    assert.deepEqual(decideFailure(err, true), status === 'none' ? { kind: 'none' } : { kind: 'cut' });
  });
}

test('a status carried by the error wins over the table (framing: 431, 501), and a 400/413 closes', () => {
  assert.deepEqual(decideFailure(new FerryError('FERRY_ERR_FRAMING', 'too many fields', { source: 'downstream', status: 431 }), false), { kind: 'reply', status: 431, message: 'too many fields', close: true });
  assert.deepEqual(decideFailure(new FerryError('FERRY_ERR_UPSTREAM', 'x', { source: 'upstream', status: 413 }), false), { kind: 'reply', status: 413, message: 'x', close: true });
  assert.deepEqual(decideFailure(new FerryError('FERRY_ERR_NO_ROUTE', 'no upstream', { source: 'downstream', status: 502 }), false), { kind: 'reply', status: 502, message: 'no upstream', close: true });
});

test('anything else thrown is an internal error whose text never reaches the client', () => {
  const fe = toFerryError(new TypeError('secret detail at /srv/x.ts:12'));
  assert.equal(fe.code, 'FERRY_ERR_INTERNAL');
  assert.deepEqual(decideFailure(fe, false), { kind: 'reply', status: 500, message: ISE, close: false });
});
