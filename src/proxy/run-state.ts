/**
 * @module What the runner (proxy/pipeline.ts) keeps per request beside the public context, the phase lists compiled
 * once per pipeline, and the logging phase. No I/O beyond reading the response's state at logging time.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { FerryError } from '../errors.ts';
import type { BodyFraming } from '../http/framing.ts';
import { normalizeAddress } from '../http/forwarded.ts';
import { getHeader, type HeaderList } from '../http/headers.ts';
import type { Logger } from '../server/logger.ts';
import type { BodyMeter } from './body-meter.ts';
import type { RequestContext } from './context.ts';
import type { Fetch, ProxyFilter } from './phases.ts';
import type { RawEntry } from './raw-entry.ts';
import { UpstreamAbort } from './upstream-client.ts';
import { randomUuid } from '../util/uuid.ts';

/** What the runner keeps per request beside the public context. */
export interface RunState {
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
  /** The pipeline's phases (the logging phase runs them from a listener shared by every request). */
  readonly phases: Phases;
  /** The client connection as accepted (its in-flight mark is removed from it at the end). */
  readonly socket: IncomingMessage['socket'];
}

export type RunContext = RequestContext & { readonly run: RunState };

/** The filter list split by phase, once per pipeline (not per request), and what the phases share. */
export interface Phases {
  readonly route: readonly ProxyFilter[];
  readonly requestFilter: readonly ProxyFilter[];
  readonly upstreamRequestFilter: readonly ProxyFilter[];
  readonly upstreamResponseFilter: readonly ProxyFilter[];
  readonly responseFilter: readonly ProxyFilter[];
  readonly logging: readonly ProxyFilter[];
  /** The cache phases nested around the upstream fetch. */
  fetch: Fetch;
  readonly log: Logger;
  readonly onBodyBytes: ((bytes: number) => void) | null;
}

export function splitPhases(filters: readonly ProxyFilter[], log: Logger, onBodyBytes: ((bytes: number) => void) | null, fetch: Fetch): Phases {
  return {
    route: filters.filter((f) => f.route),
    requestFilter: filters.filter((f) => f.requestFilter),
    upstreamRequestFilter: filters.filter((f) => f.upstreamRequestFilter),
    upstreamResponseFilter: filters.filter((f) => f.upstreamResponseFilter),
    responseFilter: filters.filter((f) => f.responseFilter),
    logging: filters.filter((f) => f.logging),
    fetch,
    log,
    onBodyBytes,
  };
}

export const CLIENT_GONE = (): FerryError => new FerryError('FERRY_ERR_CLIENT_GONE', 'client went away', { source: 'downstream' });
/** A client-supplied X-Request-Id is kept only if it is short and plain (it ends up in logs and upstream heads). */
const REQUEST_ID = /^[A-Za-z0-9._:\-]{1,128}$/;

const NO_BODY: BodyFraming = Object.freeze({ kind: 'none' });

/** `res` is null for an upgrade or a CONNECT (no ServerResponse exists; the runner writes to `run.raw.socket`). */
export function createContext(req: IncomingMessage, res: ServerResponse | null, headers: HeaderList, phases: Phases): RunContext {
  const given = getHeader(headers, 'x-request-id');
  return {
    id: given !== undefined && REQUEST_ID.test(given) ? given : randomUuid(), // (util/uuid.ts: one flat string, not 20 concatenations)
    startedAt: Date.now(),
    startedMono: performance.now(),
    log: phases.log,
    request: { method: req.method ?? 'GET', target: req.url ?? '/', httpVersion: req.httpVersion, headers },
    clientAddress: normalizeAddress(req.socket.remoteAddress ?? ''),
    secure: (req.socket as { encrypted?: boolean }).encrypted === true,
    bytesIn: 0,
    bytesOut: 0,
    locals: new Map(),
    req,
    res,
    run: { framing: NO_BODY, abort: new UpstreamAbort(), body: null, meter: null, logged: false, interims: 0, raw: null, phases, socket: req.socket },
  };
}

/** logging: exactly once per request, whatever ended it (every entry point: requests, upgrades, CONNECT). */
export function finish(p: Phases, ctx: RunContext): void {
  if (ctx.run.logged) return;
  ctx.run.logged = true;
  const res = ctx.res;
  if (res === null) settleRaw(ctx);
  else {
    ctx.bytesIn = ctx.run.meter?.bytes ?? 0;
    ctx.status ??= res.statusCode;
    if (!res.writableFinished && ctx.error === undefined) ctx.error = CLIENT_GONE();
  }
  for (const f of p.logging) {
    try { f.logging!(ctx); } catch (err) { p.log.error({ event: 'filter-error', filter: f.name, err }, 'logging filter failed'); }
  }
}

/**
 * Upgrade / CONNECT at logging time: no ServerResponse tells the status, so one that never got an answer (the client
 * went away first) is logged 499, like the upgrade relay always did.
 */
function settleRaw(ctx: RunContext): void {
  if (ctx.status !== undefined) return;
  ctx.status = 499;
  if (ctx.run.raw?.tookOver !== true) ctx.error ??= CLIENT_GONE();
}
