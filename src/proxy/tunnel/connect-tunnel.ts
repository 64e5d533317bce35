/**
 * @module CONNECT tunnels (RFC 9110 §9.3.6): check the target (authority-form, proxy auth, allowed port, deny list
 * after DNS), connect directly or through --upstream-proxy, answer 200, then relay raw bytes both ways with
 * backpressure (pipe), half-close (a FIN from one side ends only that direction), an idle timeout over both
 * directions, and resets passed on as resets (tunnel/relay.ts). A refused CONNECT never opens a connection to the target.
 */
import http, { type IncomingMessage } from 'node:http';
import net, { type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { FerryError } from '../../errors.ts';
import { checkRequestFraming } from '../../http/framing.ts';
import { fromRawHeaders, getHeader } from '../../http/headers.ts';
import { logAccess } from '../../server/access-log.ts';
import type { Logger } from '../../server/logger.ts';
import { decideProxyAuth, PROXY_AUTHENTICATE, type CredentialChecker } from '../forward/basic-auth.ts';
import type { DenyList } from '../forward/cidr.ts';
import { checkDestination, systemResolver, type Resolver } from '../forward/destination.ts';
import { formatAuthority, parseAuthorityTarget, type Authority } from '../forward/request-target.ts';
import { openProxyTunnel } from '../upstream-proxy.ts';
import { relaySockets } from './relay.ts';
import type { TunnelStats } from './tunnel-stats.ts';

export interface ConnectTunnelOptions {
  connectPorts: readonly number[];
  auth: CredentialChecker;
  deny: DenyList;
  connectTimeoutMs: number;
  /** No byte in either direction for this long closes the tunnel. 0 disables. */
  idleTimeoutMs: number;
  upstreamProxy: URL | null;
  stats: TunnelStats;
  log: Logger;
  resolve?: Resolver;
}

export interface ConnectTunnels {
  /** The node:http server's 'connect' listener. */
  onConnect(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Cut every open tunnel (shutdown). */
  destroyAll(): void;
  /** Open tunnels and tunnels being set up. */
  readonly size: number;
}

type Refusal = { status: number; reason: string; headers?: string[] };

function writeRefusal(socket: Duplex, r: Refusal): void {
  if (!socket.writable) { socket.destroy(); return; }
  const body = `${r.reason}\n`;
  const lines = [
    `HTTP/1.1 ${r.status} ${http.STATUS_CODES[r.status] ?? 'Error'}`,
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...(r.headers ?? []),
  ];
  // Close fully once the answer is flushed: a client that never reads must not hold a half-open socket forever.
  socket.once('finish', () => socket.destroy());
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

export function createConnectTunnels(options: ConnectTunnelOptions): ConnectTunnels {
  const live = new Set<Duplex>();
  const resolve = options.resolve ?? systemResolver;
  const allowedPorts = new Set(options.connectPorts);

  function check(req: IncomingMessage): Refusal | Authority {
    const target = parseAuthorityTarget(req.url ?? '');
    if (target.kind === 'invalid') return { status: 400, reason: `bad CONNECT target: ${target.reason}` };
    // Same head checks as other requests: a second Proxy-Authorization (Node keeps only the first) is refused.
    const headers = fromRawHeaders(req.rawHeaders);
    const framing = checkRequestFraming(req.httpVersion, headers);
    if (framing.kind === 'reject') return { status: framing.status, reason: framing.reason };
    const auth = decideProxyAuth(getHeader(headers, 'proxy-authorization'), options.auth);
    if (auth.kind === 'challenge') return { status: 407, reason: 'proxy authentication required', headers: [`Proxy-Authenticate: ${PROXY_AUTHENTICATE}`] };
    if (!allowedPorts.has(target.authority.port)) return { status: 403, reason: `CONNECT to port ${target.authority.port} is not allowed (--connect-ports)` };
    return target.authority;
  }

  async function open(target: Authority, signal: AbortSignal): Promise<Socket> {
    const check = options.deny.cidrs.length === 0 ? null : await checkDestination(target.host, options.deny, resolve);
    if (check?.kind === 'deny') throw new FerryError('FERRY_ERR_FORWARD_DENIED', `${target.host} (${check.address}) is in denied range ${check.cidr}`, { source: 'downstream', status: 403 });
    if (options.upstreamProxy) {
      // A name our resolver cannot see is left to the upstream proxy (that is often why it exists).
      const s = await openProxyTunnel(options.upstreamProxy, target, { timeoutMs: options.connectTimeoutMs, signal });
      s.allowHalfOpen = true;
      return s;
    }
    if (check?.kind === 'unresolved') throw new FerryError('FERRY_ERR_UPSTREAM_DNS', `cannot resolve ${target.host}: ${check.reason}`, { source: 'upstream', status: 502 });
    // Connect to the address we checked, not the name again (no second, different answer from DNS).
    const host = check?.kind === 'allow' ? check.addresses[0]!.address : target.host;
    return new Promise((ok, fail) => {
      const s = net.connect({ host, port: target.port, allowHalfOpen: true, timeout: options.connectTimeoutMs, signal });
      const onError = (err: NodeJS.ErrnoException) => fail(new FerryError('FERRY_ERR_UPSTREAM_CONNECT', `cannot connect to ${formatAuthority(target)}: ${err.code ?? err.message}`, { source: 'upstream', status: 502, cause: err }));
      s.once('error', onError);
      s.once('timeout', () => { s.destroy(); fail(new FerryError('FERRY_ERR_UPSTREAM_TIMEOUT', `no connection to ${formatAuthority(target)} within ${options.connectTimeoutMs} ms`, { source: 'upstream', status: 504 })); });
      s.once('connect', () => { s.off('error', onError); s.setTimeout(0); ok(s); });
    });
  }

  function onConnect(req: IncomingMessage, client: Duplex, head: Buffer): void {
    const id = randomUUID();
    const startedMono = performance.now();
    const clientAddress = req.socket.remoteAddress ?? '';
    const record = { requestId: id, method: 'CONNECT', path: req.url ?? '', clientAddress };
    live.add(client);
    client.on('error', () => { /* reported through 'close'; never crash on a client reset */ });
    const refuse = (r: Refusal, error?: string) => {
      options.stats.refused++;
      live.delete(client);
      writeRefusal(client, r);
      logAccess(options.log, { ...record, status: r.status, bytesIn: 0, bytesOut: 0, durationMs: Math.round((performance.now() - startedMono) * 1000) / 1000, reason: r.reason, ...(error ? { error } : {}) });
    };
    const target = check(req);
    if ('status' in target) { refuse(target); return; }

    const abort = new AbortController();
    const onEarlyClose = () => abort.abort();
    client.once('close', onEarlyClose);
    open(target, abort.signal).then((upstream) => {
      client.off('close', onEarlyClose);
      if (client.destroyed || !client.writable) { upstream.destroy(); live.delete(client); return; }
      relay(client, upstream, head, target);
    }, (err: unknown) => {
      client.off('close', onEarlyClose);
      const fe = err instanceof FerryError ? err : new FerryError('FERRY_ERR_UPSTREAM_CONNECT', String(err), { source: 'upstream', status: 502, cause: err });
      if (abort.signal.aborted) { live.delete(client); return; }
      options.log.info({ event: 'connect-failed', requestId: id, target: req.url, code: fe.code, reason: fe.message }, 'CONNECT failed');
      refuse({ status: fe.status ?? 502, reason: fe.message }, fe.status === 403 ? undefined : fe.code);
    });

    function relay(c: Duplex, u: Socket, early: Buffer, to: Authority): void {
      live.add(u);
      c.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      const earlyBytes = early.length;
      if (earlyBytes > 0) { options.stats.bytesIn += earlyBytes; u.write(early); }
      relaySockets(c, u, {
        idleTimeoutMs: options.idleTimeoutMs,
        stats: options.stats,
        onDone({ bytesIn, bytesOut, error }) {
          live.delete(c);
          live.delete(u);
          logAccess(options.log, { ...record, status: 200, bytesIn: bytesIn + earlyBytes, bytesOut, durationMs: Math.round((performance.now() - startedMono) * 1000) / 1000, target: formatAuthority(to), ...(error !== undefined ? { error } : {}) });
        },
      });
    }
  }

  return {
    onConnect,
    destroyAll() { for (const s of live) s.destroy(); live.clear(); },
    get size() { return live.size; },
  };
}
