/**
 * @module The upstream phase's tries (I/O around retry-policy.ts): the first try goes to the target the route phase
 * chose, a failure before any response byte is retried on another target of the pool when retryVerdict allows and the
 * pool's retry budget has room, each try bounded by the pool's try-timeout. A request body is kept in memory (so it
 * can be sent again) only when its Content-Length is within retry-body-limit; a streamed body is never retried.
 * Every try is reported to the pool (passive health, per-target figures) and recorded in ctx.tries for the access log.
 */
import { Readable } from 'node:stream';
import { FerryError } from '../../errors.ts';
import { getHeader } from '../../http/headers.ts';
import { upstreamErrorKind } from '../../stats/counters.ts';
import type { RequestContext } from '../context.ts';
import { routePlanOf } from '../filters/pool-route.ts';
import type { ProxiedResponse } from '../phases.ts';
import { UpstreamAbort, type UpstreamCall, type UpstreamClient } from '../upstream-client.ts';
import { toUpstreamError } from '../upstream-errors.ts';
import type { Pool, PoolTarget } from './pool.ts';
import { isRetryableMethod, outcomeOf, retryVerdict } from './retry-policy.ts';

export interface TryRecord {
  target: string;
  /** `response` (a status came back), or what failed: `connect`, `reset`, `timeout`. */
  outcome: string;
  status?: number;
  ms: number;
}

/** Send `call` as the route phase planned it (with retries), or as is when no pool routed this request. */
export async function sendWithTries(client: UpstreamClient, call: UpstreamCall, ctx: RequestContext): Promise<ProxiedResponse> {
  const plan = routePlanOf(ctx);
  if (plan === undefined) return client.send(call);
  client = plan.routing.client ?? client; // the pool's own connections (drained when its Routing is closed)
  if (call.onContinue !== undefined || !(call.signal instanceof UpstreamAbort)) return client.send(call);
  const { pool } = plan.decision;
  const retry = pool.config.retry;
  const parent = call.signal;
  let index = plan.first !== -1 ? plan.first : pool.pick(plan.key, new Set());
  plan.first = -1;
  if (index === -1) return client.send(call);
  const routedPath = call.path.slice(pool.targets[index]!.prefix.length);
  // a pool of one target has no other target to retry on (pick never returns a tried one, panic or not): no body
  // kept, no tried set, no retry bookkeeping (issue 18: the default pool built from --upstream is such a pool)
  const single = !pool.canRetry;
  const retryable = !single && isRetryableMethod(retry, call.head.method);
  const kept = call.body !== null && retryable ? await keepBody(call, retry.bodyLimit) : null;
  const bodyKind = call.body === null ? 'none' : kept !== null ? 'kept' : 'streamed';
  const tried = single ? null : new Set<number>();
  ctx.tries ??= []; // (no room reserved until a try is recorded: recordTry)
  for (;;) {
    tried?.add(index);
    const target = pool.targets[index]!;
    const body = kept !== null ? Readable.from([kept]) : call.body;
    const path = target.prefix + routedPath;
    const started = performance.now();
    target.inFlight++;
    try {
      // the call as the route phase built it when this try goes where it says (the usual first try): not copied
      const same = body === call.body && target.origin === call.origin && path === call.path;
      const response = await sendOne(client, same ? call as UpstreamCall & { signal: UpstreamAbort } : { ...call, origin: target.origin, path, body, signal: parent }, retry.tryTimeoutMs);
      const ms = performance.now() - started;
      const { status } = response.head;
      pool.report(index, status >= 500 ? '5xx' : 'ok');
      pool.recordTry(index, status, ms, undefined);
      recordTry(ctx, { target: target.id, outcome: 'response', status, ms: Math.round(ms * 1000) / 1000 });
      if (ctx.upstream === undefined || ctx.upstream.origin !== target.origin || ctx.upstream.path !== path) ctx.upstream = { origin: target.origin, path };
      if (response.body === null) target.inFlight--;
      else {
        // one listener shared by every response, the target kept on the body (issue 18: no closure per request)
        (response.body as Counted)[TARGET] = target;
        response.body.on('close', releaseTarget);
      }
      return response;
    } catch (err) {
      target.inFlight--;
      const fe = toUpstreamError(err);
      const ms = performance.now() - started;
      if (fe.source === 'upstream') {
        const outcome = outcomeOf(fe.code);
        pool.report(index, outcome);
        pool.recordTry(index, 0, ms, upstreamErrorKind(fe.code));
        recordTry(ctx, { target: target.id, outcome, ms: Math.round(ms * 1000) / 1000 });
      } else {
        recordTry(ctx, { target: target.id, outcome: 'error', ms: Math.round(ms * 1000) / 1000 });
      }
      const next = tried === null ? -1 : nextTry(pool, plan.key, tried, fe, call.head.method, bodyKind, parent, ctx);
      if (next === -1) throw fe;
      pool.targets[next]!.retries++;
      index = next;
    }
  }
}

/**
 * One more try in ctx.tries (the access log's list). The first replaces the empty list with one of exactly one entry:
 * a push would give it room for 17 (issue 13: one list per pool-routed request, nearly always of one try).
 */
function recordTry(ctx: RequestContext, record: TryRecord): void {
  if (ctx.tries === undefined || ctx.tries.length === 0) ctx.tries = [record];
  else ctx.tries.push(record);
}

const TARGET = Symbol('ferry.target');
type Counted = Readable & { [TARGET]?: PoolTarget };

/** A response body closed (read to its end, or given up): its try no longer counts as in flight on its target. */
function releaseTarget(this: Counted): void {
  const target = this[TARGET];
  if (target === undefined) return;
  this[TARGET] = undefined; // a stream emits 'close' once; counted once in any case
  target.inFlight--;
}

/** The next target to try, or -1 (then the last error stands). Logs why a retry was not made when it was wanted. */
function nextTry(pool: Pool, key: string, tried: ReadonlySet<number>, fe: FerryError, method: string, body: 'none' | 'kept' | 'streamed', parent: UpstreamAbort, ctx: RequestContext): number {
  if (parent.done || fe.source !== 'upstream') return -1;
  const verdict = retryVerdict(pool.config.retry, { code: fe.code, tried: tried.size, method, body });
  if (verdict !== 'retry') return -1;
  const next = pool.pick(key, tried);
  if (next === -1) return -1;
  if (!pool.budget.tryTake(Date.now())) {
    ctx.log.warn({ event: 'retry-budget-spent', requestId: ctx.id, pool: pool.name }, `pool ${pool.name}: retry budget spent, not retrying`);
    return -1;
  }
  return next;
}

/**
 * One try under its own abort: the request's abort (client gone) is passed on, and the try-timeout aborts the try
 * alone when no response head came in time.
 */
function sendOne(client: UpstreamClient, call: UpstreamCall & { signal: UpstreamAbort }, tryTimeoutMs: number | null): Promise<ProxiedResponse> {
  // without a try timeout the try's abort would only relay the request's: the request's own is used
  if (tryTimeoutMs === null) return client.send(call);
  const parent = call.signal;
  const own = new UpstreamAbort();
  parent.onAbort = (reason) => own.abort(reason);
  if (parent.done) own.abort(parent.reason);
  const timer = setTimeout(() => {
    own.abort(new FerryError('FERRY_ERR_UPSTREAM_TIMEOUT', `no response head within the try timeout (${tryTimeoutMs} ms)`, { source: 'upstream', status: 504 }));
  }, tryTimeoutMs);
  return client.send({ ...call, signal: own }).finally(() => clearTimeout(timer));
}

/** The whole body when Content-Length says it is within `limit` (read now, so it can be sent again), else null. */
async function keepBody(call: UpstreamCall, limit: number): Promise<Buffer | null> {
  const length = Number(getHeader(call.head.headers, 'content-length') ?? NaN);
  if (!(length >= 0 && length <= limit) || call.body === null) return null;
  const chunks: Buffer[] = [];
  for await (const chunk of call.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
