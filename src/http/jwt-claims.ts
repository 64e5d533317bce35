/**
 * @module The claims ferry signs into every forwarded request (SPEC: JWT). Pure: the clock and the UUID source are
 * passed in; no signing, no I/O (signing lives in proxy/filters/jwt.ts).
 */

export const JWT_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/**
 * RFC 7518 §3.2: "A key of the same size as the hash output (for instance, 256 bits for HS256) or larger MUST be
 * used with this algorithm." Bytes per algorithm.
 */
export const MIN_SECRET_BYTES: Readonly<Record<JwtAlgorithm, number>> = { HS256: 32, HS384: 48, HS512: 64 };

/** Claims ferry sets itself; `--jwt-claims` may not override them (they are what makes each token fresh). */
export const RESERVED_CLAIMS: readonly string[] = ['jti', 'iat', 'payload'];

export interface JwtClaims {
  [claim: string]: unknown;
  /** UUID v4, unique per request (RFC 7519 §4.1.7). */
  jti: string;
  /** NumericDate: whole seconds since the epoch (RFC 7519 §2, §4.1.6). */
  iat: number;
  payload: { user: string; date: string };
}

export interface ClaimSources {
  /** Wall clock, ms since the epoch. */
  nowMs: number;
  /** A fresh UUID v4. */
  uuid: string;
  user: string;
  /** Static extra claims (from --jwt-claims); reserved names are ignored. */
  extra?: Readonly<Record<string, unknown>>;
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
  const claims: JwtClaims = { ...stripReserved(src.extra), jti: src.uuid, iat: toNumericDate(src.nowMs), payload: { user: src.user, date: formatUtcDate(src.nowMs) } };
  return claims;
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
export function checkSecretLength(secret: Uint8Array, alg: JwtAlgorithm): SecretCheck {
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
