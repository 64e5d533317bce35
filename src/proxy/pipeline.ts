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
import { Readable, type Duplex } from 'node:stream';
import { FerryError } from '../errors.ts';
import type { BodyFraming } from '../http/framing.ts';
import { normalizeAddress } from '../http/forwarded.ts';
import { fromRawHeaders, getHeader, toFlatHeaders, type HeaderList } from '../http/headers.ts';
import { formatInterimHead, interimToRelay } from '../http/interim.ts';
import type { Logger } from '../server/logger.ts';
import { continueAlreadySent, isClosing, markClosing, requestLimitReached, trackInFlight, untrackInFlight } from '../server/connection.ts';
import { checkRequestHead } from '../server/request-guard.ts';
import { completeReplyHeaders, writeRawReply } from '../server/reply-writer.ts';
import { BodyMeter } from './body-meter.ts';
import type { RequestContext } from './context.ts';
import type { RawBody, RawEntry } from './raw-entry.ts';
import { decideFailure, failureLog, toFerryError } from './fail-to-proxy.ts';
import type { Fetch, LocalReply, ProxiedResponse, ProxyFilter, RequestHead, ResponseHead } from './phases.ts';
import { UpstreamAbort, UpstreamBody, type UpstreamClient } from './upstream-client.ts';

export interface PipelineDeps {
  filters: readonly ProxyFilter[];
  /** null: no HTTP requests are forwarded by this pipeline (a CONNECT-only one). */
  client: UpstreamClient | null;
  log: Logger;
  maxBodyBytes: number | null;
  /** More fields than this → 431 (Node would silently drop the extra ones; RELIABILITY R2). */
  maxHeadersCount: number;
  /** ProxyOptions.onBodyBytes: told the size of every body chunk relayed; null = nobody asked. */
  onBodyBytes: ((bytes: number) => void) | null;
  /** The bodies of upgraded requests and CONNECT tunnels (null: that entry is not offered). */
  upgradeBody: RawBody | null;
  connectBody: RawBody | null;
}

/** Every entry point, each through the same phases (a tunnel or an upgrade is a different body, not a different pipeline). */
export interface Pipeline {
  request(req: IncomingMessage, res: ServerResponse): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  connect(req: IncomingMessage, socket: Duplex, head: Buffer): void;
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
  /** Upgrade and CONNECT: the client socket (no ServerResponse exists), its early bytes and the body; else null. */
  raw: RawEntry | null;
}

type RunContext = RequestContext & { readonly run: RunState };

const CLIENT_GONE = () => new FerryError('FERRY_ERR_CLIENT_GONE', 'client went away', { source: 'downstream' });
/** A client-supplied X-Request-Id is kept only if it is short and plain (it ends up in logs and upstream heads). */
const REQUEST_ID = /^[A-Za-z0-9._:\-]{1,128}$/;

/** Build the request handler. Phase lists are split once here, not per request. */
export function createPipeline(deps: PipelineDeps): Pipeline {
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
    if (!target || client === null) throw new FerryError('FERRY_ERR_NO_ROUTE', 'no upstream for this request', { source: 'downstream', status: 404 });
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
    if (ctx.run.raw !== null) settleRaw(ctx, ctx.run.raw);
    else {
      ctx.bytesIn = ctx.run.meter?.bytes ?? 0;
      ctx.status ??= ctx.res.statusCode;
      if (!ctx.res.writableFinished && ctx.error === undefined) ctx.error = CLIENT_GONE();
    }
    for (const f of loggingFilters) {
      try { f.logging!(ctx); } catch (err) { log.error({ event: 'filter-error', filter: f.name, err }, 'logging filter failed'); }
    }
  };

  const sendLocal = (ctx: RunContext, reply: LocalReply): void => {
    const { req, res } = ctx;
    const body = reply.body;
    const raw = ctx.run.raw;
    if (raw !== null) {
      // upgrade / CONNECT: no ServerResponse; the connection closes after the reply (server/reply-writer.ts)
      const bytes = typeof body === 'string' || body instanceof Uint8Array ? body : '';
      if (body instanceof Readable) body.destroy();
      const head = applyResponseFilters({ status: reply.status, headers: completeReplyHeaders(reply.status, reply.headers ?? [], bytes, true) }, ctx);
      ctx.status = head.status;
      ctx.bytesOut += typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.byteLength;
      raw.body.onRefused?.(ctx);
      if (raw.socket.destroyed) finish(ctx);
      else raw.socket.once('close', () => finish(ctx));
      writeRawReply(raw.socket, { status: head.status, headers: head.headers, body: bytes });
      return;
    }
    if (res.headersSent || res.destroyed) { res.destroy(); return; }
    // An unread request body must not be parsed as the next request: close instead (RELIABILITY S13).
    const unreadBody = ctx.run.framing.kind !== 'none' && !req.complete && ctx.run.meter === null;
    const close = reply.close === true || unreadBody;
    if (close) markClosing(req.socket);
    const headers = completeReplyHeaders(reply.status, reply.headers ?? [], body instanceof Readable ? null : body, close);
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
    const line = failureLog(fe);
    if (line !== null) ctx.log[line.level]({ event: line.event, requestId: ctx.id, err }, fe.message);
    const action = decideFailure(fe, ctx.run.raw !== null ? ctx.run.raw.tookOver : ctx.res.headersSent);
    if (action.kind === 'reply') sendLocal(ctx, { status: action.status, body: `${action.message}\n`, close: action.close });
    else if (ctx.run.raw !== null) ctx.run.raw.socket.destroy();
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
      const raw = ctx.run.raw;
      if (raw !== null) return await startRawBody(ctx, raw);
      const response = await fetch(ctx.request, ctx);
      sendResponse(ctx, response);
    } catch (err) {
      fail(ctx, err);
    }
  };

  /** Upgrade / CONNECT: the body connects upstream and takes the client socket over (proxy/raw-entry.ts). */
  const startRawBody = async (ctx: RunContext, raw: RawEntry): Promise<void> => {
    let head = ctx.request;
    if (raw.body.kind === 'upgrade') for (const f of upstreamRequestFilters) head = await f.upstreamRequestFilter!(head, ctx);
    const gone = new AbortController();
    const onGone = (): void => gone.abort();
    raw.socket.once('close', onGone);
    try {
      await raw.body.start({
        ctx, head, client: raw.socket, early: raw.early, signal: gone.signal,
        tookOver: () => { raw.tookOver = true; },
        done: () => finish(ctx),
      });
    } catch (err) {
      if (!gone.signal.aborted) throw err;
      ctx.error ??= CLIENT_GONE();
      finish(ctx);
    } finally {
      raw.socket.off('close', onGone);
    }
  };

  /** IO: accept — the raw head is checked before any filter sees it (RFC 9112 §6, RELIABILITY S1–S7; shared with
   * the relay client: server/request-guard.ts), then the phases run. */
  const accept = (ctx: RunContext): void => {
    const checked = checkRequestHead(ctx.request.httpVersion, ctx.request.headers, deps);
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
      if (ctx.run.raw !== null) ctx.run.raw.socket.destroy();
      else ctx.res.destroy();
    });
  };

  const enterRaw = (req: IncomingMessage, socket: Duplex, early: Buffer, body: RawBody): void => {
    socket.on('error', ignoreError); // reported through 'close'; never crash on a client reset
    // no ServerResponse exists for an upgrade or a tunnel: the runner writes to `run.raw.socket` instead
    const ctx = createContext(req, null as unknown as ServerResponse, fromRawHeaders(req.rawHeaders), log);
    ctx.run.raw = { socket, early, body, tookOver: false };
    accept(ctx);
  };

  return {
    request(req, res) {
      // A request the client pipelined behind one refused with Connection: close is never processed (nor
      // forwarded): the connection ends with that refusal, and its bytes may be the refused request's body read
      // another way (RFC 9112 §9.6; RELIABILITY S1, S13). Node closes the socket once the refusal is written.
      if (isClosing(req.socket)) return;
      const ctx = createContext(req, res, fromRawHeaders(req.rawHeaders), log);
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
      accept(ctx);
    },
    upgrade(req, socket, head) {
      if (deps.upgradeBody === null) { socket.destroy(); return; }
      enterRaw(req, socket, head, deps.upgradeBody);
    },
    connect(req, socket, head) {
      if (deps.connectBody === null) { socket.destroy(); return; }
      enterRaw(req, socket, head, deps.connectBody);
    },
  };
}

function ignoreError(): void { /* see the caller */ }

/**
 * Upgrade / CONNECT at logging time: no ServerResponse tells the status, so one that never got an answer (the client
 * went away first) is logged 499, like the upgrade relay always did.
 */
function settleRaw(ctx: RunContext, raw: RawEntry): void {
  if (ctx.status !== undefined) return;
  ctx.status = 499;
  if (!raw.tookOver) ctx.error ??= CLIENT_GONE();
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
    run: { framing: { kind: 'none' }, abort: new UpstreamAbort(), body: null, meter: null, logged: false, interims: 0, raw: null },
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
  if (requestLimitReached(res)) res.shouldKeepAlive = false;
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
  if (continueAlreadySent(res) || res.headersSent || res.destroyed) return;
  res.writeContinue();
}
