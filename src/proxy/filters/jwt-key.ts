/**
 * @module Private keys for the asymmetric JWT algorithms (SPEC: JWT; docs/features.md "Asymmetric signing"): PEM
 * text → a private key, checked against --jwt-alg. No file I/O and no jose here (the CLI checks keys before loading
 * jose; jwt-signing-key.ts makes a checked key ready to sign); messages never contain key material.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import type { AsymmetricAlgorithm } from '../../http/jwt-claims.ts';

/** What matters about a key for the algorithm check: Node's asymmetricKeyType and details. */
export interface KeyDescription {
  type: string;
  /** OpenSSL curve name for EC keys (`prime256v1` is P-256). */
  curve?: string;
  /** RSA modulus length. */
  bits?: number;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

/** RFC 7518 §3.3 (RS*) and §3.5 (PS*): "A key of size 2048 bits or larger MUST be used". */
export const RSA_MIN_BITS = 2048;

const CURVE_NAMES: Readonly<Record<string, string>> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521', secp256k1: 'secp256k1' };

export function describeKey(d: KeyDescription): string {
  if (d.type === 'rsa' || d.type === 'rsa-pss') return `an ${d.type === 'rsa' ? 'RSA' : 'RSA-PSS'} ${d.bits ?? '?'}-bit key`;
  if (d.type === 'ec') return `an EC ${CURVE_NAMES[d.curve ?? ''] ?? d.curve ?? '?'} key`;
  if (d.type === 'ed25519') return 'an Ed25519 key';
  return `a key of type ${d.type}`;
}

/** The algorithms a key could sign with, for the message when it does not fit --jwt-alg. */
export function algorithmsForKey(d: KeyDescription): AsymmetricAlgorithm[] {
  if (d.type === 'rsa') return ['RS256', 'PS256'];
  if (d.type === 'ec' && d.curve === 'prime256v1') return ['ES256'];
  if (d.type === 'ed25519') return ['EdDSA'];
  return [];
}

/**
 * RFC 8725 §3.1: the algorithm comes from configuration and the key must be of its type — RS256/PS256: RSA of at
 * least 2048 bits; ES256: EC on P-256 (RFC 7518 §3.4); EdDSA: Ed25519 (RFC 8037 §3.1). Pure.
 */
export function checkKeyForAlgorithm(alg: AsymmetricAlgorithm, d: KeyDescription): Checked<true> {
  if (d.type === 'rsa-pss') {
    return { ok: false, reason: `${describeKey(d)} (id-RSASSA-PSS) cannot be published as a JWK; use a plain RSA key (openssl genpkey -algorithm RSA) for ${alg}` };
  }
  const fits = algorithmsForKey(d);
  if (!fits.includes(alg)) {
    const hint = fits.length > 0 ? `; it signs ${fits.join(' or ')}` : '; use an RSA (RS256, PS256), EC P-256 (ES256) or Ed25519 (EdDSA) key';
    return { ok: false, reason: `--jwt-alg ${alg} needs ${wantedKey(alg)}, but the key file holds ${describeKey(d)}${hint}` };
  }
  if (d.type === 'rsa' && (d.bits ?? 0) < RSA_MIN_BITS) {
    return { ok: false, reason: `${describeKey(d)} is too short for ${alg}: RFC 7518 §3.3 requires at least ${RSA_MIN_BITS} bits` };
  }
  return { ok: true, value: true };
}

function wantedKey(alg: AsymmetricAlgorithm): string {
  if (alg === 'ES256') return 'an EC P-256 private key';
  if (alg === 'EdDSA') return 'an Ed25519 private key';
  return `an RSA private key of at least ${RSA_MIN_BITS} bits`;
}

/** PEM text (PKCS#8 `PRIVATE KEY`, or traditional `RSA PRIVATE KEY` / `EC PRIVATE KEY`) → a private KeyObject. */
export function parsePrivateKeyPem(bytes: Uint8Array | string): Checked<KeyObject> {
  const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes).toString('latin1');
  if (!text.includes('-----BEGIN ')) {
    return { ok: false, reason: 'is not a PEM private key (a symmetric secret goes in --jwt-secret-file or FERRY_JWT_SECRET, with HS256, HS384 or HS512)' };
  }
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text)) {
    return { ok: false, reason: 'holds an encrypted private key; ferry needs it unencrypted (protect the file with chmod 600)' };
  }
  if (!/-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(text)) {
    const what = /-----BEGIN (PUBLIC KEY|RSA PUBLIC KEY|CERTIFICATE)-----/.exec(text)?.[1]?.toLowerCase() ?? 'no private key';
    return { ok: false, reason: `holds ${what === 'no private key' ? what : `a ${what}`}; --jwt-key-file needs the PEM private key` };
  }
  try {
    return { ok: true, value: createPrivateKey({ key: text, format: 'pem' }) };
  } catch (err) {
    return { ok: false, reason: `cannot be parsed as a PEM private key (${(err as NodeJS.ErrnoException).code ?? 'invalid'})` };
  }
}

export function describeKeyObject(key: KeyObject): KeyDescription {
  const details = key.asymmetricKeyDetails ?? {};
  return {
    type: key.asymmetricKeyType ?? 'unknown',
    ...(details.namedCurve !== undefined ? { curve: details.namedCurve } : {}),
    ...(details.modulusLength !== undefined ? { bits: details.modulusLength } : {}),
  };
}
