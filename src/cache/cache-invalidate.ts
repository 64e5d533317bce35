/**
 * @module Invalidation after unsafe methods (RFC 9111 §4.4): a non-error response to e.g. POST, PUT or DELETE drops
 * the stored target URI and the same-host URIs its Location and Content-Location name.
 */
import { getHeader } from '../http/headers.ts';
import type { RequestContext } from '../proxy/context.ts';
import type { ProxiedResponse } from '../proxy/phases.ts';
import { logStoreFailure, type CacheDeps } from './cache-deps.ts';
import { cacheKey, formatCacheUri, type KeyParts } from './key.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/** RFC 9111 §4.4: does this answer to `method` invalidate what is stored? */
export function invalidates(method: string, status: number): boolean {
  return !SAFE_METHODS.has(method) && status >= 200 && status < 400;
}

export async function invalidate(deps: CacheDeps, ctx: RequestContext, parts: KeyParts, res: ProxiedResponse): Promise<void> {
  const keys = [cacheKey(parts), ...namedKeys(parts, res)];
  for (const k of keys) { deps.flights.forget(k); await deps.store.delete(k).catch((err: unknown) => logStoreFailure(deps, ctx, err)); }
}

/** Keys of the URIs the response's Location and Content-Location name, on the same host only. */
function namedKeys(parts: KeyParts, res: ProxiedResponse): string[] {
  const keys: string[] = [];
  const base = formatCacheUri(parts);
  for (const field of ['location', 'content-location']) {
    const v = getHeader(res.head.headers, field);
    if (v === undefined) continue;
    try {
      const u = new URL(v, base);
      // RFC 9111 §4.4: only when the host is the same (prevents a denial-of-service on other sites).
      if (u.host.toLowerCase() === new URL(base).host.toLowerCase()) keys.push(cacheKey({ ...parts, path: `${u.pathname}${u.search}` }));
    } catch { /* not a URI: nothing to invalidate */ }
  }
  return keys;
}
