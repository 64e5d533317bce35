/**
 * @module The claims ferry signs into every forwarded request (SPEC: JWT). Pure: the clock and the UUID source are
 * passed in; no signing, no I/O (signing lives in proxy/filters/jwt.ts).
 */

/** Symmetric: signed with a shared secret (RFC 7518 §3.2). */
export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
/** Asymmetric: signed with a private key, verified with the public key from the JWKS (RFC 7518 §3.3–3.5, RFC 8037). */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;
export const JWT_ALGORITHMS = [...HMAC_ALGORITHMS, ...ASYMMETRIC_ALGORITHMS] as const;
export type HmacAlgorithm = (typeof HMAC_ALGORITHMS)[number];
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

export function isHmacAlgorithm(alg: string): alg is HmacAlgorithm {
  return (HMAC_ALGORITHMS as readonly string[]).includes(alg);
}

export function isAsymmetricAlgorithm(alg: string): alg is AsymmetricAlgorithm {
  return (ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg);
}

/**
 * RFC 7518 §3.2: "A key of the same size as the hash output (for instance, 256 bits for HS256) or larger MUST be
 * used with this algorithm." Bytes per algorithm.
 */
export const MIN_SECRET_BYTES: Readonly<Record<HmacAlgorithm, number>> = { HS256: 32, HS384: 48, HS512: 64 };

/** Claims ferry sets itself; `--jwt-claims` may not override them (they are what makes each token fresh). */
export const RESERVED_CLAIMS: readonly string[] = ['jti', 'iat', 'payload'];

/** Claims that optional flags set (--jwt-ttl → exp and nbf, --jwt-issuer → iss, --jwt-audience → aud). */
export const STANDARD_CLAIMS: readonly string[] = ['exp', 'nbf', 'iss', 'aud'];

export interface JwtClaims {
  [claim: string]: unknown;
  /** UUID v4, unique per request (RFC 7519 §4.1.7). */
  jti: string;
  /** NumericDate: whole seconds since the epoch (RFC 7519 §2, §4.1.6). */
  iat: number;
  payload: { user: string; date: string };
}

/** The optional standard claims, fixed at startup. */
export interface StandardClaimOptions {
  /** Lifetime in whole seconds: exp = iat + ttl, nbf = iat (RFC 7519 §4.1.4, §4.1.5). */
  ttlSeconds?: number;
  /** RFC 7519 §4.1.1. */
  issuer?: string;
  /** RFC 7519 §4.1.3: one audience is a string, several an array. */
  audience?: string | readonly string[];
}

export interface ClaimSources {
  /** Wall clock, ms since the epoch. */
  nowMs: number;
  /** A fresh UUID v4. */
  uuid: string;
  user: string;
  /** Static extra claims (from --jwt-claims); reserved names are ignored. */
  extra?: Readonly<Record<string, unknown>>;
  /** Optional exp/nbf, iss, aud; they win over the same names in `extra`. */
  standard?: StandardClaimOptions;
}

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function isUuidV4(s: string): boolean {
  return UUID_V4.test(s);
}

/** The UTC calendar date of an instant, `YYYY-MM-DD`. */
export function formatUtcDate(nowMs: number): string {
  return new Date(nowMs).toISOString().slice(0, 10);
}

/** NumericDate of an instant: floor, so a token is never dated in the future (RFC 7519 §2). */
export function toNumericDate(nowMs: number): number {
  return Math.floor(nowMs / 1000);
}

export function createJwtClaims(src: ClaimSources): JwtClaims {
  const iat = toNumericDate(src.nowMs);
  const claims: JwtClaims = { ...stripReserved(src.extra), jti: src.uuid, iat, payload: { user: src.user, date: formatUtcDate(src.nowMs) } };
  const std = src.standard;
  if (std === undefined) return claims;
  if (std.ttlSeconds !== undefined) { claims.exp = iat + std.ttlSeconds; claims.nbf = iat; }
  if (std.issuer !== undefined) claims.iss = std.issuer;
  if (std.audience !== undefined) claims.aud = typeof std.audience === 'string' ? std.audience : [...std.audience];
  return claims;
}

/**
 * `--jwt-claims` names that a standard-claim flag also sets: refused at startup rather than one silently winning.
 * Pure; `[]` when there is no conflict.
 */
export function conflictingClaims(extra: Readonly<Record<string, unknown>>, std: StandardClaimOptions): string[] {
  const set = new Set<string>();
  if (std.ttlSeconds !== undefined) { set.add('exp'); set.add('nbf'); }
  if (std.issuer !== undefined) set.add('iss');
  if (std.audience !== undefined) set.add('aud');
  return Object.keys(extra).filter((k) => set.has(k));
}

/** --jwt-ttl in ms → whole seconds (rounded up, so a TTL is never shortened); null when below one second. */
export function ttlSecondsFromMs(ms: number): number | null {
  if (!Number.isFinite(ms) || ms < 1000) return null;
  return Math.ceil(ms / 1000);
}

function stripReserved(extra: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!extra) return out;
  for (const [k, v] of Object.entries(extra)) if (!RESERVED_CLAIMS.includes(k)) out[k] = v;
  return out;
}

export type ExtraClaimsResult = { ok: true; claims: Record<string, unknown> } | { ok: false; reason: string };

/** `--jwt-claims` file contents: a JSON object; reserved names are refused so a typo cannot silently vanish. */
export function parseExtraClaims(text: string): ExtraClaimsResult {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `not valid JSON: ${(err as Error).message}` };
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return { ok: false, reason: 'expected a JSON object of claim names to values' };
  const reserved = Object.keys(data).filter((k) => RESERVED_CLAIMS.includes(k));
  if (reserved.length > 0) return { ok: false, reason: `claims ${reserved.join(', ')} are set by ferry for every request and cannot be given` };
  return { ok: true, claims: data as Record<string, unknown> };
}

export type SecretCheck = { ok: true } | { ok: false; reason: string };

/** RFC 7518 §3.2 key length; the message names the minimum (RELIABILITY J2). Never includes the secret. */
export function checkSecretLength(secret: Uint8Array, alg: HmacAlgorithm): SecretCheck {
  const min = MIN_SECRET_BYTES[alg];
  if (secret.byteLength >= min) return { ok: true };
  return { ok: false, reason: `the JWT secret is ${secret.byteLength} bytes; ${alg} needs at least ${min} bytes (RFC 7518 §3.2: a key at least as long as the hash output)` };
}

/**
 * A secret file's text as key bytes: one trailing newline (`\n` or `\r\n`) is removed — what `echo` or an editor
 * adds — and nothing else, so the same file always gives the same key.
 */
export function secretFromFileBytes(bytes: Uint8Array): Uint8Array {
  let end = bytes.byteLength;
  if (end > 0 && bytes[end - 1] === 0x0a) {
    end--;
    if (end > 0 && bytes[end - 1] === 0x0d) end--;
  }
  return bytes.subarray(0, end);
}
