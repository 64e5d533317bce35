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
import { NONCE_TTL_MS } from './hmac.ts';
import { chunkPayloadSize, RELAY_PATHS } from './protocol.ts';
import { acceptMessage, decideDispatch, decideRoute, refusal, REPLAY_REFUSAL, type Refusal } from './relay-decisions.ts';
import { runEndpoint, type EndpointContext } from './relay-endpoints.ts';
import { createReplyWriter, readBody } from './relay-reply.ts';
import { formatRelayStats, newRelayCounters } from './relay-stats.ts';
import { StoreUnavailableError, type SessionStore } from './session-store.ts';
import { SlabPool } from './slab-pool.ts';
import type { TargetSession } from './target-session.ts';

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
  /**
   * Called with the size of every body chunk relayed (both directions). The library does nothing with body sizes on
   * its own; the `ferry` command installs a scavenge pacer here (relay-gc.ts). An embedding process keeps its own
   * heap behaviour unless it asks for the same.
   */
  onBodyBytes?: ((bytes: number) => void) | undefined;
}

export interface RelayServer {
  server: http.Server;
  stats(): Promise<Record<string, unknown>>;
  close(): Promise<void>;
  destroy(): void;
}

export function createRelayServer(o: RelayServerOptions): RelayServer {
  if (!o.secret && !o.insecureGatewayAuthOnly) throw new Error('relay-server needs a secret (or insecureGatewayAuthOnly)');
  const now = o.now ?? Date.now;
  const startedAt = now();
  const counters = newRelayCounters();
  const owned = new Map<string, TargetSession>();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const chunkSize = chunkPayloadSize(o.maxMessage);
  const log = o.log;
  /** Requests that may be waiting (long polls, full windows): shutdown ends them at once instead of after a poll. */
  const waiting = new Set<AbortController>();
  let closing = false;
  /** Messages answered 503 because the store could not answer (shown in /stats). */
  let storeRefusals = 0;
  const writer = createReplyWriter(o.secret, () => closing);
  const ctx: EndpointContext = {
    store: o.store, window: o.window, chunkSize, pollTimeoutMs: o.pollTimeoutMs, instance: randomUUID(), agent, log, counters, owned,
    // Up bodies (up to --max-message) and down chunks (chunkSize, a little less) share one pool: a window per direction.
    slabs: new SlabPool(o.maxMessage, 4 * o.window),
    writer, closing: () => closing, now, refuse, onBodyBytes: o.onBodyBytes,
  };

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

  /** The one place a refusal is counted and logged, by its code; then written. */
  function refuse(res: ServerResponse, r: Refusal, nonce: string, session?: string, remote?: string): void {
    switch (r.code) {
      case 'auth': case 'skew': counters.authRefused++; log.warn({ event: 'relay-auth-refused', reason: r.detail ?? r.code, remote }, 'relay message refused'); break;
      case 'replay': counters.replays++; log.warn({ event: 'relay-replay', remote }, 'replayed relay message refused'); break;
      case 'checksum': counters.corrupt++; log.info({ event: 'relay-checksum-mismatch' }, 'chunk digest mismatch; client will resend'); break;
      case 'port': log.info({ event: 'relay-connect-refused', reason: r.reason }, 'CONNECT port not allowed'); break;
      case 'conflict': counters.conflicts++; log.warn({ event: 'relay-conflict', session, reason: r.reason }, 'session or chunk re-sent with different bytes'); break;
      case 'target': counters.sessionsFailed++; break;
      case 'store': storeRefusals++; break;
      default: break;
    }
    writer.refuse(res, r, nonce);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    const route = decideRoute(req.method, path, req.headers['content-length'], o.statsPath, o.maxMessage);
    if (route.kind === 'stats') return sendStats(res);
    if (route.kind === 'refuse') return refuse(res, route, '');
    const { endpoint, length } = route;
    // Up chunks (the large bodies) are read into reused slabs; given back once nothing reads them.
    const body = await readBody(req, length, length > 0 && endpoint === RELAY_PATHS.up ? ctx.slabs.take() : undefined);
    if (!body) return; // client went away
    const get = (n: string) => { const v = req.headers[n]; return Array.isArray(v) ? v.join(',') : v; };
    const remote = req.socket.remoteAddress;
    const accepted = acceptMessage({ endpoint, body, names: Object.keys(req.headers), get, secret: o.secret, nowMs: now() });
    if (accepted.kind === 'refuse') return refuse(res, accepted, '', undefined, remote);
    const { nonce, digest } = accepted;
    try {
      if (o.secret && !(await o.store.claimNonce(nonce, NONCE_TTL_MS))) return refuse(res, REPLAY_REFUSAL, nonce, undefined, remote);
      const d = decideDispatch(endpoint, get, body, o.connectPorts);
      if (d.kind === 'refuse') return refuse(res, d, nonce);
      const abort = new AbortController();
      waiting.add(abort);
      res.on('close', () => { waiting.delete(abort); abort.abort(); });
      await runEndpoint(ctx, res, d, { body, digest, nonce }, abort.signal);
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      // (an up chunk's slab is left to the GC: it may have been given back already)
      return refuse(res, refusal('store', 503, err.message), nonce);
    }
  }

  async function sendStats(res: ServerResponse): Promise<void> {
    const body = Buffer.from(JSON.stringify(await stats()));
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': body.length });
    res.end(body);
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
      if (!res.headersSent) refuse(res, refusal('internal', 500, 'internal error', false), '');
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
