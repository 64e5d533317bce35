/**
 * @module The purge request in the `route` phase (PURGE, or POST/DELETE on the purge path; see purge.ts for the
 * parsing and the authorisation rules): drop the primary entry and answer with a small JSON body.
 */
import type { HeaderList } from '../http/headers.ts';
import type { RequestContext } from '../proxy/context.ts';
import { CONTINUE, type PhaseResult } from '../proxy/phases.ts';
import type { CacheDeps } from './cache-deps.ts';
import { cacheKey, formatCacheUri, type KeyParts } from './key.ts';
import { decidePurgeAuth, parsePurgeRequest } from './purge.ts';

export async function routePurge(deps: CacheDeps, purgeToken: string | null, ctx: RequestContext): Promise<PhaseResult> {
  const p = parsePurgeRequest(ctx.request.method, ctx.request.target, ctx.request.headers, ctx.secure);
  if (p.kind === 'none') return CONTINUE;
  if (p.kind === 'invalid') return jsonReply(p.status, { error: p.reason }, p.status === 405 ? [['allow', 'POST, DELETE, PURGE']] : []);
  const auth = decidePurgeAuth(purgeToken, ctx.request.headers, ctx.clientAddress);
  if (auth.kind === 'deny') {
    ctx.log.info({ event: 'cache-purge-denied', requestId: ctx.id, client: ctx.clientAddress }, auth.reason);
    return jsonReply(auth.status, { error: auth.reason }, auth.status === 401 ? [['www-authenticate', 'Bearer']] : []);
  }
  const existed = await purge(deps, p.parts);
  ctx.log.info({ event: 'cache-purge', requestId: ctx.id, uri: formatCacheUri(p.parts), existed }, 'cache purge');
  return jsonReply(200, { purged: existed, uri: formatCacheUri(p.parts) });
}

/** Drop the entry (or Vary record) at the URI; true when there was one. */
async function purge(deps: CacheDeps, parts: KeyParts): Promise<boolean> {
  const key = cacheKey(parts);
  const existed = (await deps.store.get(key).catch(() => null)) !== null;
  await deps.store.delete(key);
  deps.flights.forget(key);
  return existed;
}

function jsonReply(status: number, body: object, extra: HeaderList = []): PhaseResult {
  return {
    kind: 'respond',
    reply: { status, headers: [['content-type', 'application/json'], ['cache-control', 'no-store'], ...extra], body: `${JSON.stringify(body)}\n` },
  };
}
