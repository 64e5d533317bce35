/** HMAC-SHA256 relay authentication: round trip, clock skew, and a tamper fuzz (RELIABILITY L2). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { MAX_SKEW_SECONDS, parseAuthHeader, signRelayRequest, signRelayResponse, verifyRelayRequest, verifyRelayResponse } from '../../src/relay/hmac.ts';
import { formatContentDigest, H } from '../../src/relay/protocol.ts';

const SECRET = Buffer.from('0123456789abcdef0123456789abcdef');
const NOW = 1_800_000_000_000;
const NONCE = 'AAAAAAAAAAAAAAAAAAAAAAAA';

function message(body: Buffer, index = '3') {
  const fields: Record<string, string> = { [H.session]: 'sess-0123456789abcdef', [H.index]: index, [H.fin]: '0', [H.digest]: formatContentDigest(body) };
  const auth = signRelayRequest(SECRET, { method: 'POST', path: '/relay/v1/up', fields, nowMs: NOW, nonce: NONCE });
  return { headers: { ...fields, [H.auth]: auth, 'content-type': 'application/octet-stream' } as Record<string, string> };
}

function verify(headers: Record<string, string>, opts: { path?: string; now?: number; secret?: Buffer } = {}) {
  return verifyRelayRequest(opts.secret ?? SECRET, 'POST', opts.path ?? '/relay/v1/up', Object.keys(headers), (n) => headers[n], opts.now ?? NOW);
}

test('a signed message verifies and yields its nonce; unrelated headers added by a gateway do not matter', () => {
  const { headers } = message(Buffer.from('hello'));
  assert.deepEqual(verify({ ...headers, 'x-amzn-trace-id': 'Root=1', authorization: 'AWS4-HMAC-SHA256 ...' }), { kind: 'ok', nonce: NONCE });
});

test('missing, malformed, wrong-secret and skewed messages are refused', () => {
  const { headers } = message(Buffer.from('hello'));
  const { [H.auth]: _auth, ...bare } = headers;
  assert.deepEqual(verify(bare), { kind: 'refused', reason: 'missing' });
  assert.deepEqual(verify({ ...headers, [H.auth]: 'v1 t=1,n=x,sig=y' }), { kind: 'refused', reason: 'malformed' });
  assert.deepEqual(verify(headers, { secret: Buffer.from('another secret, 32 bytes long!!!') }), { kind: 'refused', reason: 'signature' });
  assert.equal(verify(headers, { now: NOW + MAX_SKEW_SECONDS * 1000 }).kind, 'ok');
  assert.deepEqual(verify(headers, { now: NOW + (MAX_SKEW_SECONDS + 1) * 1000 }), { kind: 'refused', reason: 'skew' });
  assert.deepEqual(verify(headers, { now: NOW - (MAX_SKEW_SECONDS + 1) * 1000 }), { kind: 'refused', reason: 'skew' });
  assert.deepEqual(verify(headers, { path: '/relay/v1/down' }), { kind: 'refused', reason: 'signature' });
});

test('tamper fuzz (10 000 cases, RELIABILITY L2): changing any signed field, the nonce, the timestamp or the signature is refused', () => {
  const { headers } = message(Buffer.from('payload bytes'));
  const auth = parseAuthHeader(headers[H.auth])!;
  const signedNames = [H.session, H.index, H.fin, H.digest];
  fc.assert(fc.property(
    fc.constantFrom(...signedNames, 'nonce', 't', 'sig'),
    fc.nat(200), fc.nat(255),
    (what, pos, bits) => {
      const h = { ...headers };
      const flip = (s: string) => {
        const i = pos % s.length;
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
        const c = alphabet[(alphabet.indexOf(s[i]!) + 1 + (bits % 62)) % alphabet.length]!;
        return c === s[i] ? s : s.slice(0, i) + c + s.slice(i + 1);
      };
      if (what === 'nonce') h[H.auth] = `v1 t=${auth.t},n=${flip(auth.nonce)},sig=${auth.sig}`;
      else if (what === 't') h[H.auth] = `v1 t=${auth.t - 1 - (bits % 200)},n=${auth.nonce},sig=${auth.sig}`;
      else if (what === 'sig') h[H.auth] = `v1 t=${auth.t},n=${auth.nonce},sig=${flip(auth.sig)}`;
      else h[what] = flip(h[what]!);
      const changed = JSON.stringify(h) !== JSON.stringify(headers);
      fc.pre(changed);
      assert.equal(verify(h).kind, 'refused');
    },
  ), { numRuns: 10_000 });
});

test('a body changed after signing is caught by its digest (the relay answers 460, the client resends)', () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 512 }), fc.nat(), fc.integer({ min: 0, max: 7 }), (bytes, pos, bit) => {
    const body = Buffer.from(bytes);
    const { headers } = message(body);
    const bad = Buffer.from(body);
    bad[pos % bad.length] = bad[pos % bad.length]! ^ (1 << bit);
    assert.equal(verify(headers).kind, 'ok'); // the signature covers the claimed digest...
    assert.notEqual(formatContentDigest(bad), headers[H.digest]); // ...which the altered body no longer matches
  }), { numRuns: 500 });
});

test('responses are signed over status, the request nonce and the x-ferry fields', () => {
  const fields = { [H.session]: 's', [H.index]: '7', [H.type]: 'data', [H.fin]: '0', [H.digest]: formatContentDigest(Buffer.from('x')) };
  const sig = signRelayResponse(SECRET, 200, NONCE, fields);
  const h: Record<string, string> = { ...fields, [H.responseAuth]: sig, 'content-length': '1' };
  const ok = (hh: Record<string, string>, status = 200, nonce = NONCE) => verifyRelayResponse(SECRET, status, nonce, Object.keys(hh), (n) => hh[n]);
  assert.equal(ok(h), true);
  assert.equal(ok(h, 204), false);
  assert.equal(ok(h, 200, 'BBBBBBBBBBBBBBBBBBBBBBBB'), false, 'an answer to another request does not verify');
  assert.equal(ok({ ...h, [H.index]: '8' }), false);
  assert.equal(ok({ ...h, [H.fin]: '1' }), false);
  assert.equal(ok({ ...h, [H.responseAuth]: 'v1 sig=nope' }), false);
});
