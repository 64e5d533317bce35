/** relay-server's pure decisions (relay-decisions.ts), as tables: route, accept, dispatch, and each long poll's progress. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { signRelayRequest } from '../../src/relay/hmac.ts';
import { formatContentDigest, formatOpenRequest, H, RELAY_PATHS, type RelayPath } from '../../src/relay/protocol.ts';
import fc from 'fast-check';
import {
  acceptMessage, admitEarly, decideArrival, decideDispatch, decideDownProgress, decideOpenProgress, decideRoute, decideUpProgress,
  EARLY_MAX_MESSAGES, EARLY_RECHECK_MS, type RelayErrorCode,
} from '../../src/relay/relay-decisions.ts';
import { newSessionMeta, type SessionMeta } from '../../src/relay/session.ts';
import type { PutUpResult } from '../../src/relay/session-store.ts';

const SECRET = Buffer.from('0123456789abcdef0123456789abcdef');
const NOW = 1_800_000_000_000;
const SESSION = 'sess-0123456789abcdef';
const MAX = 1024 * 1024;

/** The decision's kind, or the refusal's code and status, for compact tables. */
function outcome(d: { kind: string; code?: RelayErrorCode; status?: number }): string {
  return d.kind === 'refuse' ? `${d.code} ${d.status}` : d.kind;
}

test('decideRoute: stats, endpoint by suffix, POST only, a bounded Content-Length', () => {
  const table: Array<[string | undefined, string, string | undefined, string]> = [
    ['GET', '/stats', undefined, 'stats'],
    ['GET', '/relay/v1/up', '0', 'method 405'],
    ['POST', '/relay/v1/up', '10', 'read'],
    ['POST', '/prod/relay/v1/down', '0', 'read'],
    ['POST', '/relay/v1/nope', '0', 'not-found 404'],
    ['POST', '/stats', '0', 'not-found 404'],
    ['POST', '/relay/v1/up', undefined, 'length 411'],
    ['POST', '/relay/v1/up', 'abc', 'length 411'],
    ['POST', '/relay/v1/up', String(MAX + 1), 'length 413'],
    ['POST', '/relay/v1/up', String(MAX), 'read'],
  ];
  for (const [method, path, length, want] of table) assert.equal(outcome(decideRoute(method, path, length, '/stats', MAX)), want, `${method} ${path} ${length}`);
  assert.deepEqual(decideRoute('POST', '/prod/relay/v1/open', '5', '/stats', MAX), { kind: 'read', endpoint: RELAY_PATHS.open, length: 5 });
  assert.equal(outcome(decideRoute('GET', '/stats', undefined, '', MAX)), 'not-found 404', 'stats disabled');
});

function signed(endpoint: RelayPath, body: Buffer, extra: Record<string, string> = {}, digest = formatContentDigest(body)) {
  const fields: Record<string, string> = { [H.session]: SESSION, [H.digest]: digest, ...extra };
  const auth = signRelayRequest(SECRET, { method: 'POST', path: endpoint, fields, nowMs: NOW, nonce: 'AAAAAAAAAAAAAAAAAAAAAAAA' });
  const headers: Record<string, string> = { ...fields, [H.auth]: auth };
  return { endpoint, body, names: Object.keys(headers), get: (n: string) => headers[n], secret: SECRET, nowMs: NOW };
}

test('acceptMessage: HMAC, clock and Content-Digest', () => {
  const body = Buffer.from('chunk');
  const ok = acceptMessage(signed(RELAY_PATHS.up, body));
  assert.deepEqual(ok, { kind: 'accepted', nonce: 'AAAAAAAAAAAAAAAAAAAAAAAA', digest: formatContentDigest(body) });
  const table: Array<[string, Parameters<typeof acceptMessage>[0], string]> = [
    ['wrong secret', { ...signed(RELAY_PATHS.up, body), secret: Buffer.from('another secret of enough bytes!!') }, 'auth 401'],
    ['skewed clock', { ...signed(RELAY_PATHS.up, body), nowMs: NOW + 301_000 }, 'skew 401'],
    ['other endpoint', { ...signed(RELAY_PATHS.up, body), endpoint: RELAY_PATHS.down }, 'auth 401'],
    ['no auth', { ...signed(RELAY_PATHS.up, body), get: (n: string) => (n === H.auth ? undefined : signed(RELAY_PATHS.up, body).get(n)) }, 'auth 401'],
    ['body changed', { ...signed(RELAY_PATHS.up, body), body: Buffer.from('chunK') }, 'checksum 460'],
    ['no digest', signed(RELAY_PATHS.up, body, {}, ''), 'checksum 460'],
    ['unauthenticated, digest right', { ...signed(RELAY_PATHS.up, body), secret: undefined }, 'accepted'],
  ];
  for (const [name, input, want] of table) assert.equal(outcome(acceptMessage(input)), want, name);
  const auth = acceptMessage({ ...signed(RELAY_PATHS.up, body), secret: Buffer.from('another secret of enough bytes!!') });
  assert.equal(auth.kind === 'refuse' && auth.signed, false, 'an unauthenticated refusal is not signed');
  assert.equal(auth.kind === 'refuse' && auth.detail, 'signature', 'the log learns which check failed');
});

test('decideDispatch: session id, then the endpoint fields', () => {
  const open = formatOpenRequest({ kind: 'connect', host: 'example.test', port: 443 });
  const fields = (f: Record<string, string>) => (n: string) => ({ [H.session]: SESSION, ...f })[n];
  const table: Array<[RelayPath, Record<string, string>, Buffer, string]> = [
    [RELAY_PATHS.close, {}, Buffer.alloc(0), 'dispatch'],
    [RELAY_PATHS.close, { [H.session]: 'short' }, Buffer.alloc(0), 'session 400'],
    [RELAY_PATHS.open, {}, open, 'dispatch'],
    [RELAY_PATHS.open, {}, Buffer.from('{'), 'open 400'],
    [RELAY_PATHS.open, {}, formatOpenRequest({ kind: 'connect', host: 'example.test', port: 22 }), 'port 403'],
    [RELAY_PATHS.up, { [H.index]: '3', [H.fin]: '1' }, Buffer.alloc(0), 'dispatch'],
    [RELAY_PATHS.up, { [H.index]: '03' }, Buffer.alloc(0), 'index 400'],
    [RELAY_PATHS.up, {}, Buffer.alloc(0), 'index 400'],
    [RELAY_PATHS.down, { [H.index]: '4', [H.ack]: '4' }, Buffer.alloc(0), 'dispatch'],
    [RELAY_PATHS.down, { [H.index]: '4' }, Buffer.alloc(0), 'dispatch'],
    [RELAY_PATHS.down, { [H.index]: '4', [H.ack]: '5' }, Buffer.alloc(0), 'index 400'],
    [RELAY_PATHS.down, { [H.index]: 'x' }, Buffer.alloc(0), 'index 400'],
  ];
  for (const [endpoint, f, body, want] of table) assert.equal(outcome(decideDispatch(endpoint, fields(f), body, [443])), want, `${endpoint} ${JSON.stringify(f)}`);
  assert.deepEqual(decideDispatch(RELAY_PATHS.up, fields({ [H.index]: '3', [H.fin]: '1' }), Buffer.alloc(0), undefined),
    { kind: 'dispatch', session: SESSION, request: { endpoint: RELAY_PATHS.up, index: 3, fin: true, early: false } });
  // x-ferry-early: 1, and only 1, marks a chunk or poll sent before its open was answered
  assert.deepEqual(decideDispatch(RELAY_PATHS.up, fields({ [H.index]: '0', [H.early]: '1' }), Buffer.alloc(0), undefined),
    { kind: 'dispatch', session: SESSION, request: { endpoint: RELAY_PATHS.up, index: 0, fin: false, early: true } });
  assert.deepEqual(decideDispatch(RELAY_PATHS.down, fields({ [H.index]: '2', [H.early]: '1' }), Buffer.alloc(0), undefined),
    { kind: 'dispatch', session: SESSION, request: { endpoint: RELAY_PATHS.down, index: 2, ack: 0, early: true } });
  assert.deepEqual(decideDispatch(RELAY_PATHS.down, fields({ [H.index]: '2', [H.early]: 'yes' }), Buffer.alloc(0), undefined),
    { kind: 'dispatch', session: SESSION, request: { endpoint: RELAY_PATHS.down, index: 2, ack: 0, early: false } });
  assert.equal(outcome(decideDispatch(RELAY_PATHS.open, fields({}), formatOpenRequest({ kind: 'connect', host: 'a', port: 22 }), undefined)), 'dispatch', 'no port list: any port');
});

const meta = (patch: Partial<SessionMeta>): SessionMeta => ({ ...newSessionMeta(SESSION, 'http', 'd', 'i'), ...patch });

test('decideOpenProgress: open, failed with its status, gone, busy at the deadline, else wait', () => {
  const table: Array<[SessionMeta | undefined, number, string]> = [
    [meta({ state: 'open' }), 100, 'done'],
    [meta({ state: 'failed', failStatus: 504, failReason: 'timeout' }), 100, 'target 504'],
    [meta({ state: 'failed', failStatus: 0, failReason: 'x' }), 100, 'target 502'],
    [undefined, 100, 'gone 410'],
    [meta({ state: 'opening' }), 0, 'busy 503'],
    [meta({ state: 'opening' }), 100, 'wait'],
  ];
  for (const [m, left, want] of table) assert.equal(outcome(decideOpenProgress(m, left)), want, `${m?.state} ${left}`);
  assert.deepEqual(decideOpenProgress(meta({ state: 'opening' }), 10_000), { kind: 'wait', waitMs: 250 });
});

test('decideUpProgress: stored and duplicate acknowledged, conflict and gone refused, a full window waits until the deadline', () => {
  const table: Array<[PutUpResult, number, boolean, string]> = [
    [{ kind: 'stored' }, 100, false, 'done'], [{ kind: 'duplicate' }, 100, false, 'done'],
    [{ kind: 'conflict' }, 100, false, 'conflict 409'], [{ kind: 'gone' }, 100, false, 'gone 410'],
    [{ kind: 'busy' }, 100, false, 'wait'], [{ kind: 'busy' }, 0, false, 'busy 503'], [{ kind: 'busy' }, 100, true, 'busy 503'],
  ];
  for (const [r, left, aborted, want] of table) assert.equal(outcome(decideUpProgress(r, 7, left, aborted)), want, `${r.kind} ${left} ${aborted}`);
});

test('decideDownProgress: ready, stale, gone, empty at the deadline, else wait', () => {
  const m = meta({ state: 'open', downAcked: 2, downProduced: 5 });
  const table: Array<[SessionMeta | undefined, number, number, boolean, string]> = [
    [m, 3, 100, false, 'done'], [m, 1, 100, false, 'stale 409'], [undefined, 3, 100, false, 'gone 410'],
    [m, 5, 100, false, 'wait'], [m, 5, 0, false, 'done'], [m, 5, 100, true, 'done'],
  ];
  for (const [x, index, left, aborted, want] of table) assert.equal(outcome(decideDownProgress(x, index, left, aborted)), want, `${index} ${left} ${aborted}`);
  assert.deepEqual(decideDownProgress(m, 5, 0, false), { kind: 'done', value: 'empty' });
  assert.deepEqual(decideDownProgress(m, 5, 5000, false), { kind: 'wait', waitMs: 1000 });
});

test('decideArrival: an early message goes on once its session exists, waits (re-reading often) until its deadline, then unopened', () => {
  const table: Array<[SessionMeta | undefined, number, boolean, string]> = [
    [meta({ state: 'opening' }), 100, false, 'done'], [meta({ state: 'open' }), 0, false, 'done'], [meta({ state: 'open' }), 100, true, 'done'],
    [undefined, 100, false, 'wait'], [undefined, 0, false, 'unopened 404'], [undefined, -5, false, 'unopened 404'], [undefined, 100, true, 'unopened 404'],
  ];
  for (const [m, left, aborted, want] of table) assert.equal(outcome(decideArrival(m, left, aborted)), want, `${m?.state} ${left} ${aborted}`);
  assert.deepEqual(decideArrival(undefined, 5000, false), { kind: 'wait', waitMs: EARLY_RECHECK_MS });
  assert.deepEqual(decideArrival(undefined, 30, false), { kind: 'wait', waitMs: 30 });
  // property: never waits past the deadline, never refuses what exists, always refuses at or after the deadline
  fc.assert(fc.property(fc.boolean(), fc.integer({ min: -1000, max: 60_000 }), fc.boolean(), (exists, left, aborted) => {
    const d = decideArrival(exists ? meta({}) : undefined, left, aborted);
    if (exists) return d.kind === 'done';
    if (left <= 0 || aborted) return d.kind === 'refuse' && d.code === 'unopened' && d.signed;
    return d.kind === 'wait' && d.waitMs > 0 && d.waitMs <= left && d.waitMs <= EARLY_RECHECK_MS;
  }));
});

test('admitEarly: bounded in messages and in held body bytes', () => {
  const max = 64 * 1024 * 1024;
  assert.equal(admitEarly({ messages: 0, bytes: 0 }, 1024 * 1024, max), true);
  assert.equal(admitEarly({ messages: 0, bytes: max - 10 }, 10, max), true);
  assert.equal(admitEarly({ messages: 0, bytes: max - 10 }, 11, max), false);
  assert.equal(admitEarly({ messages: EARLY_MAX_MESSAGES - 1, bytes: 0 }, 0, max), true);
  assert.equal(admitEarly({ messages: EARLY_MAX_MESSAGES, bytes: 0 }, 0, max), false);
  // property: admitting while admitted never passes either bound
  fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 2 * 1024 * 1024 }), { maxLength: 2000 }), (sizes) => {
    const held = { messages: 0, bytes: 0 };
    for (const n of sizes) if (admitEarly(held, n, max)) { held.messages++; held.bytes += n; }
    return held.messages <= EARLY_MAX_MESSAGES && held.bytes <= max;
  }));
});
