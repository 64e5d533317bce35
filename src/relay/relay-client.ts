/**
 * @module relay-client: the application-side forward proxy. Absolute-form HTTP requests and CONNECT
 * tunnels become relay sessions through the gateway; `/stats` answers locally.
 */
import type http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { FerryError } from '../errors.ts';
import { fromRawHeaders, toFlatHeaders, withoutHeaders } from '../http/headers.ts';
import { logAccess } from '../server/access-log.ts';
import { closeServer, createHardenedServer } from '../server/http-server.ts';
import type { Logger } from '../server/logger.ts';
import { ClientSession, type DownSink } from './client-session.ts';
import { GatewayTransport, type SigV4Config } from './gateway-transport.ts';
import { chunkPayloadSize, stripHopByHop } from './protocol.ts';
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
}

export interface RelayClient {
  server: http.Server;
  stats(): Record<string, unknown>;
  close(): Promise<void>;
  destroy(): void;
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
  const newSession = () => {
    const s = new ClientSession({ transport, window: o.window, chunkSize, counters });
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
    if (target.startsWith('/')) {
      if (req.method === 'GET' && o.statsPath !== '' && target.split('?')[0] === o.statsPath) {
        const body = JSON.stringify(stats());
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      return plain(res, 400, 'relay-client is a proxy: send absolute-form requests (curl -x) or CONNECT');
    }
    let url: URL;
    try { url = new URL(target); } catch { return plain(res, 400, 'invalid request target'); }
    if (url.protocol !== 'http:') return plain(res, 400, 'only http:// requests are relayed as requests; use CONNECT for https');
    // Node already answered any `Expect: 100-continue` on this hop; the target must not wait for one.
    const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
    const s = newSession();
    let bytesOut = 0;
    let failed = false;
    let upError: unknown;
    let appGone = false;
    const onAppClose = () => { if (!res.writableFinished) { appGone = true; s.abort(new Error('application went away')); } };
    res.on('close', onAppClose);
    try {
      await s.open({ kind: 'http', method: req.method ?? 'GET', url: url.href, headers: withoutHeaders(stripHopByHop(fromRawHeaders(req.rawHeaders)), ['expect']), hasBody });
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
      if (appGone && !(err instanceof FerryError)) {
        // The application left first (it may have had every byte it wanted): not a relay failure.
        log.info({ event: 'relay-app-gone', session: s.id, url: url.href }, 'application closed the connection before the end');
        res.destroy();
        return;
      }
      failed = true;
      const e = err instanceof FerryError ? err : new FerryError('FERRY_ERR_RELAY', (err as Error).message, { source: 'internal', status: 502 });
      log.warn({ event: 'relay-failed', session: s.id, url: url.href, err: e.message }, 'relayed request failed');
      if (!res.headersSent) plain(res, e.status ?? 502, e.message);
      else res.destroy(); // never a silently truncated "complete" response
    } finally {
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
    const m = /^([A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/.exec(req.url ?? '');
    const port = Number(m?.[2]);
    if (!m || port < 1 || port > 65535) {
      sock.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const s = newSession();
    let failed = false;
    let appClosed = false;
    sock.on('close', () => { appClosed = true; s.abort(new Error('application closed the tunnel')); });
    try {
      await s.open({ kind: 'connect', host: m[1]!.replace(/^\[|\]$/g, ''), port });
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

  function plain(res: ServerResponse, status: number, message: string): void {
    const body = `${message}\n`;
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(body);
  }

  const server = createHardenedServer((req, res) => {
    onRequest(req, res).catch((err: unknown) => {
      log.error({ event: 'relay-client-error', err: (err as Error).message }, 'unexpected relay-client failure');
      if (!res.headersSent) plain(res, 500, 'internal error');
      else res.destroy();
    });
  }, { log });
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
