/**
 * @module relay-client: the application-side forward proxy. Absolute-form HTTP requests and CONNECT
 * tunnels become relay sessions through the gateway; `/stats` answers locally.
 *
 * Every request first goes through the same accept step as `ferry proxy` (server/request-guard.ts: framing,
 * duplicate singletons, field count, nothing processed behind a refusal, a parse error cancelling what its
 * connection started), and nothing is sent towards the gateway before it passed (RELIABILITY S1–S7, S13).
 */
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { FerryError } from '../errors.ts';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { fromRawHeaders, getHeader, toFlatHeaders, withoutHeaders } from '../http/headers.ts';
import { stripHopByHop } from '../http/hop-by-hop.ts';
import { logAccess } from '../server/access-log.ts';
import { closeServer, createHardenedServer, DEFAULT_MAX_HEADERS_COUNT } from '../server/http-server.ts';
import type { Logger } from '../server/logger.ts';
import { checkRequestHead, guardServer, isClosing, markClosing, trackInFlight, untrackInFlight, type HeadLimits } from '../server/request-guard.ts';
import { ClientSession, type DownSink } from './client-session.ts';
import { GatewayTransport, type SigV4Config } from './gateway-transport.ts';
import { parseAbsoluteTarget, parseAuthorityTarget } from '../proxy/forward/request-target.ts';
import { chunkPayloadSize } from './protocol.ts';
import { SlabPool } from './slab-pool.ts';
import { formatRelayStats, newRelayCounters } from './relay-stats.ts';

export interface RelayClientOptions {
  gateway: URL;
  secret: Buffer | undefined;
  sigv4: SigV4Config | undefined;
  maxMessage: number;
  window: number;
  retries: number;
  pollTimeoutMs: number;
  statsPath: string;
  log: Logger;
  /**
   * Called with the size of every body chunk relayed (both directions). The library does nothing with body sizes on
   * its own; the `ferry` command installs a scavenge pacer here (relay-gc.ts). An embedding process keeps its own
   * heap behaviour unless it asks for the same.
   */
  onBodyBytes?: ((bytes: number) => void) | undefined;
}

export interface RelayClient {
  server: http.Server;
  stats(): Record<string, unknown>;
  close(): Promise<void>;
  destroy(): void;
}

/** Uploads of any size pass through the relay: no body limit; the field count is the proxy's default. */
const HEAD_LIMITS: HeadLimits = { maxHeadersCount: DEFAULT_MAX_HEADERS_COUNT, maxBodyBytes: null };

/** The parser refused bytes behind this request on its connection (answered 400 and closed): send nothing more. */
function cancelSession(s: ClientSession): void {
  s.abort(new FerryError('FERRY_ERR_FRAMING', 'malformed bytes after the request head', { source: 'downstream', status: 400 }));
}

export function createRelayClient(o: RelayClientOptions): RelayClient {
  const counters = newRelayCounters();
  const startedAt = Date.now();
  const log = o.log;
  const transport = new GatewayTransport({
    gateway: o.gateway, secret: o.secret, sigv4: o.sigv4, retries: o.retries, pollTimeoutMs: o.pollTimeoutMs,
    maxMessage: o.maxMessage, counters, log,
  });
  const chunkSize = chunkPayloadSize(o.maxMessage);
  const open = new Set<ClientSession>();
  // Up chunks are read into these slabs and down chunks copied into them: the source's 64 KiB pieces die young, and
  // the slabs live on instead of being promoted and needing major GCs (slab-pool.ts). A window per direction is kept.
  const slabs = new SlabPool(chunkSize, 4 * o.window);
  const newSession = () => {
    const s = new ClientSession({ transport, window: o.window, chunkSize, counters, slabs, onBodyBytes: o.onBodyBytes });
    open.add(s);
    return s;
  };
  const endSession = (s: ClientSession, failed: boolean) => {
    if (!open.delete(s)) return;
    if (failed) counters.sessionsFailed++;
    else counters.sessionsClosed++;
    void s.close();
  };

  const stats = () => formatRelayStats('relay-client', counters, startedAt, Date.now(), { sessionsOpen: open.size });

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const target = req.url ?? '/';
    // A request pipelined behind a refusal is never processed: its bytes may be the refused request's body (S13).
    if (isClosing(req.socket)) return;
    // IO: accept — the raw head is checked before anything else, as by `ferry proxy` (server/request-guard.ts)
    const checked = checkRequestHead(req.httpVersion, fromRawHeaders(req.rawHeaders), HEAD_LIMITS);
    if (checked.kind === 'reject') {
      log.info({ event: 'client-error', status: checked.status, reason: checked.reason }, 'rejected request');
      return refuse(req, res, checked.status, checked.reason);
    }
    if (target.startsWith('/')) {
      if (req.method === 'GET' && o.statsPath !== '' && target.split('?')[0] === o.statsPath) {
        const body = JSON.stringify(stats());
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      return refuse(req, res, 400, 'relay-client is a proxy: send absolute-form requests (curl -x) or CONNECT');
    }
    // The forward proxy's reading of absolute-form (RFC 9112 §3.2.2): no userinfo, no fragment, a valid host and port.
    const t = parseAbsoluteTarget(target);
    if (t.kind !== 'absolute') return refuse(req, res, 400, t.kind === 'invalid' ? `invalid request target: ${t.reason}` : 'invalid request target');
    if (t.scheme !== 'http') return refuse(req, res, 400, 'only http:// requests are relayed as requests; use CONNECT for https');
    const url = `http://${t.hostHeader}${t.path}`;
    const framing = checked.body;
    const hasBody = framing.kind === 'chunked' || (framing.kind === 'length' && framing.length > 0);
    const s = newSession();
    trackInFlight(req.socket, s, cancelSession);
    let bytesOut = 0;
    let failed = false;
    let upError: unknown;
    let appGone = false;
    const onAppClose = () => { if (!res.writableFinished) { appGone = true; s.abort(new Error('application went away')); } };
    res.on('close', onAppClose);
    try {
      // Bytes behind this head in the same read are parsed before the next turn: if they are malformed, the
      // connection is refused and this session cancelled before anything went towards the gateway (S1).
      await nextTurn();
      if (s.signal.aborted) throw s.signal.reason;
      // This hop's `Expect: 100-continue` is answered here, once the head passed; the target must not wait for one.
      if (getHeader(checked.headers, 'expect')?.trim().toLowerCase() === '100-continue') res.writeContinue();
      await s.open({ kind: 'http', method: req.method ?? 'GET', url: url, headers: withoutHeaders(stripHopByHop(checked.headers), ['expect']), hasBody });
      const up = hasBody ? s.sendUp(req) : Promise.resolve();
      up.catch((e: unknown) => { upError = e; }); // it aborts the session; reported below as the cause
      const sink: DownSink = {
        head: (status, headers) => { res.writeHead(status, toFlatHeaders(headers)); },
        data: (pieces, written) => {
          // No cork here: a corked ServerResponse can miss its 'drain' (seen as a stalled /echo).
          let ok = true;
          pieces.forEach((p, i) => { bytesOut += p.length; ok = res.write(p, i === pieces.length - 1 ? written : undefined) && ok; });
          if (ok) return Promise.resolve();
          return new Promise((resolve, reject) => {
            const done = () => { res.off('drain', done); res.off('close', done); if (res.destroyed) reject(new Error('application went away')); else resolve(); };
            res.on('drain', done);
            res.on('close', done);
          });
        },
        end: () => { res.end(); },
      };
      await s.receiveDown(sink, true);
    } catch (caught) {
      const err = upError ?? caught;
      if (s.signal.reason instanceof FerryError && s.signal.reason.code === 'FERRY_ERR_FRAMING') {
        // Already answered 400 by the parser-error handler, which closed the connection.
        log.info({ event: 'relay-app-malformed', session: s.id, url: url }, 'malformed bytes after the request head: request cancelled');
        res.statusCode = 400; // for the access line
        res.destroy();
        return;
      }
      if (appGone && !(err instanceof FerryError)) {
        // The application left first (it may have had every byte it wanted): not a relay failure.
        log.info({ event: 'relay-app-gone', session: s.id, url: url }, 'application closed the connection before the end');
        res.destroy();
        return;
      }
      failed = true;
      const e = err instanceof FerryError ? err : new FerryError('FERRY_ERR_RELAY', (err as Error).message, { source: 'internal', status: 502 });
      log.warn({ event: 'relay-failed', session: s.id, url: url, code: e.code, err: e.message }, 'relayed request failed');
      if (!res.headersSent) plain(res, e.status ?? 502, e.message);
      else res.destroy(); // never a silently truncated "complete" response
    } finally {
      untrackInFlight(req.socket, s);
      s.abort(new Error('done'));
      endSession(s, failed);
      logAccess(log, {
        requestId: s.id, method: req.method ?? '', path: target, status: res.statusCode, bytesIn: 0, bytesOut,
        durationMs: Date.now() - started, ...(failed ? { error: 'relay failed' } : {}),
      });
    }
  }

  async function onConnect(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const sock = socket as Socket;
    sock.on('error', () => { /* handled through the session */ });
    // The same head checks as every other request (a second Host or Proxy-Authorization, invalid fields).
    const checked = checkRequestHead(req.httpVersion, fromRawHeaders(req.rawHeaders), HEAD_LIMITS);
    if (checked.kind === 'reject') {
      log.info({ event: 'client-error', status: checked.status, reason: checked.reason }, 'rejected CONNECT');
      sock.end(`HTTP/1.1 ${checked.status} ${http.STATUS_CODES[checked.status] ?? 'Bad Request'}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      return;
    }
    const t = parseAuthorityTarget(req.url ?? '');
    if (t.kind === 'invalid') {
      log.info({ event: 'client-error', status: 400, reason: t.reason }, 'rejected CONNECT');
      sock.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const s = newSession();
    let failed = false;
    let appClosed = false;
    sock.on('close', () => { appClosed = true; s.abort(new Error('application closed the tunnel')); });
    try {
      await s.open({ kind: 'connect', host: t.authority.host, port: t.authority.port });
    } catch (err) {
      const status = err instanceof FerryError && err.status !== undefined ? err.status : 502;
      log.warn({ event: 'relay-connect-failed', session: s.id, target: req.url, err: (err as Error).message }, 'CONNECT through the relay failed');
      sock.end(`HTTP/1.1 ${status} ${status === 403 ? 'Forbidden' : status === 504 ? 'Gateway Timeout' : 'Bad Gateway'}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      endSession(s, true);
      return;
    }
    sock.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) sock.unshift(head);
    const sink: DownSink = {
      head: () => { throw new Error('unexpected head in a tunnel'); },
      data: (pieces, written) => (writeAll(sock, pieces, written) ? Promise.resolve() : new Promise((resolve, reject) => {
        const done = () => { sock.off('drain', done); sock.off('close', done); if (sock.destroyed) reject(new Error('tunnel closed')); else resolve(); };
        sock.on('drain', done);
        sock.on('close', done);
      })),
      end: () => { sock.end(); },
    };
    try {
      await Promise.all([s.sendUp(sock), s.receiveDown(sink, false)]);
    } catch (err) {
      // The application closing its end is how a tunnel normally finishes; anything else is a failure.
      if (appClosed && !(err instanceof FerryError)) return;
      failed = true;
      log.warn({ event: 'relay-tunnel-failed', session: s.id, target: req.url, err: (err as Error).message }, 'tunnel through the relay failed');
      sock.destroy();
    } finally {
      endSession(s, failed);
    }
  }

  function plain(res: ServerResponse, status: number, message: string, close = false): void {
    const body = `${message}\n`;
    res.writeHead(status, {
      'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store',
      ...(close ? { connection: 'close' } : {}),
    });
    res.end(body);
  }

  /** A local refusal ends the connection: an unread body must not be parsed as the next request (S13). */
  function refuse(req: IncomingMessage, res: ServerResponse, status: number, message: string): void {
    markClosing(req.socket);
    plain(res, status, message, true);
  }

  const server = createHardenedServer((req, res) => {
    onRequest(req, res).catch((err: unknown) => {
      log.error({ event: 'relay-client-error', err: (err as Error).message }, 'unexpected relay-client failure');
      if (!res.headersSent) plain(res, 500, 'internal error');
      else res.destroy();
    });
  }, { log });
  guardServer(server, HEAD_LIMITS.maxHeadersCount);
  // Without this listener Node answers 100 Continue itself, before the head was checked.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => server.emit('request', req, res));
  // Uploads of any size pass through: no deadline on receiving a whole request body (idle timeouts still apply).
  server.requestTimeout = 0;
  server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    onConnect(req, socket, head).catch((err: unknown) => {
      log.error({ event: 'relay-client-error', err: (err as Error).message }, 'unexpected tunnel failure');
      socket.destroy();
    });
  });

  return {
    server,
    stats,
    async close() {
      await closeServer(server);
      await transport.close();
    },
    destroy() {
      server.closeAllConnections();
      for (const s of open) s.abort(new Error('shutting down'));
    },
  };
}

function writeAll(sock: Socket, pieces: readonly Buffer[], written?: () => void): boolean {
  let ok = true;
  pieces.forEach((p, i) => { ok = sock.write(p, i === pieces.length - 1 ? written : undefined) && ok; });
  return ok;
}
