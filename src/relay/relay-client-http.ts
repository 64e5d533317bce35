/**
 * @module relay-client's absolute-form HTTP requests: the accept step (as `ferry proxy`), then one relay session per
 * request, the response streamed back with backpressure. A failure before the response head is a short error reply;
 * after it, the connection is cut (never a silently truncated "complete" response).
 *
 * Every request first goes through the same accept step as `ferry proxy` (server/request-guard.ts: framing,
 * duplicate singletons, field count, nothing processed behind a refusal, a parse error cancelling what its
 * connection started), and nothing is sent towards the gateway before it passed (RELIABILITY S1–S7, S13).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { FerryError } from '../errors.ts';
import { fromRawHeaders, getHeader, toFlatHeaders, withoutHeaders } from '../http/headers.ts';
import { stripHopByHop } from '../http/hop-by-hop.ts';
import { parseAbsoluteTarget } from '../proxy/forward/request-target.ts';
import { logAccess } from '../server/access-log.ts';
import { DEFAULT_MAX_HEADERS_COUNT } from '../server/http-server.ts';
import type { Logger } from '../server/logger.ts';
import { checkRequestHead, isClosing, markClosing, trackInFlight, untrackInFlight, type HeadLimits } from '../server/request-guard.ts';
import type { ClientSession, DownSink } from './client-session.ts';
import { monotonicNow } from '../util/clock.ts';

/** Uploads of any size pass through the relay: no body limit; the field count is the proxy's default. */
export const HEAD_LIMITS: HeadLimits = { maxHeadersCount: DEFAULT_MAX_HEADERS_COUNT, maxBodyBytes: null };

/** What the request handlers need from createRelayClient. */
export interface RelayClientContext {
  log: Logger;
  statsPath: string;
  stats(): Record<string, unknown>;
  newSession(): ClientSession;
  endSession(s: ClientSession, failed: boolean): void;
}

/** The parser refused bytes behind this request on its connection (answered 400 and closed): send nothing more. */
function cancelSession(s: ClientSession): void {
  s.abort(new FerryError('FERRY_ERR_FRAMING', 'malformed bytes after the request head', { source: 'downstream', status: 400 }));
}

export async function relayRequest(c: RelayClientContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = monotonicNow();
  const target = req.url ?? '/';
  // A request pipelined behind a refusal is never processed: its bytes may be the refused request's body (S13).
  if (isClosing(req.socket)) return;
  // IO: accept — the raw head is checked before anything else, as by `ferry proxy` (server/request-guard.ts)
  const checked = checkRequestHead(req.httpVersion, fromRawHeaders(req.rawHeaders), HEAD_LIMITS);
  if (checked.kind === 'reject') {
    c.log.info({ event: 'client-error', status: checked.status, reason: checked.reason }, 'rejected request');
    return refuse(req, res, checked.status, checked.reason);
  }
  if (target.startsWith('/')) {
    if (req.method === 'GET' && c.statsPath !== '' && target.split('?')[0] === c.statsPath) {
      const body = JSON.stringify(c.stats());
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
  const s = c.newSession();
  trackInFlight(req.socket, s, cancelSession);
  const counted = { bytesOut: 0 };
  let failed = false;
  let upError: unknown;
  let openError: unknown;
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
    // The body and the first down polls go right behind the open, not one gateway round trip after its answer
    // (issue 18: at +30 ms that round trip was most of a small transfer's time); relay-server holds them until the
    // open arrives. A refused open aborts them, and is the failure reported.
    const opened = s.beginOpen({ kind: 'http', method: req.method ?? 'GET', url: url, headers: withoutHeaders(stripHopByHop(checked.headers), ['expect']), hasBody });
    opened.catch((e: unknown) => { openError = e; s.abort(e as Error); });
    const up = hasBody ? s.sendUp(req) : Promise.resolve();
    up.catch((e: unknown) => { upError = e; }); // it aborts the session; reported below as the cause
    await s.receiveDown(responseSink(res, counted), true);
    await opened;
  } catch (caught) {
    failed = reportFailure(c.log, s, url, res, openError ?? upError ?? caught, appGone);
  } finally {
    untrackInFlight(req.socket, s);
    s.abort(new Error('done'));
    c.endSession(s, failed);
    logAccess(c.log, {
      requestId: s.id, method: req.method ?? '', path: target, status: res.statusCode, bytesIn: 0, bytesOut: counted.bytesOut,
      durationMs: monotonicNow() - started, ...(failed ? { error: 'relay failed' } : {}),
    });
  }
}

/** The application's response as a DownSink: head, data with backpressure (`drain`), end. */
function responseSink(res: ServerResponse, counted: { bytesOut: number }): DownSink {
  return {
    head: (status, headers) => { res.writeHead(status, toFlatHeaders(headers)); },
    data: (pieces, written) => {
      // No cork here: a corked ServerResponse can miss its 'drain' (seen as a stalled /echo).
      let ok = true;
      pieces.forEach((p, i) => { counted.bytesOut += p.length; ok = res.write(p, i === pieces.length - 1 ? written : undefined) && ok; });
      return ok ? Promise.resolve() : drainedOrGone(res, 'application went away');
    },
    end: () => { res.end(); },
  };
}

/** Resolves when `w` drained; rejects with `gone` if it closed first (the application left). */
export function drainedOrGone(w: Writable, gone: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => { w.off('drain', done); w.off('close', done); if (w.destroyed) reject(new Error(gone)); else resolve(); };
    w.on('drain', done);
    w.on('close', done);
  });
}

/** Answer or cut the application's response after a failure; true when it counts as a failed session. */
function reportFailure(log: Logger, s: ClientSession, url: string, res: ServerResponse, err: unknown, appGone: boolean): boolean {
  if (s.signal.reason instanceof FerryError && s.signal.reason.code === 'FERRY_ERR_FRAMING') {
    // Already answered 400 by the parser-error handler, which closed the connection.
    log.info({ event: 'relay-app-malformed', session: s.id, url: url }, 'malformed bytes after the request head: request cancelled');
    res.statusCode = 400; // for the access line
    res.destroy();
    return false;
  }
  if (appGone && !(err instanceof FerryError)) {
    // The application left first (it may have had every byte it wanted): not a relay failure.
    log.info({ event: 'relay-app-gone', session: s.id, url: url }, 'application closed the connection before the end');
    res.destroy();
    return false;
  }
  const e = err instanceof FerryError ? err : new FerryError('FERRY_ERR_RELAY', (err as Error).message, { source: 'internal', status: 502 });
  log.warn({ event: 'relay-failed', session: s.id, url: url, code: e.code, err: e.message }, 'relayed request failed');
  if (!res.headersSent) plain(res, e.status ?? 502, e.message);
  else res.destroy(); // never a silently truncated "complete" response
  return true;
}

export function plain(res: ServerResponse, status: number, message: string, close = false): void {
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

