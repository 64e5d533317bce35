/** @module route: origin-form requests go to the --upstream origins, round robin; the target is kept byte for byte. */
import { parseRequestTarget } from '../../http/request-target.ts';
import type { RequestContext } from '../context.ts';
import { CONTINUE, type PhaseResult, type ProxyFilter } from '../phases.ts';

export function createReverseRouteFilter(upstreams: readonly URL[]): ProxyFilter {
  const targets = upstreams.map((u) => ({
    origin: u.origin,
    // an upstream URL with a path prefixes every forwarded path (`http://h/api` + `/x` → `/api/x`)
    prefix: u.pathname === '/' ? '' : u.pathname.replace(/\/+$/, ''),
  }));
  let next = 0;
  return {
    name: 'reverse-route',
    route(ctx: RequestContext): PhaseResult {
      if (ctx.upstream) return CONTINUE; // an earlier route (forward proxy) already chose
      const target = parseRequestTarget(ctx.request.target, ctx.request.method);
      if (target.kind !== 'origin') {
        const why = target.kind === 'invalid' ? target.reason : `${target.kind}-form request-target needs --forward`;
        return { kind: 'respond', reply: { status: 400, body: `Bad Request: ${why}\n`, close: true } };
      }
      if (targets.length === 0) return CONTINUE;
      const t = targets[next]!;
      next = (next + 1) % targets.length;
      ctx.upstream = { origin: t.origin, path: t.prefix + target.path };
      return CONTINUE;
    },
  };
}
