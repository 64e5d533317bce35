/**
 * @module Upgrade passthrough (RFC 9110 §7.8; WebSocket is RFC 6455), reverse and forward modes alike. The request
 * runs the same route / requestFilter / upstreamRequestFilter phases as any other (so forward auth, deny lists, Via,
 * X-Forwarded-* and the JWT apply), then `Connection: upgrade` and `Upgrade` are put back, because a proxy that
 * relays an upgrade must forward them (the hop-by-hop filter removes them from everything else). The upstream's 101
 * is relayed and the two sockets are piped (tunnel/relay.ts); any other answer is passed back and the connection
 * closed.
 */
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import { isIP, type Socket } from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { FerryError } from '../errors.ts';
import { checkRequestFraming } from '../http/framing.ts';
import { normalizeAddress } from '../http/forwarded.ts';
import { fromRawHeaders, getJoinedHeader, toFlatHeaders, withHeader, withoutHeaders, type HeaderList } from '../http/headers.ts';
import { HOP_BY_HOP_HEADERS } from '../http/hop-by-hop.ts';
import { addVia } from '../http/via.ts';
import { logAccess } from '../server/access-log.ts';
import type { Logger } from '../server/logger.ts';
import type { RequestContext } from './context.ts';
import type { LocalReply, ProxyFilter, RequestHead } from './phases.ts';
import { relaySockets } from './tunnel/relay.ts';
import type { TunnelStats } from './tunnel/tunnel-stats.ts';
import { openProxyTunnel } from './upstream-proxy.ts';
import type { GuardedLookup } from './forward/destination.ts';

export interface UpgradeOptions {
  /** The proxy's filter list (known once createProxy is ready). */
  filters(): readonly ProxyFilter[];
  log: Logger;
  upstreamProxy: URL | null;
  connectTimeoutMs: number;
  /** Time allowed for the upstream's answer to the upgrade request. */
  upstreamTimeoutMs: number;
  idleTimeoutMs: number;
  viaName: string;
  stats: TunnelStats;
  /** DNS for the upstream socket (forward mode with --deny: the guarded lookup). */
  lookup?: GuardedLookup;
}

export interface UpgradeRelays {
  onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  destroyAll(): void;
}

function writeRaw(socket: Duplex, status: number, headers: HeaderList, body: string): void {
  if (!socket.writable) { socket.destroy(); return; }
  const lines = [`HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}`];
  for (const [n, v] of headers) lines.push(`${n}: ${v}`);
  lines.push(`content-length: ${Buffer.byteLength(body)}`, 'connection: close');
  socket.once('finish', () => socket.destroy());
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

function formatHead(statusLine: string, headers: HeaderList): string {
  return `${statusLine}\r\n${headers.map(([n, v]) => `${n}: ${v}`).join('\r\n')}\r\n\r\n`;
}

export function createUpgradeRelays(options: UpgradeOptions): UpgradeRelays {
  const live = new Set<Duplex>();

  async function runPhases(ctx: RequestContext): Promise<LocalReply | RequestHead> {
    const filters = options.filters();
    for (const f of filters) {
      if (!f.route) continue;
      const r = await f.route(ctx);
      if (r.kind === 'respond') return r.reply;
    }
    for (const f of filters) {
      if (!f.requestFilter) continue;
      const r = await f.requestFilter(ctx);
      if (r.kind === 'respond') return r.reply;
    }
    let head = ctx.request;
    for (const f of filters) if (f.upstreamRequestFilter) head = await f.upstreamRequestFilter(head, ctx);
    return head;
  }

  function onUpgrade(req: IncomingMessage, client: Duplex, clientHead: Buffer): void {
    client.on('error', () => { /* handled by the relay or by 'close' */ });
    live.add(client);
    client.once('close', () => live.delete(client));
    const headers = fromRawHeaders(req.rawHeaders);
    const upgrade = getJoinedHeader(headers, 'upgrade') ?? '';
    const ctx: RequestContext = {
      id: randomUUID(),
      startedAt: Date.now(),
      startedMono: performance.now(),
      log: options.log,
      request: { method: req.method ?? 'GET', target: req.url ?? '/', httpVersion: req.httpVersion, headers },
      clientAddress: normalizeAddress(req.socket.remoteAddress ?? ''),
      secure: false,
      bytesIn: 0,
      bytesOut: 0,
      locals: new Map(),
      req,
      res: undefined as unknown as ServerResponse, // no ServerResponse exists for an upgrade
    };
    const log = (status: number, extra: Record<string, unknown> = {}) => logAccess(options.log, {
      requestId: ctx.id, method: ctx.request.method, path: ctx.request.target, status, bytesIn: ctx.bytesIn, bytesOut: ctx.bytesOut,
      durationMs: Math.round((performance.now() - ctx.startedMono) * 1000) / 1000, clientAddress: ctx.clientAddress, upgrade, ...extra,
    });
    const fail = (status: number, message: string, error?: string) => {
      writeRaw(client, status, [['content-type', 'text/plain; charset=utf-8']], `${message}\n`);
      log(status, error !== undefined ? { error } : {});
    };

    // The same head checks as every other request (duplicate Host, invalid fields, ambiguous framing: RELIABILITY S1–S3).
    const framing = checkRequestFraming(req.httpVersion, headers);
    if (framing.kind === 'reject') { fail(framing.status, framing.reason, 'FERRY_ERR_FRAMING'); return; }

    runPhases(ctx).then(async (result) => {
      if (!('method' in result)) {
        const body = typeof result.body === 'string' || result.body instanceof Uint8Array ? Buffer.from(result.body).toString('utf8') : '';
        writeRaw(client, result.status, (result.headers ?? []).filter(([n]) => n !== 'content-length' && n !== 'connection'), body);
        log(result.status);
        return;
      }
      const target = ctx.upstream;
      if (!target) { fail(502, 'Bad Gateway: no upstream for this upgrade', 'FERRY_ERR_NO_ROUTE'); return; }
      // Put back what the hop-by-hop filter removed: the relayed upgrade needs both fields (RFC 9110 §7.8).
      const out = withHeader(withHeader(result.headers, 'connection', 'upgrade'), 'upgrade', upgrade);
      await sendUpgrade(ctx, client, clientHead, target.origin, target.path, { ...result, headers: out }, log, fail);
    }).catch((err: unknown) => {
      const fe = err instanceof FerryError ? err : null;
      options.log.warn({ event: 'upgrade-error', requestId: ctx.id, err }, 'upgrade failed');
      fail(fe?.status ?? 502, fe?.message ?? 'Bad Gateway', fe?.code ?? 'FERRY_ERR_UPGRADE');
    });
  }

  async function sendUpgrade(
    ctx: RequestContext, client: Duplex, clientHead: Buffer, origin: string, path: string, head: RequestHead,
    log: (status: number, extra?: Record<string, unknown>) => void, fail: (status: number, message: string, error?: string) => void,
  ): Promise<void> {
    const url = new URL(origin);
    const secure = url.protocol === 'https:';
    const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const abort = new AbortController();
    const onClientGone = () => abort.abort();
    client.once('close', onClientGone);
    let tunnel: Socket | undefined;
    if (options.upstreamProxy) {
      tunnel = await openProxyTunnel(options.upstreamProxy, { host, port }, { timeoutMs: options.connectTimeoutMs, signal: abort.signal });
    }
    const request = secure ? https.request : http.request;
    const req = request({
      host, port, method: head.method, path, setHost: false, signal: abort.signal,
      headers: toFlatHeaders(head.headers) as unknown as http.OutgoingHttpHeaders,
      // Through --upstream-proxy: the request goes over the CONNECT tunnel (TLS inside it for https origins).
      // (agent: false would make Node ignore createConnection and connect directly.)
      ...(tunnel ? { createConnection: () => (secure ? tls.connect({ socket: tunnel!, ...(isIP(host) === 0 ? { servername: host } : {}) }) : tunnel!) } : { agent: false }),
      ...(options.lookup ? { lookup: options.lookup } : {}),
      timeout: options.upstreamTimeoutMs,
    });
    req.on('timeout', () => req.destroy(new FerryError('FERRY_ERR_UPSTREAM_TIMEOUT', 'no answer to the upgrade in time', { source: 'upstream', status: 504 })));
    req.on('error', (err: Error) => {
      client.off('close', onClientGone);
      if (abort.signal.aborted) { log(499, { error: 'FERRY_ERR_CLIENT_GONE' }); return; }
      const fe = err instanceof FerryError ? err : null;
      fail(fe?.status ?? 502, fe ? `Gateway error: ${fe.message}` : `Bad Gateway: ${(err as NodeJS.ErrnoException).code ?? err.message}`, fe?.code ?? 'FERRY_ERR_UPSTREAM_CONNECT');
    });
    req.on('upgrade', (res: IncomingMessage, upstream: Socket, upstreamHead: Buffer) => {
      client.off('close', onClientGone);
      req.setTimeout(0);
      upstream.setTimeout(0);
      if (client.destroyed) { upstream.destroy(); return; }
      live.add(upstream);
      // The 101 keeps Connection/Upgrade (they describe this very switch); Via is added like on any response.
      const rheaders = addVia(fromRawHeaders(res.rawHeaders), res.httpVersion, options.viaName);
      client.write(formatHead(`HTTP/1.1 101 ${res.statusMessage || 'Switching Protocols'}`, rheaders));
      if (upstreamHead.length > 0) { client.write(upstreamHead); ctx.bytesOut += upstreamHead.length; }
      if (clientHead.length > 0) { upstream.write(clientHead); ctx.bytesIn += clientHead.length; }
      relaySockets(client, upstream, {
        idleTimeoutMs: options.idleTimeoutMs,
        stats: options.stats,
        onDone({ bytesIn, bytesOut, error }) {
          live.delete(upstream);
          ctx.bytesIn += bytesIn;
          ctx.bytesOut += bytesOut;
          log(101, error !== undefined ? { error } : {});
        },
      });
    });
    req.on('response', (res: IncomingMessage) => {
      // The upstream declined the upgrade: pass its answer on, then close (the client expected a switch).
      client.off('close', onClientGone);
      const status = res.statusCode ?? 502;
      const rheaders = addVia(withoutHeaders(fromRawHeaders(res.rawHeaders), [...HOP_BY_HOP_HEADERS]), res.httpVersion, options.viaName);
      client.write(formatHead(`HTTP/1.1 ${status} ${res.statusMessage ?? ''}`, [...rheaders, ['connection', 'close']]));
      res.on('data', (b: Buffer) => { ctx.bytesOut += b.length; });
      res.pipe(client);
      res.once('end', () => log(status));
      res.once('error', () => client.destroy());
    });
    req.end();
  }

  return {
    onUpgrade,
    destroyAll() { for (const s of live) s.destroy(); live.clear(); },
  };
}
