/**
 * @module relay-server: the far end of the relay, behind the gateway. Authenticates every message,
 * hands chunks to the session's owner through the store, long-polls down chunks, serves /stats.
 *
 * Every answer says `Cache-Control: no-store` (no gateway stage cache may keep a chunk) and every
 * long poll ends before `pollTimeoutMs` (API Gateway cuts integrations at 29-30 s; RELIABILITY L10).
 * A store that cannot answer (Redis stalled or down: every call is bounded) makes the message a retryable
 * 503 `x-ferry-error: store`, which the client repeats within its --retries (docs/relay.md, "When Redis stalls").
 */
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { closeServer, createHardenedServer } from '../server/http-server.ts';
import type { Logger } from '../server/logger.ts';
import { NONCE_TTL_MS, signRelayResponse, verifyRelayRequest } from './hmac.ts';
import {
  chunkPayloadSize, formatContentDigest, H, isSessionId, parseContentDigest, parseIndex, parseOpenRequest,
  RELAY_PATHS, STATUS_CHECKSUM_MISMATCH, type RelayPath,
} from './protocol.ts';
import { formatRelayStats, newRelayCounters } from './relay-stats.ts';
import { decideDownFetch, newSessionMeta, upFingerprint } from './session.ts';
import { StoreUnavailableError, type SessionStore } from './session-store.ts';
import { SlabPool } from './slab-pool.ts';
import { TargetSession } from './target-session.ts';

export interface RelayServerOptions {
  store: SessionStore;
  maxMessage: number;
  /** HMAC secret; undefined only with `insecureGatewayAuthOnly`. */
  secret: Buffer | undefined;
  insecureGatewayAuthOnly: boolean;
  sessionTtlMs: number;
  pollTimeoutMs: number;
  window: number;
  /** Ports CONNECT may reach; undefined: any. */
  connectPorts: readonly number[] | undefined;
  statsPath: string;
  log: Logger;
  now?: () => number;
}

export interface RelayServer {
  server: http.Server;
  stats(): Promise<Record<string, unknown>>;
  close(): Promise<void>;
  destroy(): void;
}

const EMPTY = Buffer.alloc(0);
const EMPTY_DIGEST = formatContentDigest(EMPTY);

interface Message { path: string; body: Buffer; digest: string; nonce: string; get: (n: string) => string | undefined }

export function createRelayServer(o: RelayServerOptions): RelayServer {
  if (!o.secret && !o.insecureGatewayAuthOnly) throw new Error('relay-server needs a secret (or insecureGatewayAuthOnly)');
  const now = o.now ?? Date.now;
  const startedAt = now();
  const instance = randomUUID();
  const counters = newRelayCounters();
  const owned = new Map<string, TargetSession>();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const chunkSize = chunkPayloadSize(o.maxMessage);
  const upSlabs = new SlabPool(o.maxMessage, 2 * o.window);
  const downSlabs = new SlabPool(chunkSize, 2 * o.window); // see TargetSession#produce
  const log = o.log;
  /** Requests that may be waiting (long polls, full windows): shutdown ends them at once instead of after a poll. */
  const waiting = new Set<AbortController>();
  let closing = false;
  /** Messages answered 503 because the store could not answer (shown in /stats). */
  let storeRefusals = 0;

  const sweepEvery = Math.min(Math.max(Math.floor(o.sessionTtlMs / 4), 100), 10_000);
  const sweeper = setInterval(() => { void sweep(); }, sweepEvery);
  sweeper.unref();
  async function sweep(): Promise<void> {
    try {
      await o.store.sweep(now());
      for (const [id, s] of owned) {
        if (!(await o.store.get(id))) {
          counters.sessionsExpired++;
          log.info({ event: 'relay-session-expired', session: id }, 'idle session expired; resources freed');
          s.destroy('session expired');
        }
      }
    } catch (err) {
      // A store outage is logged once by the store itself, not once per sweep.
      if (!(err instanceof StoreUnavailableError)) log.warn({ event: 'relay-sweep', err: (err as Error).message }, 'session sweep failed');
    }
  }

  /** `digest`: the body's Content-Digest when already known (down chunks carry theirs), to hash each byte once. */
  function reply(res: ServerResponse, status: number, nonce: string, fields: Record<string, string>, body: Buffer | readonly Buffer[] = EMPTY, digest?: string): void {
    if (res.headersSent || res.destroyed) return;
    const pieces = Buffer.isBuffer(body) ? [body] : body;
    const length = pieces.reduce((n, p) => n + p.length, 0);
    const all: Record<string, string> = { ...fields, [H.digest]: digest ?? (length === 0 ? EMPTY_DIGEST : formatContentDigest(Buffer.concat(pieces))) };
    if (o.secret && nonce !== '') all[H.responseAuth] = signRelayResponse(o.secret, status, nonce, all);
    res.writeHead(status, {
      ...all,
      ...(closing ? { connection: 'close' } : {}), // shutting down: let keep-alive connections go
      'cache-control': 'no-store',
      'content-type': length > 0 && fields[H.type] !== 'data' ? 'application/json' : 'application/octet-stream',
      'content-length': String(length),
    });
    for (const p of pieces) res.write(p);
    res.end();
  }

  function refuse(res: ServerResponse, status: number, nonce: string, error: string, detail = error): void {
    reply(res, status, nonce, { [H.error]: error }, Buffer.from(JSON.stringify({ error: detail })));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const path = url.split('?')[0]!;
    if (req.method === 'GET' && o.statsPath !== '' && path === o.statsPath) {
      const body = Buffer.from(JSON.stringify(await stats()));
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': body.length });
      res.end(body);
      return;
    }
    // The gateway may add a stage prefix (`/prod/relay/v1/up`): endpoints match by suffix, and the HMAC
    // covers the endpoint, not the prefix the client cannot know.
    const endpoint = Object.values(RELAY_PATHS).find((p) => path === p || path.endsWith(p));
    if (endpoint === undefined) return refuse(res, 404, '', 'not-found', `no relay endpoint ${path}`);
    if (req.method !== 'POST') return refuse(res, 405, '', 'method', 'relay endpoints take POST');
    const declared = Number(req.headers['content-length'] ?? 'NaN');
    if (!Number.isSafeInteger(declared) || declared > o.maxMessage) return refuse(res, declared > o.maxMessage ? 413 : 411, '', 'length');
    // Up chunks (the large bodies) are read into reused slabs; given back once nothing reads them.
    const slab = declared > 0 && endpoint === RELAY_PATHS.up ? upSlabs.take() : undefined;
    const body = await readBody(req, declared, slab);
    if (!body) return; // client went away
    const names = Object.keys(req.headers);
    const get = (n: string) => { const v = req.headers[n]; return Array.isArray(v) ? v.join(',') : v; };
    let nonce = '';
    if (o.secret) {
      const v = verifyRelayRequest(o.secret, 'POST', endpoint, names, get, now());
      if (v.kind === 'refused') {
        counters.authRefused++;
        log.warn({ event: 'relay-auth-refused', reason: v.reason, path, remote: req.socket.remoteAddress }, 'relay message refused');
        return refuse(res, 401, '', v.reason === 'skew' ? 'skew' : 'auth', v.reason === 'skew' ? 'timestamp more than 300 s from server clock' : 'authentication failed');
      }
      nonce = v.nonce;
    }
    const claimed = parseContentDigest(get(H.digest));
    const digest = body.length === 0 ? EMPTY_DIGEST : formatContentDigest(body);
    if (claimed === undefined || claimed !== digest) {
      counters.corrupt++;
      log.info({ event: 'relay-checksum-mismatch', path }, 'chunk digest mismatch; client will resend');
      return refuse(res, STATUS_CHECKSUM_MISMATCH, nonce, 'checksum', 'Checksum Mismatch: resend the chunk');
    }
    try {
      await dispatch(req, res, endpoint, { path: endpoint, body, digest, nonce, get });
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      storeRefusals++; // (an up chunk's slab is left to the GC: it may have been given back already)
      return refuse(res, 503, nonce, 'store', err.message);
    }
  }

  async function dispatch(req: IncomingMessage, res: ServerResponse, endpoint: RelayPath, msg: Message): Promise<void> {
    if (o.secret && !(await o.store.claimNonce(msg.nonce, NONCE_TTL_MS))) {
      counters.replays++;
      log.warn({ event: 'relay-replay', path: endpoint, remote: req.socket.remoteAddress }, 'replayed relay message refused');
      return refuse(res, 401, '', 'replay', 'nonce already used');
    }
    const session = msg.get(H.session);
    if (!isSessionId(session)) return refuse(res, 400, msg.nonce, 'session', 'missing or invalid x-ferry-session');
    const abort = new AbortController();
    waiting.add(abort);
    res.on('close', () => { waiting.delete(abort); abort.abort(); });
    switch (endpoint) {
      case RELAY_PATHS.open: return await onOpen(res, session, msg);
      case RELAY_PATHS.up: return await onUp(res, session, msg, abort.signal);
      case RELAY_PATHS.down: return await onDown(res, session, msg, abort.signal);
      case RELAY_PATHS.close: return await onClose(res, session, msg);
    }
  }

  async function onOpen(res: ServerResponse, id: string, m: Message): Promise<void> {
    const parsed = parseOpenRequest(m.body);
    if (!parsed.ok) return refuse(res, 400, m.nonce, 'open', parsed.reason);
    const open = parsed.value;
    if (open.kind === 'connect' && o.connectPorts && !o.connectPorts.includes(open.port)) {
      log.info({ event: 'relay-connect-refused', port: open.port }, 'CONNECT port not allowed');
      return refuse(res, 403, m.nonce, 'port', `CONNECT to port ${open.port} is not allowed`);
    }
    const digest = m.digest;
    if (closing && !(await o.store.get(id))) return refuse(res, 503, m.nonce, 'closing', 'relay-server is shutting down; open the session elsewhere');
    const created = await o.store.create(newSessionMeta(id, open.kind, digest, instance));
    if (created.kind === 'created') {
      counters.sessionsOpened++;
      const t = new TargetSession({
        id, open, store: o.store, window: o.window, chunkSize, agent, log, counters, upSlabs, downSlabs,
        onEnd: (sid) => { owned.delete(sid); },
      });
      owned.set(id, t);
      log.info({ event: 'relay-open', session: id, kind: open.kind, target: open.kind === 'http' ? `${open.method} ${open.url}` : `${open.host}:${open.port}` }, 'relay session opened');
      t.start();
    } else if (created.meta.openDigest !== digest) {
      counters.conflicts++;
      return refuse(res, 409, m.nonce, 'conflict', 'session id already used for another open');
    }
    const deadline = now() + o.pollTimeoutMs;
    for (;;) {
      const meta = await o.store.get(id);
      if (!meta) return refuse(res, 410, m.nonce, 'gone', 'session expired or closed');
      if (meta.state === 'open') return reply(res, 200, m.nonce, { [H.session]: id });
      if (meta.state === 'failed') {
        counters.sessionsFailed++;
        return refuse(res, meta.failStatus || 502, m.nonce, 'target', meta.failReason);
      }
      const left = deadline - now();
      if (left <= 0) return refuse(res, 503, m.nonce, 'busy', 'target not connected yet; retry');
      await o.store.wait(id, Math.min(left, 250));
    }
  }

  async function onUp(res: ServerResponse, id: string, m: Message, signal: AbortSignal): Promise<void> {
    const index = parseIndex(m.get(H.index));
    if (index === undefined) return refuse(res, 400, m.nonce, 'index', 'missing or invalid x-ferry-index');
    const fin = m.get(H.fin) === '1';
    await o.store.touch(id);
    const fp = upFingerprint(m.digest, fin);
    const deadline = now() + o.pollTimeoutMs;
    for (;;) {
      const r = await o.store.putUp(id, index, fp, m.body, o.window);
      // The memory store keeps the body until the target has it (the up pump gives the slab back); any
      // other answer, or a store that copied it elsewhere, leaves nothing reading it.
      if (r.kind !== 'busy' && (r.kind !== 'stored' || o.store.kind !== 'memory')) upSlabs.give(m.body);
      if (r.kind === 'stored' || r.kind === 'duplicate') {
        if (r.kind === 'duplicate') counters.duplicates++;
        else counters.chunksUp++;
        return reply(res, 200, m.nonce, { [H.session]: id, [H.index]: String(index), [H.fin]: fin ? '1' : '0' });
      }
      if (r.kind === 'gone') return refuse(res, 410, m.nonce, 'gone', 'session expired or closed');
      if (r.kind === 'conflict') {
        counters.conflicts++;
        log.warn({ event: 'relay-conflict', session: id, index }, 'chunk index re-sent with different bytes');
        return refuse(res, 409, m.nonce, 'conflict', `chunk ${index} was already received with a different digest`);
      }
      const left = deadline - now();
      if (left <= 0 || signal.aborted) return refuse(res, 503, m.nonce, 'busy', 'window full; retry');
      await o.store.wait(id, Math.min(left, 250), signal);
    }
  }

  async function onDown(res: ServerResponse, id: string, m: Message, signal: AbortSignal): Promise<void> {
    const index = parseIndex(m.get(H.index));
    const ack = parseIndex(m.get(H.ack) ?? '0');
    if (index === undefined || ack === undefined || ack > index) return refuse(res, 400, m.nonce, 'index', 'missing or invalid x-ferry-index / x-ferry-ack');
    await o.store.touch(id);
    await o.store.ackDown(id, ack);
    const deadline = now() + o.pollTimeoutMs;
    for (;;) {
      const meta = await o.store.get(id);
      if (!meta) return refuse(res, 410, m.nonce, 'gone', 'session expired or closed');
      const d = decideDownFetch(index, meta);
      if (d.kind === 'stale') return refuse(res, 409, m.nonce, 'stale', `chunk ${index} was already confirmed`);
      if (d.kind === 'ready') {
        const c = await o.store.getDown(id, index);
        if (!c) return refuse(res, 410, m.nonce, 'gone', 'chunk no longer held');
        counters.chunksDown++;
        return reply(res, 200, m.nonce, { [H.session]: id, [H.index]: String(index), [H.type]: c.type, [H.fin]: c.fin ? '1' : '0' }, c.data, c.digest);
      }
      const left = deadline - now();
      if (left <= 0 || signal.aborted) {
        counters.emptyPolls++;
        return reply(res, 204, m.nonce, { [H.session]: id, [H.index]: String(index) });
      }
      await o.store.wait(id, Math.min(left, 1000), signal);
    }
  }

  async function onClose(res: ServerResponse, id: string, m: Message): Promise<void> {
    const t = owned.get(id);
    t?.destroy('closed by client');
    const existed = await o.store.get(id);
    await o.store.remove(id);
    if (existed) counters.sessionsClosed++;
    reply(res, 204, m.nonce, { [H.session]: id });
  }

  async function stats(): Promise<Record<string, unknown>> {
    let census: { sessions: number; chunks: number; bytes: number } | undefined;
    try { census = await o.store.census(); } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
    }
    return formatRelayStats('relay-server', counters, startedAt, now(), {
      sessionsOpen: owned.size,
      store: { kind: o.store.kind, available: census !== undefined, refused: storeRefusals, ...census },
    });
  }

  const server = createHardenedServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error({ event: 'relay-server-error', err: (err as Error).message }, 'relay message failed');
      if (!res.headersSent) refuse(res, 500, '', 'internal', 'internal error');
      else res.destroy();
    });
  }, { log, requestTimeoutMs: o.pollTimeoutMs + 60_000 });

  return {
    server,
    stats,
    async close() {
      clearInterval(sweeper);
      // Graceful: no new sessions; open ones are served until they end (the grace timer calls destroy()).
      closing = true;
      while (owned.size > 0) await new Promise((r) => setTimeout(r, 100));
      for (const a of waiting) a.abort();
      await closeServer(server);
      agent.destroy();
      await o.store.close();
    },
    destroy() {
      for (const t of owned.values()) t.destroy('shutting down');
      for (const a of waiting) a.abort();
      server.closeAllConnections();
      agent.destroy();
    },
  };
}

/** Read a body of exactly `length` bytes (bounded by the caller); undefined if the client goes away. */
function readBody(req: IncomingMessage, length: number, into?: Buffer): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const buf = into && into.length >= length ? into.subarray(0, length) : Buffer.allocUnsafe(length);
    let n = 0;
    req.on('data', (c: Buffer) => {
      if (n + c.length > length) { req.destroy(); return; }
      c.copy(buf, n);
      n += c.length;
    });
    req.on('end', () => resolve(n === length ? buf : undefined));
    req.on('error', () => resolve(undefined));
    req.on('close', () => { if (!req.complete) resolve(undefined); });
  });
}
