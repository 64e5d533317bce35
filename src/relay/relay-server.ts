/**
 * @module relay-server: the far end of the relay, behind the gateway. Authenticates every message,
 * hands chunks to the session's owner through the store, long-polls down chunks, serves /stats.
 *
 * This file holds the lifecycle (sweeps, /stats, graceful close); a message is handled by relay-message.ts from the
 * pure decisions of relay-decisions.ts, the endpoints live in relay-endpoints.ts, the reply writer in relay-reply.ts.
 */
import type { TlsListenerOptions } from '../server/tls-listener.ts';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse, Server } from 'node:http';
import { http } from '../http/node-http.ts';
import { closeServer, createHardenedServer } from '../server/http-server.ts';
import type { Logger } from '../server/logger.ts';
import { chunkPayloadSize } from './protocol.ts';
import { refusal, type Refusal } from './relay-decisions.ts';
import { handleMessage, noteRefusal, type MessageContext } from './relay-message.ts';
import { createReplyWriter } from './relay-reply.ts';
import { formatRelayStats, newRelayCounters, type RelayCounters } from './relay-stats.ts';
import { StoreUnavailableError, type SessionStore } from './session-store.ts';
import { SlabPool } from './slab-pool.ts';
import { DEFAULT_SESSION_MEMORY, maxWindow } from './window-controller.ts';
import type { TargetSession } from './target-session.ts';
import { steadyNow } from '../util/clock.ts';

export interface RelayServerOptions {
  store: SessionStore;
  maxMessage: number;
  /** HMAC secret; undefined only with `insecureGatewayAuthOnly`. */
  secret: Buffer | undefined;
  insecureGatewayAuthOnly: boolean;
  sessionTtlMs: number;
  pollTimeoutMs: number;
  window: number;
  /** Chunk bytes one session may hold, both directions together (--session-memory); bounds the window. Default 32 MiB. */
  sessionMemory?: number | undefined;
  /** Ports CONNECT may reach; undefined: any. */
  connectPorts: readonly number[] | undefined;
  statsPath: string;
  log: Logger;
  /** Listen over TLS (server/tls-listener.ts). */
  tls?: TlsListenerOptions | null;
  now?: () => number;
  /**
   * Called with the size of every body chunk relayed (both directions). The library does nothing with body sizes on
   * its own; the `ferry` command installs a scavenge pacer here (relay-gc.ts). An embedding process keeps its own
   * heap behaviour unless it asks for the same.
   */
  onBodyBytes?: ((bytes: number) => void) | undefined;
}

export interface RelayServer {
  server: Server;
  stats(): Promise<Record<string, unknown>>;
  /** Bytes of chunk slabs in use now (SlabPool.lentBytes; the `ferry` command's GC pacer reads it, relay-gc.ts). */
  slabBytesLent(): number;
  close(): Promise<void>;
  destroy(): void;
}

export function createRelayServer(o: RelayServerOptions): RelayServer {
  if (!o.secret && !o.insecureGatewayAuthOnly) throw new Error('relay-server needs a secret (or insecureGatewayAuthOnly)');
  // `now` is the wall clock the signed timestamps need (RELIABILITY L2); uptime is a duration.
  const now = o.now ?? Date.now;
  const startedAt = steadyNow();
  const counters = newRelayCounters();
  const owned = new Map<string, TargetSession>();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const chunkSize = chunkPayloadSize(o.maxMessage);
  const log = o.log;
  const waiting = new Set<AbortController>();
  let closing = false;
  /** Messages answered 503 because the store could not answer (shown in /stats). */
  let storeRefusals = 0;
  const writer = createReplyWriter(o.secret, () => closing);
  const ctx: MessageContext = {
    store: o.store, window: maxWindow(o.window, o.sessionMemory ?? DEFAULT_SESSION_MEMORY, chunkSize), chunkSize, pollTimeoutMs: o.pollTimeoutMs, instance: randomUUID(), agent, log, counters, owned,
    // Up bodies (up to --max-message) and down chunks (chunkSize, a little less) share one pool. It keeps --window
    // free slabs: more, idle, were most of the RSS left after a transfer (issue 18); a larger window allocates.
    slabs: new SlabPool(o.maxMessage, o.window),
    writer, closing: () => closing, now, onBodyBytes: o.onBodyBytes,
    early: { messages: 0, bytes: 0 }, earlyMaxBytes: 2 * (o.sessionMemory ?? DEFAULT_SESSION_MEMORY),
    secret: o.secret, statsPath: o.statsPath, maxMessage: o.maxMessage, connectPorts: o.connectPorts, waiting,
    refuse(res: ServerResponse, r: Refusal, nonce: string, session?: string, remote?: string) {
      if (r.code === 'store') storeRefusals++;
      noteRefusal(counters, log, r, session, remote);
      writer.refuse(res, r, nonce);
    },
    async sendStats(res: ServerResponse) {
      const body = Buffer.from(JSON.stringify(await stats()));
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': body.length });
      res.end(body);
    },
  };
  const sweeper = startSweeper(o.store, owned, counters, log, o.sessionTtlMs);

  async function stats(): Promise<Record<string, unknown>> {
    let census: { sessions: number; chunks: number; bytes: number } | undefined;
    try { census = await o.store.census(); } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
    }
    return formatRelayStats('relay-server', counters, startedAt, steadyNow(), {
      sessionsOpen: owned.size,
      store: { kind: o.store.kind, available: census !== undefined, refused: storeRefusals, ...census },
      // messages held now waiting for their session's open, and their body bytes (relay-decisions.ts admitEarly)
      early: { held: ctx.early.messages, bytes: ctx.early.bytes },
    });
  }

  const server = createHardenedServer((req, res) => {
    handleMessage(ctx, req, res).catch((err: unknown) => {
      log.error({ event: 'relay-server-error', err: (err as Error).message }, 'relay message failed');
      if (!res.headersSent) ctx.refuse(res, refusal('internal', 500, 'internal error', false), '');
      else res.destroy();
    });
  }, { log, requestTimeoutMs: o.pollTimeoutMs + 60_000, ...(o.tls ? { tls: o.tls } : {}) });

  return {
    server,
    stats,
    slabBytesLent: () => ctx.slabs.lentBytes,
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

/** Expire idle sessions: the store drops them, and this instance frees the target connections it owns for them. */
function startSweeper(store: SessionStore, owned: Map<string, TargetSession>, counters: RelayCounters, log: Logger, ttlMs: number): NodeJS.Timeout {
  async function sweep(): Promise<void> {
    try {
      // Taken before the sweep: a pump waiting on the store may notice the session gone (and end it) before this loop
      // does; it still expired. A session that ended for its own reason (closed, failed) is not counted.
      const mine = [...owned];
      await store.sweep();
      for (const [id, s] of mine) {
        if (s.endReason !== undefined && s.endReason !== 'session gone') continue;
        if (!(await store.get(id))) {
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
  const sweeper = setInterval(() => { void sweep(); }, Math.min(Math.max(Math.floor(ttlMs / 4), 100), 10_000));
  sweeper.unref();
  return sweeper;
}
