/**
 * @module Proxy authentication with the Basic scheme (RFC 7617) over Proxy-Authorization / Proxy-Authenticate
 * (RFC 9110 §11.7). Pure; no I/O. Comparison is constant-time in the credentials: every configured pair is checked,
 * over fixed-length digests, so neither the position of a match nor the length of a secret leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export const PROXY_AUTH_REALM = 'ferry';
/** RFC 9110 §11.7.1: a 407 carries a Proxy-Authenticate challenge. */
export const PROXY_AUTHENTICATE = `Basic realm="${PROXY_AUTH_REALM}"`;

export interface Credentials { user: string; pass: string }

export type BasicParse =
  | { kind: 'credentials'; user: string; pass: string }
  | { kind: 'missing' }
  | { kind: 'invalid'; reason: string };

/** `Basic <token68>` (RFC 7617 §2; scheme name case-insensitive per RFC 9110 §11.1). */
export function parseBasicCredentials(value: string | undefined): BasicParse {
  if (value === undefined) return { kind: 'missing' };
  const m = /^\s*([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)\s+([A-Za-z0-9+/]+=*)\s*$/.exec(value);
  if (!m) return { kind: 'invalid', reason: 'malformed credentials' };
  if (m[1]!.toLowerCase() !== 'basic') return { kind: 'invalid', reason: `unsupported scheme "${m[1]}"` };
  const decoded = Buffer.from(m[2]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  // RFC 7617 §2: the user-id cannot contain a colon; the password may.
  if (colon < 0) return { kind: 'invalid', reason: 'credentials lack a colon' };
  return { kind: 'credentials', user: decoded.slice(0, colon), pass: decoded.slice(colon + 1) };
}

/** The value a client sends (used by the upstream-proxy chaining and tests). */
export function formatBasicCredentials(user: string, pass: string): string {
  return `Basic ${Buffer.from(`${user}:${pass}`, 'utf8').toString('base64')}`;
}

function digest(user: string, pass: string): Buffer {
  // Length-prefix the user so "a:b:c" can't be split two ways into the same digest input.
  return createHash('sha256').update(`${Buffer.byteLength(user)}:${user}:${pass}`).digest();
}

export interface CredentialChecker {
  readonly enabled: boolean;
  check(user: string, pass: string): boolean;
}

export function createCredentialChecker(accepted: readonly Credentials[]): CredentialChecker {
  const digests = accepted.map((c) => digest(c.user, c.pass));
  return {
    enabled: digests.length > 0,
    check(user, pass) {
      const d = digest(user, pass);
      let ok = false;
      for (const known of digests) ok = timingSafeEqual(d, known) || ok; // no early exit
      return ok;
    },
  };
}

export type AuthDecision = { kind: 'allow'; user?: string } | { kind: 'challenge'; reason: string };

/** RFC 9110 §11.7.1: missing or wrong credentials → 407 with a challenge. */
export function decideProxyAuth(headerValue: string | undefined, checker: CredentialChecker): AuthDecision {
  if (!checker.enabled) return { kind: 'allow' };
  const parsed = parseBasicCredentials(headerValue);
  if (parsed.kind === 'missing') return { kind: 'challenge', reason: 'no Proxy-Authorization' };
  if (parsed.kind === 'invalid') return { kind: 'challenge', reason: parsed.reason };
  return checker.check(parsed.user, parsed.pass) ? { kind: 'allow', user: parsed.user } : { kind: 'challenge', reason: 'wrong credentials' };
}

export type CredentialsFileParse = { kind: 'ok'; credentials: Credentials[] } | { kind: 'invalid'; line: number; reason: string };

/** A `--proxy-auth-file`: one USER:PASS per line; blank lines and `#` comments ignored. */
export function parseCredentialsFile(text: string): CredentialsFileParse {
  const credentials: Credentials[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const c = parseUserPass(line);
    if (!c) return { kind: 'invalid', line: i + 1, reason: 'expected USER:PASS' };
    credentials.push(c);
  }
  return { kind: 'ok', credentials };
}

/** `USER:PASS` (the password may contain colons; neither part may be empty). */
export function parseUserPass(text: string): Credentials | undefined {
  const colon = text.indexOf(':');
  if (colon <= 0 || colon === text.length - 1) return undefined;
  return { user: text.slice(0, colon), pass: text.slice(colon + 1) };
}
