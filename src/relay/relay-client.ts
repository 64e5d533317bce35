/**
 * @module relay-client: the application-side forward proxy. Absolute-form HTTP requests (relay-client-http.ts) and
 * CONNECT tunnels (relay-client-tunnel.ts) become relay sessions through the gateway; `/stats` answers locally.
 * This file holds the sessions, the server and its lifecycle.
 */
import type { TlsListenerOptions } from '../server/tls-listener.ts';
import type { UpstreamTls } from '../proxy/upstream-tls.ts';
import type http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { closeServer, createHardenedServer } from '../server/http-server.ts';
import type { Logger } from '../server/logger.ts';
import { acceptHooks } from '../server/connection.ts';
import { ClientSession } from './client-session.ts';
import { GatewayTransport, type SigV4Config } from './gateway-transport.ts';
import { chunkPayloadSize } from './protocol.ts';
import { HEAD_LIMITS, plain, relayRequest, type RelayClientContext } from './relay-client-http.ts';
import { relayTunnel } from './relay-client-tunnel.ts';
import { formatRelayStats, newRelayCounters } from './relay-stats.ts';
import { SlabPool } from './slab-pool.ts';
import { steadyNow } from '../util/clock.ts';
import { DEFAULT_SESSION_MEMORY, maxWindow, newPathEstimate } from './window-controller.ts';

export interface RelayClientOptions {
  gateway: URL;
  secret: Buffer | undefined;
  sigv4: SigV4Config | undefined;
  maxMessage: number;
  window: number;
  /** Chunk bytes one session may hold, both directions together (--session-memory); bounds the adaptive window. Default 32 MiB. */
  sessionMemory?: number | undefined;
  retries: number;
  pollTimeoutMs: number;
  statsPath: string;
  log: Logger;
  /** Listen over TLS (server/tls-listener.ts). */
  tls?: TlsListenerOptions | null;
  /** TLS settings for an https gateway (proxy/upstream-tls.ts). */
  gatewayTls?: UpstreamTls | null;
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
  /** Bytes of chunk slabs in use now (SlabPool.lentBytes; the `ferry` command's GC pacer reads it, relay-gc.ts). */
  slabBytesLent(): number;
  close(): Promise<void>;
  destroy(): void;
}

export function createRelayClient(o: RelayClientOptions): RelayClient {
  const counters = newRelayCounters();
  const startedAt = steadyNow();
  const log = o.log;
  const transport = new GatewayTransport({
    gateway: o.gateway, secret: o.secret, sigv4: o.sigv4, retries: o.retries, pollTimeoutMs: o.pollTimeoutMs,
    maxMessage: o.maxMessage, counters, log, ...(o.gatewayTls ? { tls: o.gatewayTls } : {}),
  });
  const chunkSize = chunkPayloadSize(o.maxMessage);
  const open = new Set<ClientSession>();
  // Up chunks are read into these slabs and down chunks copied into them: the source's 64 KiB pieces die young, and
  // the slabs live on instead of being promoted and needing major GCs (slab-pool.ts). --window free slabs are kept:
  // more, idle, were most of the RSS left after a transfer (issue 18); a session whose window grew allocates.
  const maxWin = maxWindow(o.window, o.sessionMemory ?? DEFAULT_SESSION_MEMORY, chunkSize);
  const slabs = new SlabPool(chunkSize, o.window);
  const paths = { up: newPathEstimate(), down: newPathEstimate() }; // one gateway: one path each way

  const stats = () => formatRelayStats('relay-client', counters, startedAt, steadyNow(), { sessionsOpen: open.size });
  const ctx: RelayClientContext = {
    log, statsPath: o.statsPath, stats,
    newSession() {
      const s = new ClientSession({ transport, window: o.window, maxWindow: maxWin, chunkSize, counters, slabs, onBodyBytes: o.onBodyBytes, paths });
      open.add(s);
      return s;
    },
    endSession(s, failed) {
      if (!open.delete(s)) return;
      if (failed) counters.sessionsFailed++;
      else counters.sessionsClosed++;
      void s.close();
    },
  };

  const server = createHardenedServer((req, res) => {
    relayRequest(ctx, req, res).catch((err: unknown) => {
      log.error({ event: 'relay-client-error', err: (err as Error).message }, 'unexpected relay-client failure');
      if (!res.headersSent) plain(res, 500, 'internal error');
      else res.destroy();
    });
  }, { log, ...acceptHooks(HEAD_LIMITS.maxHeadersCount), ...(o.tls ? { tls: o.tls } : {}) });
  // Without this listener Node answers 100 Continue itself, before the head was checked.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => server.emit('request', req, res));
  // Uploads of any size pass through: no deadline on receiving a whole request body (idle timeouts still apply).
  server.requestTimeout = 0;
  server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    relayTunnel(ctx, req, socket, head).catch((err: unknown) => {
      log.error({ event: 'relay-client-error', err: (err as Error).message }, 'unexpected tunnel failure');
      socket.destroy();
    });
  });

  return {
    server,
    stats,
    slabBytesLent: () => slabs.lentBytes,
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
