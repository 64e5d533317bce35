/**
 * Asymmetric JWT keys without sockets: the key-type/algorithm matrix, PEM forms, the published JWK (public
 * parameters only, kid = RFC 7638 thumbprint), the key ring's rotation grace, the JWKS max-age, and the signer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import fc from 'fast-check';
import { calculateJwkThumbprint, decodeProtectedHeader, exportJWK, importJWK, jwtVerify } from 'jose';
import { checkKeyForAlgorithm, describeKeyObject, parsePrivateKeyPem } from '../../src/proxy/filters/jwt-key.ts';
import { loadSigningKey } from '../../src/proxy/filters/jwt-signing-key.ts';
import { createKeyRing } from '../../src/proxy/filters/jwt-keyring.ts';
import { jwksMaxAgeSeconds } from '../../src/proxy/filters/jwks-filter.ts';
import { createJwtSigner } from '../../src/proxy/filters/jwt.ts';
import { ASYMMETRIC_ALGORITHMS, type AsymmetricAlgorithm } from '../../src/http/jwt-claims.ts';
import { FerryError } from '../../src/errors.ts';

const gen = {
  rsa2048: () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
  rsa1024: () => generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey,
  rsaPss: () => generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).privateKey,
  p256: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
  p384: () => generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey,
  ed25519: () => generateKeyPairSync('ed25519').privateKey,
  ed448: () => generateKeyPairSync('ed448').privateKey,
};
const KEYS = Object.fromEntries(Object.entries(gen).map(([k, f]) => [k, f()])) as Record<keyof typeof gen, KeyObject>;
const pkcs8 = (k: KeyObject) => k.export({ format: 'pem', type: 'pkcs8' }) as string;
/** The traditional forms: PKCS#1 for RSA, SEC1 for EC. */
const traditional = (k: KeyObject) => k.export({ format: 'pem', type: k.asymmetricKeyType === 'rsa' ? 'pkcs1' : 'sec1' }) as string;
const BASE = { header: 'x-my-jwt', user: 'username', extraClaims: {} };

test('each algorithm accepts exactly its key type (RFC 7518 §3.3–3.5, RFC 8037), RSA from 2048 bits', () => {
  const fits: Record<AsymmetricAlgorithm, Array<keyof typeof gen>> = { RS256: ['rsa2048'], PS256: ['rsa2048'], ES256: ['p256'], EdDSA: ['ed25519'] };
  for (const alg of ASYMMETRIC_ALGORITHMS) {
    for (const name of Object.keys(KEYS) as Array<keyof typeof gen>) {
      const r = checkKeyForAlgorithm(alg, describeKeyObject(KEYS[name]));
      assert.equal(r.ok, fits[alg].includes(name), `${alg} with ${name}: ${r.ok ? 'ok' : r.reason}`);
    }
  }
  const wrong = checkKeyForAlgorithm('ES256', describeKeyObject(KEYS.rsa2048));
  assert.ok(!wrong.ok && /ES256 needs an EC P-256 private key, but the key file holds an RSA 2048-bit key; it signs RS256 or PS256/.test(wrong.reason));
  const short = checkKeyForAlgorithm('RS256', describeKeyObject(KEYS.rsa1024));
  assert.ok(!short.ok && /at least 2048 bits/.test(short.reason));
});

test('PEM: PKCS#8 and traditional private keys parse; public keys, encrypted keys and secrets are refused by name', () => {
  for (const k of [KEYS.rsa2048, KEYS.p256]) {
    assert.ok(parsePrivateKeyPem(pkcs8(k)).ok);
    assert.ok(parsePrivateKeyPem(traditional(k)).ok);
  }
  assert.ok(parsePrivateKeyPem(pkcs8(KEYS.ed25519)).ok);
  const spki = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'pem', type: 'spki' }) as string;
  const encrypted = KEYS.p256.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'pw' }) as string;
  const cases: Array<[string, RegExp]> = [
    [spki, /holds a public key/],
    [encrypted, /encrypted private key/],
    ['x'.repeat(64), /not a PEM private key \(a symmetric secret goes in --jwt-secret-file/],
    ['-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', /cannot be parsed/],
  ];
  for (const [pem, re] of cases) {
    const r = parsePrivateKeyPem(pem);
    assert.ok(!r.ok && re.test(r.reason), r.ok ? 'accepted' : r.reason);
  }
});

for (const [alg, name] of [['RS256', 'rsa2048'], ['PS256', 'rsa2048'], ['ES256', 'p256'], ['EdDSA', 'ed25519']] as const) {
  test(`${alg}: the JWK has public parameters only, kid is its RFC 7638 thumbprint, the same in PKCS#8 and traditional form`, async () => {
    const key = KEYS[name];
    const loaded = await loadSigningKey(pkcs8(key), alg);
    assert.ok(loaded.ok);
    const jwk = loaded.value.publicJwk;
    for (const p of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']) assert.ok(!(p in jwk), `private parameter ${p} published`);
    const expected = await exportJWK(key);
    assert.ok('d' in expected); // the private export has d, so the check above can fail
    assert.equal(loaded.value.kid, await calculateJwkThumbprint(expected, 'sha256'));
    assert.deepEqual({ ...jwk }, { ...Object.fromEntries(Object.entries(expected).filter(([k]) => !['d', 'p', 'q', 'dp', 'dq', 'qi'].includes(k))), kid: loaded.value.kid, alg, use: 'sig' });
    if (name !== 'ed25519') {
      const trad = await loadSigningKey(traditional(key), alg);
      assert.ok(trad.ok && trad.value.kid === loaded.value.kid);
    }
    // a token signed by the signer verifies with the published JWK alone
    const signer = await createJwtSigner({ ...BASE, alg, privateKey: pkcs8(key) });
    const token = await signer.sign();
    assert.deepEqual(decodeProtectedHeader(token), { alg, typ: 'JWT', kid: loaded.value.kid });
    await jwtVerify(token, await importJWK(jwk, alg), { algorithms: [alg] });
  });
}

test('the library refuses a secret with an asymmetric algorithm and a private key with HS*', async () => {
  await assert.rejects(createJwtSigner({ ...BASE, alg: 'ES256', secret: new Uint8Array(64) }), (e: unknown) => e instanceof FerryError && /ES256 signs with a private key, not a secret/.test(e.message));
  await assert.rejects(createJwtSigner({ ...BASE, alg: 'HS512', secret: new Uint8Array(64), privateKey: pkcs8(KEYS.p256) }), (e: unknown) => e instanceof FerryError && /not a private key/.test(e.message));
  await assert.rejects(createJwtSigner({ ...BASE, alg: 'ES256', privateKey: pkcs8(KEYS.ed25519) }), (e: unknown) => e instanceof FerryError && /ES256 needs an EC P-256 private key/.test(e.message));
  await assert.rejects(createJwtSigner({ ...BASE, alg: 'EdDSA' }), /give keyFile or privateKey/);
});

test('key ring: a rotated-out key is published until its grace ends, the current key always, nothing twice (property)', () => {
  fc.assert(fc.property(
    fc.integer({ min: 0, max: 10_000 }),
    fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 5_000 })), { maxLength: 30 }),
    fc.integer({ min: 0, max: 20_000 }),
    (grace, steps, probeAfter) => {
      const ring = createKeyRing({ kid: 'k0' }, grace);
      let t = 0;
      // model: when each kid was last rotated out
      const retiredAt = new Map<string, number>();
      let current = 'k0';
      for (const [k, dt] of steps) {
        t += dt;
        const kid = `k${k}`;
        const rotated = ring.rotate({ kid }, t);
        assert.equal(rotated, kid !== current);
        if (rotated) { retiredAt.set(current, t); retiredAt.delete(kid); current = kid; }
        const at = t + probeAfter;
        const published = ring.published(at).map((x) => x.kid);
        assert.equal(published[0], current);
        assert.equal(new Set(published).size, published.length);
        const expected = [...retiredAt].filter(([, r]) => r + grace > at).map(([kid]) => kid).sort();
        assert.deepEqual(published.slice(1).sort(), expected);
      }
    },
  ));
});

test('JWKS max-age is half the rotation grace, at most 5 minutes', () => {
  assert.deepEqual([jwksMaxAgeSeconds(600_000), jwksMaxAgeSeconds(4_000), jwksMaxAgeSeconds(1_000), jwksMaxAgeSeconds(0), jwksMaxAgeSeconds(86_400_000)], [300, 2, 0, 0, 300]);
});
