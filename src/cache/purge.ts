/**
 * @module Purge requests: which URI a purge names and whether the caller may purge. Pure.
 *
 * Two spellings: `PURGE <target>` (Squid/Varnish habit) and `POST|DELETE /cache/purge?url=<absolute URL or path>`.
 * With a token (`--cache-purge-token-file`), the caller must send `Authorization: Bearer <token>`; without one,
 * only loopback clients may purge (an open purge endpoint is a denial-of-service lever).
 */
import { timingSafeEqual } from 'node:crypto';
import { getHeader, type HeaderList } from '../http/headers.ts';
import type { KeyParts } from './key.ts';

export const PURGE_PATH = '/cache/purge';

export type PurgeRequest =
  | { kind: 'none' }
  | { kind: 'purge'; parts: KeyParts }
  | { kind: 'invalid'; status: 400 | 405; reason: string };

function partsOf(text: string, host: string | undefined, scheme: 'http' | 'https'): KeyParts | null {
  if (/^https?:\/\//i.test(text)) {
    let u: URL;
    try { u = new URL(text); } catch { return null; }
    // The path as written after the authority, not URL's re-encoded pathname (the key is byte-exact, C1).
    const rest = text.replace(/^https?:\/\/[^/?#]*/i, '');
    return { scheme: u.protocol === 'https:' ? 'https' : 'http', host: u.host, path: rest === '' ? '/' : rest };
  }
  if (!text.startsWith('/') || host === undefined) return null;
  return { scheme, host, path: text };
}

export function parsePurgeRequest(method: string, target: string, headers: HeaderList, secure: boolean): PurgeRequest {
  const scheme = secure ? 'https' : 'http';
  const host = getHeader(headers, 'host');
  if (method === 'PURGE') {
    const parts = partsOf(target, host, scheme);
    return parts === null ? { kind: 'invalid', status: 400, reason: 'PURGE needs an origin-form target and a Host, or an absolute URL' } : { kind: 'purge', parts };
  }
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  if (path !== PURGE_PATH) return { kind: 'none' };
  if (method !== 'POST' && method !== 'DELETE') return { kind: 'invalid', status: 405, reason: `use POST or DELETE on ${PURGE_PATH}` };
  const url = new URLSearchParams(q < 0 ? '' : target.slice(q + 1)).get('url');
  const parts = url === null ? null : partsOf(url, host, scheme);
  return parts === null ? { kind: 'invalid', status: 400, reason: `${PURGE_PATH} needs ?url=<absolute URL or /path>` } : { kind: 'purge', parts };
}

export type PurgeAuth = { kind: 'allow' } | { kind: 'deny'; status: 401 | 403; reason: string };

export function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

export function decidePurgeAuth(token: string | null, headers: HeaderList, clientAddress: string): PurgeAuth {
  if (token === null) return isLoopback(clientAddress) ? { kind: 'allow' } : { kind: 'deny', status: 403, reason: 'purge is allowed from loopback only (set --cache-purge-token-file)' };
  const m = /^Bearer\s+(\S+)\s*$/i.exec(getHeader(headers, 'authorization') ?? '');
  const given = Buffer.from(m?.[1] ?? '');
  const want = Buffer.from(token);
  const ok = given.length === want.length && timingSafeEqual(given, want);
  return ok ? { kind: 'allow' } : { kind: 'deny', status: 401, reason: 'purge needs Authorization: Bearer <token>' };
}
