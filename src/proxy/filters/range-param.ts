/**
 * @module The `?range=` requestFilter (SPEC: ferry proxy, Range): the parameter becomes a Range header and leaves the
 * forwarded target; a Range header asking for other bytes gets 416 from ferry itself; a malformed parameter gets
 * 400. Decisions are http/range-param.ts; this file only edits the head and, when needed, asks the upstream for the
 * representation length with one HEAD request.
 */
import { getHeader, withHeader, type HeaderList } from '../../http/headers.ts';
import { decideRangeParam, parseRangeParam, type RangeParam } from '../../http/range-param.ts';
import { formatUnsatisfiedRange } from '../../http/range.ts';
import type { RequestContext, UpstreamTarget } from '../context.ts';
import { CONTINUE, type LocalReply, type PhaseResult, type ProxyFilter } from '../phases.ts';
import type { UpstreamClient } from '../upstream-client.ts';

/** Learns the representation length of `path` at the upstream; undefined when it cannot tell. */
export type SizeProbe = (upstream: UpstreamTarget, headers: HeaderList) => Promise<number | undefined>;

export interface RangeParamFilterOptions {
  /** How the representation length is learned when it matters (see createHeadSizeProbe). */
  probe: SizeProbe;
}

const RANGE_METHODS = new Set(['GET', 'HEAD']);

/** Fields of the client's request that can change which representation (and so which length) the HEAD sees. */
const PROBE_HEADERS = new Set(['accept', 'accept-encoding', 'accept-language', 'authorization', 'cookie', 'user-agent']);

function textReply(status: number, message: string, extra: HeaderList = []): LocalReply {
  return { status, headers: [['content-type', 'text/plain; charset=utf-8'], ['cache-control', 'no-store'], ...extra], body: `${message}\n` };
}

/**
 * RFC 9110 §9.3.2: a HEAD answers with the Content-Length a GET would have; only a 200 tells the full length.
 * Sent through the proxy's own upstream client (same pool, same connect timeout), bounded by `timeoutMs`.
 */
export function createHeadSizeProbe(client: UpstreamClient, timeoutMs: number): SizeProbe {
  return async (upstream, headers) => {
    try {
      const res = await client.send({
        origin: upstream.origin,
        path: upstream.path,
        head: { method: 'HEAD', target: upstream.path, httpVersion: '1.1', headers: headers.filter(([n]) => PROBE_HEADERS.has(n)) },
        body: null,
        signal: AbortSignal.timeout(timeoutMs),
      });
      res.body?.destroy();
      const len = getHeader(res.head.headers, 'content-length');
      if (res.head.status !== 200 || len === undefined || !/^\d{1,15}$/.test(len)) return undefined;
      return Number(len);
    } catch {
      return undefined;
    }
  };
}

export function createRangeParamFilter(options: RangeParamFilterOptions): ProxyFilter {
  const { probe } = options;
  return {
    name: 'range-param',
    // synchronous when there is no parameter (nearly every request): the runner awaits only a returned Promise
    requestFilter(ctx: RequestContext): PhaseResult | Promise<PhaseResult> {
      // RFC 9110 §14.2: range handling is defined for GET only (HEAD answers as GET would); other methods keep
      // their query untouched rather than lose a parameter the application may own.
      if (!RANGE_METHODS.has(ctx.request.method)) return CONTINUE;
      // Origin-form only: an absolute-form (forward proxy) request is for someone else's site and its query.
      if (!ctx.request.target.startsWith('/')) return CONTINUE;
      const param = parseRangeParam(ctx.request.target);
      if (param.kind === 'absent') return CONTINUE;
      return applyRangeParam(ctx, param, probe);
    },
  };
}

/** A request with a `?range=` parameter: 400, 416, or the Range header it becomes (with one HEAD when needed). */
async function applyRangeParam(ctx: RequestContext, param: Exclude<RangeParam, { kind: 'absent' }>, probe: SizeProbe): Promise<PhaseResult> {
  if (param.kind === 'invalid') {
    ctx.log.info({ event: 'range-param', reason: param.reason }, 'bad range parameter');
    return { kind: 'respond', reply: textReply(400, param.reason) };
  }
  const header = getHeader(ctx.request.headers, 'range');
  const upstream = ctx.upstream === undefined ? undefined : withoutParam(ctx.upstream);
  let decision = decideRangeParam(param.specs, header);
  let size: number | undefined;
  if (decision.kind === 'need-size') {
    size = upstream === undefined ? undefined : await probe(upstream, ctx.request.headers);
    decision = size === undefined ? { kind: 'conflict' } : decideRangeParam(param.specs, header, size);
  }
  if (decision.kind === 'conflict') {
    // RFC 9110 §15.5.17: 416 with `Content-Range: bytes */N` when the length is known.
    const cr: HeaderList = size === undefined ? [] : [['content-range', formatUnsatisfiedRange(size)]];
    return { kind: 'respond', reply: textReply(416, 'the Range header and the range parameter ask for different bytes', cr) };
  }
  if (decision.kind === 'forward') {
    ctx.request = {
      ...ctx.request,
      target: param.target,
      headers: decision.range === null ? ctx.request.headers : withHeader(ctx.request.headers, 'range', decision.range),
    };
    if (ctx.upstream !== undefined && upstream !== undefined) ctx.upstream = upstream;
  }
  return CONTINUE;
}

/** The upstream target without the parameter (its path may carry a base path before the client's target). */
function withoutParam(upstream: UpstreamTarget): UpstreamTarget {
  const p = parseRangeParam(upstream.path);
  return p.kind === 'ranges' ? { ...upstream, path: p.target } : upstream;
}
