/**
 * @module The body of an upgraded request (RFC 9110 §7.8; WebSocket is RFC 6455), reverse and forward modes alike.
 * The request runs the pipeline's phases like any other (proxy/raw-entry.ts: so forward auth, deny lists, user
 * filters, Via, X-Forwarded-* and the JWT apply, and the access line comes from the logging phase); this body then
 * puts `Connection: upgrade` and `Upgrade` back, because a proxy that relays an upgrade must forward them (the
 * hop-by-hop filter removes them from everything else). The upstream's 101 is relayed and the two sockets are piped
 * (tunnel/relay.ts); any other answer is passed back and the connection closed.
 */
import type { UpstreamTls } from './upstream-tls.ts';
import type { IncomingMessage, ClientRequest, OutgoingHttpHeaders } from 'node:http';
import { http } from '../http/node-http.ts';
import { loadHttps, loadTls } from '../http/lazy-builtins.ts';
import { isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { FerryError } from '../errors.ts';
import { fromRawHeaders, getJoinedHeader, toFlatHeaders, withHeader, withoutHeaders, type HeaderList } from '../http/headers.ts';
import { HOP_BY_HOP_HEADERS } from '../http/hop-by-hop.ts';
import { addVia } from '../http/via.ts';
import type { RequestHead } from './phases.ts';
import type { RawBody, RawBodyStart } from './raw-entry.ts';
import { relaySockets } from './tunnel/relay.ts';
import type { TunnelStats } from './tunnel/tunnel-stats.ts';
import { openProxyTunnel } from './upstream-proxy.ts';
import { proxyFor, type UpstreamProxySetting } from './env-proxy.ts';
import type { GuardedLookup } from './forward/destination.ts';

export interface UpgradeOptions {
  upstreamProxy: UpstreamProxySetting;
  connectTimeoutMs: number;
  /** Time allowed for the upstream's answer to the upgrade request. */
  upstreamTimeoutMs: number;
  idleTimeoutMs: number;
  viaName: string;
  stats: TunnelStats;
  /** DNS for the upstream socket (forward mode with --deny: the guarded lookup). */
  lookup?: GuardedLookup;
  /** Outgoing TLS for wss/https upgrades (proxy/upstream-tls.ts). */
  tls?: UpstreamTls;
}

export interface UpgradeBody extends RawBody {
  destroyAll(): void;
}

function formatHead(statusLine: string, headers: HeaderList): string {
  return `${statusLine}\r\n${headers.map(([n, v]) => `${n}: ${v}`).join('\r\n')}\r\n\r\n`;
}

export function createUpgradeBody(options: UpgradeOptions): UpgradeBody {
  const live = new Set<Duplex>();

  async function start(s: RawBodyStart): Promise<void> {
    const { ctx, client } = s;
    live.add(client);
    client.once('close', () => live.delete(client));
    const target = ctx.upstream;
    if (!target) throw new FerryError('FERRY_ERR_NO_ROUTE', 'Bad Gateway: no upstream for this upgrade', { source: 'downstream', status: 502 });
    // Put back what the hop-by-hop filter removed: the relayed upgrade needs both fields (RFC 9110 §7.8).
    const upgrade = getJoinedHeader(ctx.request.headers, 'upgrade') ?? '';
    const headers = withHeader(withHeader(s.head.headers, 'connection', 'upgrade'), 'upgrade', upgrade);
    const req = await openUpgradeRequest(options, target.origin, target.path, { ...s.head, headers }, s.signal);
    await new Promise<void>((resolve, reject) => {
      req.on('timeout', () => req.destroy(new FerryError('FERRY_ERR_UPSTREAM_TIMEOUT', 'no answer to the upgrade in time', { source: 'upstream', status: 504 })));
      req.on('error', (err: Error) => {
        if (s.signal.aborted) { reject(err); return; }
        reject(err instanceof FerryError ? err : new FerryError('FERRY_ERR_UPSTREAM_CONNECT', `Bad Gateway: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { source: 'upstream', status: 502, cause: err }));
      });
      req.on('upgrade', (res: IncomingMessage, upstream: Socket, upstreamHead: Buffer) => {
        req.setTimeout(0);
        upstream.setTimeout(0);
        relayUpgrade(s, res, upstream, upstreamHead);
        resolve();
      });
      req.on('response', (res: IncomingMessage) => { passDeclined(s, res); resolve(); });
      req.end();
    });
  }

  /** The upstream switched: relay its 101, then pipe the two sockets. */
  function relayUpgrade(s: RawBodyStart, res: IncomingMessage, upstream: Socket, upstreamHead: Buffer): void {
    const { ctx, client } = s;
    if (client.destroyed) { upstream.destroy(); return; }
    s.tookOver();
    live.add(upstream);
    // The 101 keeps Connection/Upgrade (they describe this very switch); Via is added like on any response.
    const rheaders = addVia(fromRawHeaders(res.rawHeaders), res.httpVersion, options.viaName);
    ctx.status = 101;
    client.write(formatHead(`HTTP/1.1 101 ${res.statusMessage || 'Switching Protocols'}`, rheaders));
    if (upstreamHead.length > 0) { client.write(upstreamHead); ctx.bytesOut += upstreamHead.length; }
    if (s.early.length > 0) { upstream.write(s.early); ctx.bytesIn += s.early.length; }
    relaySockets(client, upstream, {
      idleTimeoutMs: options.idleTimeoutMs,
      stats: options.stats,
      onDone({ bytesIn, bytesOut, error }) {
        live.delete(upstream);
        ctx.bytesIn += bytesIn;
        ctx.bytesOut += bytesOut;
        if (error !== undefined) ctx.error ??= new FerryError('FERRY_ERR_UPGRADE', error, { source: 'upstream' });
        s.done();
      },
    });
  }

  /** The upstream declined the upgrade: pass its answer on, then close (the client expected a switch). */
  function passDeclined(s: RawBodyStart, res: IncomingMessage): void {
    const { ctx, client } = s;
    s.tookOver();
    const status = res.statusCode ?? 502;
    ctx.status = status;
    const rheaders = addVia(withoutHeaders(fromRawHeaders(res.rawHeaders), HOP_BY_HOP_HEADERS), res.httpVersion, options.viaName);
    client.write(formatHead(`HTTP/1.1 ${status} ${res.statusMessage ?? ''}`, [...rheaders, ['connection', 'close']]));
    res.on('data', (b: Buffer) => { ctx.bytesOut += b.length; });
    res.pipe(client);
    res.once('end', () => s.done());
    res.once('error', () => client.destroy());
    client.once('close', () => s.done());
  }

  return {
    kind: 'upgrade',
    start,
    destroyAll() { for (const s of live) s.destroy(); live.clear(); },
  };
}

/** Open the upgrade request upstream: directly, or over a CONNECT tunnel through --upstream-proxy. */
async function openUpgradeRequest(options: UpgradeOptions, origin: string, path: string, head: RequestHead, signal: AbortSignal): Promise<ClientRequest> {
  const url = new URL(origin);
  const secure = url.protocol === 'https:';
  const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const proxy = proxyFor(options.upstreamProxy, url.protocol, host, port);
  const tunnel = proxy !== null ? await openProxyTunnel(proxy, { host, port }, { timeoutMs: options.connectTimeoutMs, signal }) : undefined;
  const request = secure ? loadHttps().request : http.request;
  return request({
    host, port, method: head.method, path, setHost: false, signal,
    headers: toFlatHeaders(head.headers) as unknown as OutgoingHttpHeaders,
    // Through --upstream-proxy: the request goes over the CONNECT tunnel (TLS inside it for https origins).
    // (agent: false would make Node ignore createConnection and connect directly.)
    ...(tunnel ? { createConnection: () => (secure ? loadTls().connect({ socket: tunnel, ...(isIP(host) === 0 ? { servername: host } : {}), ...options.tls }) : tunnel) } : { agent: false }),
    ...(secure ? options.tls : {}),
    ...(options.lookup ? { lookup: options.lookup } : {}),
    timeout: options.upstreamTimeoutMs,
  });
}
