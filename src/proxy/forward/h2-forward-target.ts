/**
 * @module The forward-proxy target of an HTTP/2 request: a client using ferry as its proxy over h2 sends `GET` with
 * `:scheme http` and `:authority example.com` (RFC 9113 §8.3.1 — h2 has no absolute-form), so in forward mode this
 * route filter, placed first, rewrites such a request to the absolute-form target `scheme://authority/path` when the
 * authority is not ferry itself; the forward route (auth, deny list, loop check) then applies as to an HTTP/1.1
 * absolute-form request, and the local endpoints (/stats, JWKS) answer only requests aimed at ferry.
 *
 * "Ferry itself" (docs/http2.md): the authority's host is the name the client reached ferry by (its TLS SNI), or its
 * host is one of the listener's names — its local address, `localhost` on a loopback listener, a DNS name of the TLS
 * certificate served — and its port (the scheme's default when absent) is the listener's port.
 */
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { sessionLocalEnd } from '../../server/h2-server.ts';
import { certificateNames, wildcardMatches } from '../../server/sni.ts';
import type { RequestContext } from '../context.ts';
import { isH2Request } from '../h2-entry.ts';
import { CONTINUE, type PhaseResult, type ProxyFilter } from '../phases.ts';
import { parseAbsoluteTarget } from './request-target.ts';

/** What identifies the listener a connection came in on. */
export interface SelfNames {
  /** The server name the client sent in TLS SNI, lowercased (null on cleartext or without SNI). */
  sni: string | null;
  /** Local address, `localhost` on loopback, the certificate's DNS names (wildcards allowed), lowercased. */
  names: readonly string[];
  port: number | undefined;
}

/**
 * The absolute-form target for an h2 request, or null when it stays origin-form (aimed at ferry). Pure.
 * `path` is the request's origin-form target.
 */
export function h2ForwardTarget(scheme: string, authority: string, path: string, self: SelfNames): string | null {
  const target = `${scheme.toLowerCase()}://${authority}${path}`;
  const parsed = parseAbsoluteTarget(target);
  // an unusable scheme or authority is left to the forward route, which answers 400 as for HTTP/1.1
  if (parsed.kind !== 'absolute') return parsed.kind === 'invalid' ? target : null;
  const host = parsed.authority.host.replace(/\.$/, '');
  if (self.sni !== null && host === self.sni) return null;
  const named = self.names.some((n) => n === host || wildcardMatches(n, host));
  if (named && parsed.authority.port === self.port) return null;
  return target;
}

const LOOPBACK = /^(?:127\.|::1$|::ffff:127\.)/;

/** The listener's names for this connection, computed once per HTTP/2 session. */
function selfNamesOf(req: Http2ServerRequest): SelfNames {
  const session = req.stream.session;
  if (session === undefined) return { sni: null, names: [], port: undefined };
  let names = CACHE.get(session);
  if (names !== undefined) return names;
  const socket = session.socket as TLSSocket;
  const end = sessionLocalEnd(session);
  const local = end.address.toLowerCase().replace(/^::ffff:(?=\d)/, '');
  const list = [local, ...(LOOPBACK.test(local) ? ['localhost', '127.0.0.1', '::1'] : [])];
  const sni = typeof socket.servername === 'string' && socket.servername !== '' ? socket.servername.toLowerCase().replace(/\.$/, '') : null;
  if (typeof socket.getX509Certificate === 'function') {
    const cert = socket.getX509Certificate();
    if (cert !== undefined) list.push(...certificateNames(cert.toString()));
  }
  names = { sni, names: list.filter((n) => n !== ''), port: end.port };
  CACHE.set(session, names);
  return names;
}
const CACHE = new WeakMap<object, SelfNames>();

export function createH2ForwardTargetFilter(): ProxyFilter {
  return {
    name: 'h2-forward-target',
    route(ctx: RequestContext): PhaseResult {
      // only ordinary h2 requests: CONNECT and extended CONNECT have their own routes (no ServerResponse for them)
      if (ctx.res === null || !isH2Request(ctx.req) || !ctx.request.target.startsWith('/')) return CONTINUE;
      const h2 = ctx.req as unknown as Http2ServerRequest;
      const scheme = h2.headers[':scheme'];
      const authority = h2.headers[':authority'] ?? hostOf(ctx.req);
      if (typeof scheme !== 'string' || typeof authority !== 'string' || authority === '') return CONTINUE;
      const target = h2ForwardTarget(scheme, authority, ctx.request.target, selfNamesOf(h2));
      if (target !== null) ctx.request = { ...ctx.request, target };
      return CONTINUE;
    },
  };
}

function hostOf(req: IncomingMessage): string | undefined {
  const h = req.headers.host;
  return typeof h === 'string' ? h : undefined;
}
