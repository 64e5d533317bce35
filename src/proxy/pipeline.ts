/**
 * @module The proxy runner: the one place that orders the phases (see phases.ts) and performs the I/O between them.
 *
 *   IO: accept (check the raw head) → route → requestFilter → cache( fetch: upstreamRequestFilter → IO: upstream
 *   → upstreamResponseFilter ) → responseFilter → IO: send downstream → logging (exactly once, on close)
 *
 * Any throw goes to fail-to-proxy. Bodies are never phases: they stream with backpressure between the sockets.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { FerryError } from '../errors.ts';
import type { BodyFraming } from '../http/framing.ts';
import { normalizeAddress } from '../http/forwarded.ts';
import { fromRawHeaders, getHeader, hasHeader, toFlatHeaders, type HeaderList } from '../http/headers.ts';
import { formatInterimHead, interimToRelay } from '../http/interim.ts';
import type { Logger } from '../server/logger.ts';
import { checkRequestHead, isClosing, markClosing, trackInFlight, untrackInFlight } from '../server/request-guard.ts';
import { BodyMeter } from './body-meter.ts';
import type { RequestContext } from './context.ts';
import { decideFailure, toFerryError } from './fail-to-proxy.ts';
import type { Fetch, LocalReply, ProxiedResponse, ProxyFilter, RequestHead, ResponseHead } from './phases.ts';
import { UpstreamAbort, UpstreamBody, type UpstreamClient } from './upstream-client.ts';

export interface PipelineDeps {
  filters: readonly ProxyFilter[];
  client: UpstreamClient;
  log: Logger;
  maxBodyBytes: number | null;
  /** More fields than this → 431 (Node would silently drop the extra ones; RELIABILITY R2). */
  maxHeadersCount: number;
  /** ProxyOptions.onBodyBytes: told the size of every body chunk relayed; null = nobody asked. */
  onBodyBytes: ((bytes: number) => void) | null;
}

/** What the runner keeps per request beside the public context. */
interface RunState {
  framing: BodyFraming;
  abort: UpstreamAbort;
  /** The response body being piped downstream, destroyed if the client goes away. */
  body: Readable | null;
  meter: BodyMeter | null;
  logged: boolean;
  /** Interim (1xx) responses relayed to the client so far. */
  interims: number;
}

type RunContext = RequestContext & { readonly run: RunState };

const CLIENT_GONE = () => new FerryError('FERRY_ERR_CLIENT_GONE', 'client went away', { source: 'downstream' });
/** A client-supplied X-Request-Id is kept only if it is short and plain (it ends up in logs and upstream heads). */
const REQUEST_ID = /^[A-Za-z0-9._:\-]{1,128}$/;

/** Build the request handler. Phase lists are split once here, not per request. */
export function createPipeline(deps: PipelineDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { filters, client, log, onBodyBytes } = deps;
  const routeFilters = filters.filter((f) => f.route);
  const requestFilters = filters.filter((f) => f.requestFilter);
  const upstreamRequestFilters = filters.filter((f) => f.upstreamRequestFilter);
  const upstreamResponseFilters = filters.filter((f) => f.upstreamResponseFilter);
  const responseFilters = filters.filter((f) => f.responseFilter);
  const loggingFilters = filters.filter((f) => f.logging);

  /** The innermost fetch: edit the head for the upstream, send it with the body, read the response head. */
  const upstreamFetch: Fetch = async (head, context) => {
    const ctx = context as RunContext;
    let out: RequestHead = head;
    for (const f of upstreamRequestFilters) {
      const r = f.upstreamRequestFilter!(out, ctx);
      out = r instanceof Promise ? await r : r; // most filters are synchronous: no microtask hop for them
    }
    const target = ctx.upstream;
    if (!target) throw new FerryError('FERRY_ERR_NO_ROUTE', 'no upstream for this request', { source: 'downstream', status: 404 });
    const expect = isExpectContinue(out.headers);
    const started = performance.now();
    // IO: send head upstream, stream the body, await the response head (headers timeout → 504)
    const response = await client.send({
      origin: target.origin,
      path: target.path,
      head: out,
      body: openRequestBody(ctx, deps.maxBodyBytes, onBodyBytes),
      signal: ctx.run.abort,
      ...(expect ? { onContinue: () => sendContinue(ctx.res) } : {}),
      onInformation: (status, headers) => sendInterim(ctx, status, headers),
    });
    ctx.upstreamTimeMs = performance.now() - started;
    let rhead: ResponseHead = response.head;
    for (const f of upstreamResponseFilters) rhead = f.upstreamResponseFilter!(rhead, ctx);
    return rhead === response.head ? response : { head: rhead, body: response.body };
  };

  // cache phases nest around the fetch, the first filter in the list outermost
  let fetch: Fetch = upstreamFetch;
  for (const f of [...filters].reverse()) {
    if (!f.cache) continue;
    const inner = fetch;
    fetch = (head, ctx) => f.cache!(head, ctx, inner);
  }

  const applyResponseFilters = (head: ResponseHead, ctx: RequestContext): ResponseHead => {
    let h = head;
    for (const f of responseFilters) h = f.responseFilter!(h, ctx);
    return h;
  };

  const finish = (ctx: RunContext): void => {
    if (ctx.run.logged) return;
    ctx.run.logged = true;
    ctx.bytesIn = ctx.run.meter?.bytes ?? 0;
    ctx.status ??= ctx.res.statusCode;
    if (!ctx.res.writableFinished && ctx.error === undefined) ctx.error = CLIENT_GONE();
    for (const f of loggingFilters) {
      try { f.logging!(ctx); } catch (err) { log.error({ event: 'filter-error', filter: f.name, err }, 'logging filter failed'); }
    }
  };

  const sendLocal = (ctx: RunContext, reply: LocalReply): void => {
    const { req, res } = ctx;
    if (res.headersSent || res.destroyed) { res.destroy(); return; }
    let headers: HeaderList = reply.headers ?? [];
    const body = reply.body;
    if (typeof body === 'string' || body instanceof Uint8Array) {
      const length = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
      if (typeof body === 'string' && !hasHeader(headers, 'content-type')) headers = [...headers, ['content-type', 'text/plain; charset=utf-8']];
      if (!hasHeader(headers, 'content-length')) headers = [...headers, ['content-length', String(length)]];
    } else if (body === undefined && !hasHeader(headers, 'content-length') && reply.status >= 200 && reply.status !== 204 && reply.status !== 304) {
      headers = [...headers, ['content-length', '0']];
    }
    // An unread request body must not be parsed as the next request: close instead (RELIABILITY S13).
    const unreadBody = ctx.run.framing.kind !== 'none' && !req.complete && ctx.run.meter === null;
    if (reply.close === true || unreadBody) headers = [...headers.filter(([n]) => n !== 'connection'), ['connection', 'close']];
    if (reply.close === true || unreadBody) markClosing(req.socket);
    const head = applyResponseFilters({ status: reply.status, headers }, ctx);
    ctx.status = head.status;
    closeAtRequestLimit(res);
    res.writeHead(head.status, toFlatHeaders(head.headers));
    ctx.bytesOut += typeof body === 'string' ? Buffer.byteLength(body) : body instanceof Uint8Array ? body.byteLength : 0;
    if (body instanceof Readable) {
      if (ctx.request.method === 'HEAD') { body.destroy(); res.end(); return; }
      ctx.run.body = body;
      body.on('data', (c: Buffer) => { ctx.bytesOut += c.length; });
      body.once('error', (err: Error) => { ctx.error ??= toFerryError(err); res.destroy(); });
      body.pipe(res);
      return;
    }
    if (ctx.request.method === 'HEAD' || body === undefined) res.end();
    else res.end(body);
  };

  const sendResponse = (ctx: RunContext, response: ProxiedResponse): void => {
    const { res } = ctx;
    const head = applyResponseFilters(response.head, ctx);
    const body = response.body;
    if (res.destroyed) { body?.destroy(); return; }
    ctx.status = head.status;
    closeAtRequestLimit(res);
    // IO: send the head downstream, then pipe the body with backpressure
    try {
      if (head.statusText) res.writeHead(head.status, head.statusText, toFlatHeaders(head.headers));
      else res.writeHead(head.status, toFlatHeaders(head.headers));
    } catch (err) {
      // Node refused a field or reason phrase it would not put on the wire: release the upstream body, answer 502
      body?.destroy();
      // writeHead kept the refused reason phrase; the 502 must not inherit it (it would throw again: issue 17)
      res.statusMessage = '';
      throw new FerryError('FERRY_ERR_UPSTREAM_BAD_RESPONSE', `response head not relayable: ${(err as Error).message}`, { source: 'upstream', status: 502, cause: err });
    }
    if (body === null) { res.end(); return; }
    if (ctx.request.method === 'HEAD') { body.destroy(); res.end(); return; }
    if (body instanceof UpstreamBody && body.complete && !body.readableFlowing) {
      // The whole body already arrived and sits in the stream's buffer (bounded by its highWaterMark plus one socket
      // read, since the handler pauses the upstream beyond it): hand it to res.end at once. Same bytes on the wire;
      // spares the pipe's listeners and the flowing-mode ticks on the small-response path.
      const chunk = body.read() as Buffer | null;
      if (chunk !== null) { ctx.bytesOut += chunk.length; onBodyBytes?.(chunk.length); res.end(chunk); } else res.end();
      return;
    }
    // body.pipe rather than stream.pipeline: pipeline costs an AbortController and a DOMException per request, and
    // every outcome is handled here anyway: client gone → body destroyed (close handler), body error → cut.
    ctx.run.body = body;
    body.on('data', (c: Buffer) => { ctx.bytesOut += c.length; onBodyBytes?.(c.length); });
    body.once('error', (err: Error) => {
      // Mid-body failure: the head is out, so the only honest signal left is cutting the connection (S10).
      ctx.error ??= err instanceof FerryError ? err : new FerryError('FERRY_ERR_UPSTREAM_BODY', `response body failed: ${err.message}`, { source: 'upstream', cause: err });
      res.destroy();
    });
    body.pipe(res);
  };

  const fail = (ctx: RunContext, err: unknown): void => {
    const fe = toFerryError(err);
    ctx.error ??= fe;
    if (fe.source === 'internal') ctx.log.error({ event: 'internal-error', requestId: ctx.id, err }, fe.message);
    const action = decideFailure(fe, ctx.res.headersSent);
    if (action.kind === 'reply') sendLocal(ctx, { status: action.status, body: `${action.message}\n`, close: action.close });
    else ctx.res.destroy();
  };

  const run = async (ctx: RunContext): Promise<void> => {
    try {
      for (const f of routeFilters) {
        let r = f.route!(ctx);
        if (r instanceof Promise) r = await r;
        if (r.kind === 'respond') return sendLocal(ctx, r.reply);
      }
      for (const f of requestFilters) {
        let r = f.requestFilter!(ctx);
        if (r instanceof Promise) r = await r;
        if (r.kind === 'respond') return sendLocal(ctx, r.reply);
      }
      const response = await fetch(ctx.request, ctx);
      sendResponse(ctx, response);
    } catch (err) {
      fail(ctx, err);
    }
  };

  return (req, res) => {
    // A request the client pipelined behind one refused with Connection: close is never processed (nor forwarded):
    // the connection ends with that refusal, and its bytes may be the refused request's body read another way
    // (RFC 9112 §9.6; RELIABILITY S1, S13). Node closes the socket once the refusal is written.
    if (isClosing(req.socket)) return;
    const headers = fromRawHeaders(req.rawHeaders);
    const ctx = createContext(req, res, headers, log);
    const socket = req.socket;
    trackInFlight(socket, ctx, cancelForParseError);
    res.once('close', () => {
      untrackInFlight(socket, ctx);
      if (!res.writableFinished) {
        ctx.run.abort.abort(CLIENT_GONE());
        ctx.run.body?.destroy();
      }
      finish(ctx);
    });
    // IO: accept — the raw head is checked before any filter sees it (RFC 9112 §6, RELIABILITY S1–S7; shared with
    // the relay client: server/request-guard.ts)
    const checked = checkRequestHead(req.httpVersion, headers, deps);
    if (checked.kind === 'reject') {
      ctx.error = new FerryError('FERRY_ERR_FRAMING', checked.reason, { source: 'downstream', status: checked.status });
      ctx.log.info({ event: 'client-error', requestId: ctx.id, status: checked.status, reason: checked.reason }, 'rejected request');
      sendLocal(ctx, { status: checked.status, body: `${checked.reason}\n`, close: true });
      return;
    }
    ctx.request.headers = checked.headers;
    ctx.run.framing = checked.body;
    run(ctx).catch((err: unknown) => {
      log.error({ event: 'internal-error', err }, 'proxy runner failed');
      res.destroy();
    });
  };
}

function createContext(req: IncomingMessage, res: ServerResponse, headers: HeaderList, log: Logger): RunContext {
  const given = getHeader(headers, 'x-request-id');
  return {
    id: given !== undefined && REQUEST_ID.test(given) ? given : randomUUID(),
    startedAt: Date.now(),
    startedMono: performance.now(),
    log,
    request: { method: req.method ?? 'GET', target: req.url ?? '/', httpVersion: req.httpVersion, headers },
    clientAddress: normalizeAddress(req.socket.remoteAddress ?? ''),
    secure: (req.socket as { encrypted?: boolean }).encrypted === true,
    bytesIn: 0,
    bytesOut: 0,
    locals: new Map(),
    req,
    res,
    run: { framing: { kind: 'none' }, abort: new UpstreamAbort(), body: null, meter: null, logged: false, interims: 0 },
  };
}

/** The client's body, counted and limited as it streams; null when the request has none. */
function openRequestBody(ctx: RunContext, maxBodyBytes: number | null, onBodyBytes: ((bytes: number) => void) | null): Readable | null {
  const framing = ctx.run.framing;
  if (framing.kind === 'none' || (framing.kind === 'length' && framing.length === 0)) return null;
  if (ctx.run.meter) throw new FerryError('FERRY_ERR_BODY_REUSED', 'the request body can be sent upstream only once', { source: 'internal' });
  const { req } = ctx;
  const meter = new BodyMeter(maxBodyBytes, onBodyBytes);
  ctx.run.meter = meter;
  // Not stream.pipeline: destroying an IncomingMessage destroys its socket, and a 413 still has to be written.
  req.pipe(meter);
  meter.once('error', () => req.unpipe(meter));
  req.once('close', () => { if (!req.complete) meter.destroy(CLIENT_GONE()); });
  return meter;
}

/**
 * The parser refused bytes on this request's connection after it was handed over (server/request-guard.ts
 * abortInFlight): the connection is answered 400 and closed, so cancel its upstream call.
 */
function cancelForParseError(ctx: RunContext): void {
  ctx.error ??= new FerryError('FERRY_ERR_FRAMING', 'malformed bytes after the request head', { source: 'downstream', status: 400 });
  ctx.run.abort.abort(CLIENT_GONE());
  ctx.run.body?.destroy();
}

/**
 * At server.maxRequestsPerSocket Node only writes `Connection: close` and then answers 503 to every further request
 * on that connection, which it keeps open (documented behaviour). Really closing it (RELIABILITY R6) spares clients
 * that ignore the header an endless run of 503s.
 */
function closeAtRequestLimit(res: ServerResponse): void {
  if ((res as ServerResponse & { maxRequestsOnConnectionReached?: boolean }).maxRequestsOnConnectionReached) res.shouldKeepAlive = false;
}

function isExpectContinue(headers: HeaderList): boolean {
  const v = getHeader(headers, 'expect');
  return v !== undefined && v.trim().toLowerCase() === '100-continue';
}

/**
 * IO: relay an interim response (102, 103 …) to the client before the final head (RFC 9110 §15.2; what is relayed:
 * http/interim.ts). Only while this response is the one on the socket and its head is not out: a background
 * revalidation's origin answers after the client's reply was sent are dropped, and so are a pipelined request's
 * that is still queued behind another (its socket is assigned later).
 */
function sendInterim(ctx: RunContext, status: number, headers: HeaderList): void {
  const { res } = ctx;
  // a client that does not read gets no more of them (the final head and body still flow with backpressure)
  if (res.headersSent || res.destroyed || res.writableEnded || res.socket === null || res.socket.destroyed || res.socket.writableNeedDrain) return;
  const interim = interimToRelay(status, headers, ctx.request.httpVersion, ctx.run.interims);
  if (interim === null) return;
  ctx.run.interims++;
  res.socket.write(formatInterimHead(interim), 'latin1');
}

/** 100 Continue once; Node may already have sent it when the handler is embedded without a checkContinue listener. */
function sendContinue(res: ServerResponse): void {
  const r = res as ServerResponse & { _sent100?: boolean };
  if (r._sent100 || res.headersSent || res.destroyed) return;
  res.writeContinue();
}
