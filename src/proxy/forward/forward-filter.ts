/**
 * @module The forward-proxy route: absolute-form requests (RFC 9112 §3.2.2) go to their own target. Order inside
 * the phase: parse → proxy auth (407, before any DNS work is done for an unauthenticated client) → deny list after
 * DNS (403) → ctx.upstream. Origin-form requests pass untouched to the reverse route.
 */
import { getAllHeaders, getHeader, withHeader } from '../../http/headers.ts';
import type { RequestContext } from '../context.ts';
import type { ForwardOptions } from '../options.ts';
import { CONTINUE, type PhaseResult, type ProxyFilter } from '../phases.ts';
import { createCredentialChecker, decideProxyAuth, PROXY_AUTHENTICATE } from './basic-auth.ts';
import { createDenyList, parseCidr, type Cidr, type DenyList } from './cidr.ts';
import { checkDestination, systemResolver, type Resolver } from './destination.ts';
import { formatAuthority, parseAbsoluteTarget } from './request-target.ts';
import { proxyFor, type UpstreamProxySetting } from '../env-proxy.ts';

export interface ForwardFilterOptions {
  forward: ForwardOptions;
  /** With an upstream proxy, names our resolver cannot see are left to it. */
  upstreamProxy: UpstreamProxySetting;
  resolve?: Resolver;
}

/** More Via entries than this on an absolute-form request means it is going round in circles (e.g. to ferry itself). */
export const MAX_VIA_HOPS = 16;

/** Number of intermediaries listed in Via (RFC 9110 §7.6.3: a comma-separated list, possibly over several lines). */
export function countViaHops(values: readonly string[]): number {
  return values.reduce((n, v) => n + v.split(',').filter((e) => e.trim() !== '').length, 0);
}

export function createDenyListFromOptions(forward: ForwardOptions): DenyList {
  return createDenyList(forward.deny.map((d) => {
    const r = parseCidr(d);
    if (r.kind === 'invalid') throw new Error(r.reason); // resolveForwardOptions validated them already
    return r.cidr;
  }) as Cidr[]);
}

export function createForwardFilter(options: ForwardFilterOptions): ProxyFilter {
  const checker = createCredentialChecker(options.forward.credentials);
  const deny = createDenyListFromOptions(options.forward);
  const resolve = options.resolve ?? systemResolver;
  return {
    name: 'forward-route',
    async route(ctx: RequestContext): Promise<PhaseResult> {
      const target = parseAbsoluteTarget(ctx.request.target);
      if (target.kind === 'not-absolute') return CONTINUE;
      if (target.kind === 'invalid') return { kind: 'respond', reply: { status: 400, body: `Bad Request: ${target.reason}\n`, close: true } };
      const auth = decideProxyAuth(getHeader(ctx.request.headers, 'proxy-authorization'), checker);
      if (auth.kind === 'challenge') {
        ctx.log.debug({ event: 'proxy-auth', requestId: ctx.id, reason: auth.reason }, 'proxy authentication required');
        return { kind: 'respond', reply: { status: 407, headers: [['proxy-authenticate', PROXY_AUTHENTICATE], ['content-type', 'text/plain; charset=utf-8']], body: 'Proxy Authentication Required\n' } };
      }
      // RFC 9110 §7.6.3: Via exists to detect forwarding loops; an absolute-form request aimed at ferry itself would
      // otherwise open connections to itself until it runs out of them.
      if (countViaHops(getAllHeaders(ctx.request.headers, 'via')) >= MAX_VIA_HOPS) {
        return { kind: 'respond', reply: { status: 508, headers: [['content-type', 'text/plain; charset=utf-8']], body: 'Loop Detected: too many proxies in Via\n' } };
      }
      let origin = target.origin;
      if (deny.cidrs.length > 0) {
        const check = await checkDestination(target.authority.host, deny, resolve);
        if (check.kind === 'deny') {
          return { kind: 'respond', reply: { status: 403, headers: [['content-type', 'text/plain; charset=utf-8']], body: `Forbidden: ${target.authority.host} is in a denied range (${check.cidr})\n` } };
        }
        const direct = proxyFor(options.upstreamProxy, `${target.scheme}:`, target.authority.host, target.authority.port) === null;
        if (check.kind === 'unresolved' && direct) {
          return { kind: 'respond', reply: { status: 502, headers: [['content-type', 'text/plain; charset=utf-8']], body: `Bad Gateway: cannot resolve ${target.authority.host} (${check.reason})\n` } };
        }
        // Pin plain-http connections to the address just checked, so a second DNS answer (rebinding) cannot steer the
        // connection into a denied range. https keeps the name (TLS needs it for SNI and the certificate check), and so
        // does a name with several addresses, so that a refused one falls over to the next (docs/reliability.md O5):
        // its sockets resolve through the guarded lookup, which checks every address again (no rebinding either).
        if (check.kind === 'allow' && check.addresses.length === 1 && target.scheme === 'http' && direct) {
          origin = `http://${formatAuthority({ host: check.addresses[0]!.address, port: target.authority.port })}`;
        }
      }
      ctx.upstream = { origin, path: target.path };
      // RFC 9112 §3.2.2: a proxy MUST ignore the received Host and replace it with the target's authority.
      ctx.request = { ...ctx.request, headers: withHeader(ctx.request.headers, 'host', target.hostHeader) };
      return CONTINUE;
    },
  };
}
