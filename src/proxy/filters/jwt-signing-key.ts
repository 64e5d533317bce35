/**
 * @module A checked private key made ready to sign (docs/features.md "JWKS"): a non-extractable CryptoKey, and its
 * public half as a JWK whose `kid` is the RFC 7638 SHA-256 thumbprint.
 */
import { createPublicKey, type webcrypto } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { AsymmetricAlgorithm } from '../../http/jwt-claims.ts';
import { checkKeyForAlgorithm, describeKeyObject, parsePrivateKeyPem, type Checked } from './jwt-key.ts';

/** A key ready to sign with, and what the JWKS publishes for it. */
export interface SigningKey {
  alg: AsymmetricAlgorithm;
  /** RFC 7638 SHA-256 thumbprint of the public key, base64url. */
  kid: string;
  cryptoKey: webcrypto.CryptoKey;
  /** Public parameters only, with kid, alg and use (RFC 7517 §4). */
  publicJwk: JWK;
}

const WEBCRYPTO_PARAMS: Readonly<Record<AsymmetricAlgorithm, webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams | webcrypto.Algorithm>> = {
  RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  PS256: { name: 'RSA-PSS', hash: 'SHA-256' },
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  EdDSA: { name: 'Ed25519' },
};

/** PEM → SigningKey, or the reason it cannot sign `alg` (prefix it with where the PEM came from). */
export async function loadSigningKey(pem: Uint8Array | string, alg: AsymmetricAlgorithm): Promise<Checked<SigningKey>> {
  const parsed = parsePrivateKeyPem(pem);
  if (!parsed.ok) return parsed;
  const fit = checkKeyForAlgorithm(alg, describeKeyObject(parsed.value));
  if (!fit.ok) return fit;
  try {
    // Only the public half is exported: createPublicKey drops d, p, q, dp, dq, qi (RFC 7518 §6.3.2).
    const exported = createPublicKey(parsed.value).export({ format: 'jwk' }) as JWK;
    const kid = await calculateJwkThumbprint(exported, 'sha256');
    // Imported once, non-extractable: jose would otherwise convert the KeyObject on every token.
    const cryptoKey = parsed.value.toCryptoKey(WEBCRYPTO_PARAMS[alg], false, ['sign']);
    return { ok: true, value: { alg, kid, cryptoKey, publicJwk: { ...exported, kid, alg, use: 'sig' } } };
  } catch (err) {
    // a key the checks let through but Node cannot export or import: refused like any other (never a crash on reload)
    return { ok: false, reason: `cannot be used to sign ${alg} (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
  }
}
