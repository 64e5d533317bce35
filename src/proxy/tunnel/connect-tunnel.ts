/**
 * @module CONNECT tunnels (RFC 9110 §9.3.6), through the pipeline's phases like every request (proxy/raw-entry.ts):
 * the route filter checks the target (authority-form, proxy auth, allowed port) and sets `ctx.upstream`; user filters
 * run after it; the body checks the deny list after DNS, connects directly or through --upstream-proxy, answers 200,
 * then relays raw bytes both ways with backpressure (pipe), half-close (a FIN from one side ends only that
 * direction), an idle timeout over both directions, and resets passed on as resets (tunnel/relay.ts). A refused
 * CONNECT never opens a connection to the target; the access line and stats come from the logging phase.
 */
import type { IncomingMessage } from 'node:http';
import net, { type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { FerryError } from '../../errors.ts';
import { getHeader, type HeaderList } from '../../http/headers.ts';
import type { Logger } from '../../server/logger.ts';
import type { RequestContext } from '../context.ts';
import { createAccessLogFilter } from '../filters/access-log.ts';
import { CONTINUE, type PhaseResult, type ProxyFilter } from '../phases.ts';
import { createPipeline } from '../pipeline.ts';
import type { RawBody, RawBodyStart } from '../raw-entry.ts';
import { CLIENT_GONE } from '../run-state.ts';
import { decideProxyAuth, PROXY_AUTHENTICATE, type CredentialChecker } from '../forward/basic-auth.ts';
import { createDenyList, type DenyList } from '../forward/cidr.ts';
import { checkDestination, createGuardedLookup, fixedLookup, systemResolver, type Resolver } from '../forward/destination.ts';
import { formatAuthority, parseAuthorityTarget, type Authority } from '../forward/request-target.ts';
import { openProxyTunnel } from '../upstream-proxy.ts';
import { proxyFor, type UpstreamProxySetting } from '../env-proxy.ts';
import { relaySockets } from './relay.ts';
import type { TunnelStats } from './tunnel-stats.ts';

export interface ConnectTunnelOptions {
  connectPorts: readonly number[];
  auth: CredentialChecker;
  deny: DenyList;
  connectTimeoutMs: number;
  /** No byte in either direction for this long closes the tunnel. 0 disables. */
  idleTimeoutMs: number;
  /** `env`: a tunnel takes HTTPS_PROXY (its bytes are usually TLS), unless NO_PROXY names the target. */
  upstreamProxy: UpstreamProxySetting;
  stats: TunnelStats;
  log: Logger;
  resolve?: Resolver;
}

export interface ConnectBody extends RawBody {
  /** Cut every open tunnel (shutdown). */
  destroyAll(): void;
  /** Open tunnels and tunnels being set up. */
  readonly size: number;
}

/** A refusal with the fields (Title-Case, in this order) CONNECT refusals always had. */
function refusal(status: number, reason: string, extra: HeaderList = []): PhaseResult {
  const body = `${reason}\n`;
  const headers: HeaderList = [
    ['Content-Type', 'text/plain; charset=utf-8'], ['Content-Length', String(Buffer.byteLength(body))], ['Connection', 'close'], ...extra,
  ];
  return { kind: 'respond', reply: { status, headers, body, close: true } };
}

/** route, CONNECT only: target, proxy auth (407), allowed port (403); then `ctx.upstream` is `tcp://host:port`. */
export function createConnectFilter(options: Pick<ConnectTunnelOptions, 'connectPorts' | 'auth'>): ProxyFilter {
  const allowedPorts = new Set(options.connectPorts);
  return {
    name: 'connect-route',
    route(ctx: RequestContext): PhaseResult {
      if (ctx.request.method !== 'CONNECT') return CONTINUE;
      const target = parseAuthorityTarget(ctx.request.target);
      if (target.kind === 'invalid') return refusal(400, `bad CONNECT target: ${target.reason}`);
      // a second Proxy-Authorization (Node keeps only the first) was refused by the accept step already
      const auth = decideProxyAuth(getHeader(ctx.request.headers, 'proxy-authorization'), options.auth);
      if (auth.kind === 'challenge') return refusal(407, 'proxy authentication required', [['Proxy-Authenticate', PROXY_AUTHENTICATE]]);
      if (!allowedPorts.has(target.authority.port)) return refusal(403, `CONNECT to port ${target.authority.port} is not allowed (--connect-ports)`);
      const authority = formatAuthority(target.authority);
      ctx.upstream = { origin: `tcp://${authority}`, path: authority };
      return CONTINUE;
    },
  };
}

export function createConnectBody(options: ConnectTunnelOptions): ConnectBody {
  const live = new Set<Duplex>();
  const resolve = options.resolve ?? systemResolver;

  async function open(target: Authority, signal: AbortSignal): Promise<Socket> {
    const check = options.deny.cidrs.length === 0 ? null : await checkDestination(target.host, options.deny, resolve);
    if (check?.kind === 'deny') throw new FerryError('FERRY_ERR_FORWARD_DENIED', `${target.host} (${check.address}) is in denied range ${check.cidr}`, { source: 'downstream', status: 403 });
    const proxy = proxyFor(options.upstreamProxy, 'https:', target.host, target.port);
    if (proxy !== null) {
      // A name our resolver cannot see is left to the upstream proxy (that is often why it exists).
      const s = await openProxyTunnel(proxy, target, { timeoutMs: options.connectTimeoutMs, signal });
      s.allowHalfOpen = true;
      return s;
    }
    if (check?.kind === 'unresolved') throw new FerryError('FERRY_ERR_UPSTREAM_DNS', `cannot resolve ${target.host}: ${check.reason}`, { source: 'upstream', status: 502 });
    // Connect to the addresses we checked, not the name again (no second, different answer from DNS); all of them,
    // in order, so a refused first address falls over to the next (docs/reliability.md "DNS").
    const lookup = check?.kind === 'allow' ? fixedLookup(check.addresses) : options.resolve ? createGuardedLookup(createDenyList([]), options.resolve) : undefined;
    return new Promise((ok, fail) => {
      const s = net.connect({ host: target.host, port: target.port, allowHalfOpen: true, timeout: options.connectTimeoutMs, signal, ...(lookup ? { lookup } : {}) });
      const onError = (err: NodeJS.ErrnoException) => fail(new FerryError('FERRY_ERR_UPSTREAM_CONNECT', `cannot connect to ${formatAuthority(target)}: ${err.code ?? err.message}`, { source: 'upstream', status: 502, cause: err }));
      s.once('error', onError);
      s.once('timeout', () => { s.destroy(); fail(new FerryError('FERRY_ERR_UPSTREAM_TIMEOUT', `no connection to ${formatAuthority(target)} within ${options.connectTimeoutMs} ms`, { source: 'upstream', status: 504 })); });
      s.once('connect', () => { s.off('error', onError); s.setTimeout(0); ok(s); });
    });
  }

  async function start(s: RawBodyStart): Promise<void> {
    const { ctx, client } = s;
    live.add(client);
    client.once('close', () => live.delete(client));
    const chosen = ctx.upstream === undefined ? null : parseAuthorityTarget(ctx.upstream.path);
    if (chosen === null || chosen.kind !== 'authority') throw new FerryError('FERRY_ERR_NO_ROUTE', 'no target for this CONNECT', { source: 'downstream', status: 400 });
    const upstream = await open(chosen.authority, s.signal);
    if (client.destroyed || !client.writable) {
      upstream.destroy();
      ctx.error ??= CLIENT_GONE();
      s.done();
      return;
    }
    s.tookOver();
    live.add(upstream);
    ctx.status = 200;
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    const earlyBytes = s.early.length;
    if (earlyBytes > 0) { options.stats.bytesIn += earlyBytes; upstream.write(s.early); }
    relaySockets(client, upstream, {
      idleTimeoutMs: options.idleTimeoutMs,
      stats: options.stats,
      onDone({ bytesIn, bytesOut, error }) {
        live.delete(client);
        live.delete(upstream);
        ctx.bytesIn = bytesIn + earlyBytes;
        ctx.bytesOut = bytesOut;
        if (error !== undefined) ctx.error ??= new FerryError('FERRY_ERR_UPSTREAM_CLOSED', error, { source: 'upstream' });
        s.done();
      },
    });
  }

  return {
    kind: 'connect',
    start,
    onRefused() { options.stats.refused++; },
    destroyAll() { for (const s of live) s.destroy(); live.clear(); },
    get size() { return live.size; },
  };
}

export interface ConnectTunnels {
  /** The node:http server's 'connect' listener. */
  onConnect(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Cut every open tunnel (shutdown). */
  destroyAll(): void;
  /** Open tunnels and tunnels being set up. */
  readonly size: number;
}

/** CONNECT alone, for a server of the embedder's: the pipeline with only the CONNECT route and the access log. */
export function createConnectTunnels(options: ConnectTunnelOptions): ConnectTunnels {
  const body = createConnectBody(options);
  const pipeline = createPipeline({
    filters: [createConnectFilter(options), createAccessLogFilter()], client: null, log: options.log, maxBodyBytes: null,
    maxHeadersCount: Number.MAX_SAFE_INTEGER, onBodyBytes: null, upgradeBody: null, connectBody: body,
  });
  return { onConnect: pipeline.connect, destroyAll: body.destroyAll, get size() { return body.size; } };
}
