/**
 * @module Small pure pieces the executor's paths share: the request as http-cache-semantics sees it, the request
 * a refill sends, the only-if-cached 504, dropping an unread upstream body, and recording the outcome on a reply.
 */
import { Readable } from 'node:stream';
import { withoutHeaders, type HeaderList } from '../http/headers.ts';
import type { RequestContext } from '../proxy/context.ts';
import type { ProxiedResponse, RequestHead } from '../proxy/phases.ts';
import type CachePolicy from 'http-cache-semantics';
import { appendCacheStatus, formatCacheStatus, type CacheOutcome, type RecordedOutcome } from './cache-status.ts';
import { cacheHost, type KeyParts } from './key.ts';
import { toPolicyRequest } from './policy.ts';

/**
 * The one place a request's cache outcome is recorded: on the context (read by /stats, /metrics, the inspector,
 * the access log and error pages) and as ferry's Cache-Status member on the reply.
 */
export function withOutcome(ctx: RequestContext, res: ProxiedResponse, outcome: CacheOutcome): ProxiedResponse {
  const recorded: RecordedOutcome = outcome;
  // Formatted afresh: an outcome spread from an earlier one must not keep that one's value.
  const value = recorded.value = formatCacheStatus(outcome);
  ctx.cache = recorded;
  return { head: { ...res.head, headers: appendCacheStatus(res.head.headers, value) }, body: res.body };
}

/** The request as http-cache-semantics sees it; `only`: just those fields (policy.ts REUSE_REQUEST_FIELDS). */
export function policyRequestOf(head: RequestHead, parts: KeyParts, only?: readonly string[]): CachePolicy.HttpRequest {
  return toPolicyRequest(head.headers, { host: cacheHost(parts), path: parts.path }, only);
}

const RANGE_FIELDS: ReadonlySet<string> = new Set(['range', 'if-range']);

/** The request without Range/If-Range: a refill fetches the whole representation (the client then gets it whole). */
export function wholeOf(head: RequestHead): RequestHead {
  return { ...head, method: 'GET', headers: withoutHeaders(head.headers, RANGE_FIELDS) };
}

/** RFC 9111 §5.2.1.7: only-if-cached and nothing usable without contacting the origin. */
export function gatewayTimeout(): ProxiedResponse {
  const body = Buffer.from('not in cache, and the request said only-if-cached\n');
  const headers: HeaderList = [['content-type', 'text/plain; charset=utf-8'], ['content-length', String(body.length)], ['cache-control', 'no-store']];
  return { head: { status: 504, headers }, body: Readable.from([body]) };
}

/** Drop an upstream body nobody will read (304 bodies, errors replaced by stale-if-error, answers turned into 304). */
export function discard(body: Readable | null): void {
  if (body === null) return;
  body.on('error', () => { /* the abort we cause here is expected */ });
  body.destroy();
}
