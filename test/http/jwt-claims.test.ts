import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSecretLength, createJwtClaims, formatUtcDate, isUuidV4, MIN_SECRET_BYTES, parseExtraClaims, secretFromFileBytes, toNumericDate } from '../../src/http/jwt-claims.ts';

const UUID = '1b4e28ba-2fa1-4d2e-a3c4-5f6a7b8c9d0e';

const DATES: Array<[string, string, number]> = [
  // [instant, UTC date, iat]
  ['2026-11-21T23:59:59.999Z', '2026-11-21', 1795305599],
  ['2026-11-22T00:00:00.000Z', '2026-11-22', 1795305600],
  ['2024-02-29T12:00:00.500Z', '2024-02-29', 1709208000],
  ['1999-12-31T23:59:59.999Z', '1999-12-31', 946684799],
];
for (const [iso, date, iat] of DATES) {
  test(`at ${iso} the claims carry date ${date} and iat ${iat}`, () => {
    const now = Date.parse(iso);
    const c = createJwtClaims({ nowMs: now, uuid: UUID, user: 'alice' });
    assert.deepEqual(c, { jti: UUID, iat, payload: { user: 'alice', date } });
    assert.equal(formatUtcDate(now), date);
    assert.equal(toNumericDate(now), iat);
  });
}

test('extra claims are added, reserved ones never override the fresh ones', () => {
  const c = createJwtClaims({ nowMs: 0, uuid: UUID, user: 'u', extra: { iss: 'ferry', jti: 'x', iat: 1, payload: {} } });
  assert.deepEqual(c, { iss: 'ferry', jti: UUID, iat: 0, payload: { user: 'u', date: '1970-01-01' } });
});

test('--jwt-claims must be a JSON object without reserved names', () => {
  assert.deepEqual(parseExtraClaims('{"iss":"ferry","aud":["a"]}'), { ok: true, claims: { iss: 'ferry', aud: ['a'] } });
  for (const bad of ['[1]', '"s"', 'null', '{', '{"jti":"x"}', '{"payload":{}}']) assert.equal(parseExtraClaims(bad).ok, false, bad);
});

test('secrets shorter than the hash output are refused with the minimum named (RFC 7518 §3.2)', () => {
  for (const [alg, min] of Object.entries(MIN_SECRET_BYTES) as Array<['HS256' | 'HS384' | 'HS512', number]>) {
    assert.deepEqual(checkSecretLength(new Uint8Array(min), alg), { ok: true });
    const r = checkSecretLength(new Uint8Array(min - 1), alg);
    assert.equal(r.ok, false);
    if (!r.ok) assert.match(r.reason, new RegExp(`at least ${min} bytes`));
  }
});

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
for (const [input, out] of [['abc\n', 'abc'], ['abc\r\n', 'abc'], ['abc\n\n', 'abc\n'], ['abc', 'abc'], ['\n', ''], ['a b \n', 'a b '], ['abc\r', 'abc\r']]) {
  test(`secret file ${JSON.stringify(input)} gives key ${JSON.stringify(out)}`, () => {
    assert.equal(dec(secretFromFileBytes(enc(input!))), out);
  });
}

test('isUuidV4 accepts v4 and refuses other versions and variants', () => {
  assert.equal(isUuidV4(UUID), true);
  assert.equal(isUuidV4(crypto.randomUUID()), true);
  assert.equal(isUuidV4('1b4e28ba-2fa1-1d2e-a3c4-5f6a7b8c9d0e'), false);
  assert.equal(isUuidV4('1b4e28ba-2fa1-4d2e-c3c4-5f6a7b8c9d0e'), false);
});

test('jti from the default UUID source: 0 duplicates in 10^6 claim sets (RELIABILITY J4)', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 1_000_000; i++) seen.add(createJwtClaims({ nowMs: 0, uuid: crypto.randomUUID(), user: 'u' }).jti);
  assert.equal(seen.size, 1_000_000);
});

test('standard claims: exp = iat + ttl and nbf = iat, iss, aud; the seed claims are exactly those without them (property)', async () => {
  const fc = (await import('fast-check')).default;
  const { conflictingClaims } = await import('../../src/http/jwt-claims.ts');
  fc.assert(fc.property(
    fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.uuid({ version: 4 }), fc.string(),
    fc.option(fc.integer({ min: 1, max: 10 * 365 * 86_400 }), { nil: undefined }),
    fc.option(fc.string(), { nil: undefined }),
    fc.option(fc.oneof(fc.string(), fc.array(fc.string(), { minLength: 2, maxLength: 4 })), { nil: undefined }),
    (nowMs, uuid, user, ttlSeconds, issuer, audience) => {
      const standard = { ...(ttlSeconds !== undefined ? { ttlSeconds } : {}), ...(issuer !== undefined ? { issuer } : {}), ...(audience !== undefined ? { audience } : {}) };
      const seed = createJwtClaims({ nowMs, uuid, user });
      const c = createJwtClaims({ nowMs, uuid, user, standard, extra: { iss: 'from-file', exp: 1, scope: 's' } });
      const { exp, nbf, iss, aud, scope, ...rest } = c;
      assert.deepEqual(rest, seed);
      assert.equal(scope, 's');
      if (ttlSeconds !== undefined) { assert.equal(exp, seed.iat + ttlSeconds); assert.equal(nbf, seed.iat); } else { assert.equal(exp, 1); assert.equal(nbf, undefined); }
      assert.equal(iss, issuer ?? 'from-file');
      assert.deepEqual(aud, audience);
      const conflicts = conflictingClaims({ iss: 'x', exp: 1, aud: 'y', nbf: 2, scope: 's' }, standard);
      assert.deepEqual(conflicts, ['iss', 'exp', 'aud', 'nbf'].filter((k) => (k === 'iss' ? issuer !== undefined : k === 'aud' ? audience !== undefined : ttlSeconds !== undefined)));
    },
  ));
});

test('--jwt-ttl is whole seconds rounded up, at least one second', async () => {
  const { ttlSecondsFromMs } = await import('../../src/http/jwt-claims.ts');
  assert.deepEqual([ttlSecondsFromMs(999), ttlSecondsFromMs(1000), ttlSecondsFromMs(1500), ttlSecondsFromMs(600_000), ttlSecondsFromMs(0)], [null, 1, 2, 600, null]);
});
