/** @module The counters of both relay roles, as shown at /stats. Pure; no I/O. */

export interface RelayCounters {
  sessionsOpened: number;
  sessionsClosed: number;
  sessionsExpired: number;
  sessionsFailed: number;
  chunksUp: number;
  chunksDown: number;
  bytesUp: number;
  bytesDown: number;
  duplicates: number;
  conflicts: number;
  corrupt: number;
  retries: number;
  authRefused: number;
  replays: number;
  emptyPolls: number;
}

export function newRelayCounters(): RelayCounters {
  return {
    sessionsOpened: 0, sessionsClosed: 0, sessionsExpired: 0, sessionsFailed: 0,
    chunksUp: 0, chunksDown: 0, bytesUp: 0, bytesDown: 0,
    duplicates: 0, conflicts: 0, corrupt: 0, retries: 0, authRefused: 0, replays: 0, emptyPolls: 0,
  };
}

export function formatRelayStats(
  role: 'relay-client' | 'relay-server', c: RelayCounters, startedAtMs: number, nowMs: number,
  extra: { sessionsOpen: number; store?: Record<string, unknown>; early?: Record<string, number> },
): Record<string, unknown> {
  return {
    role,
    startedAt: new Date(startedAtMs).toISOString(),
    uptimeSeconds: Math.floor((nowMs - startedAtMs) / 1000),
    sessions: { open: extra.sessionsOpen, opened: c.sessionsOpened, closed: c.sessionsClosed, expired: c.sessionsExpired, failed: c.sessionsFailed },
    chunks: { up: c.chunksUp, down: c.chunksDown, duplicates: c.duplicates, conflicts: c.conflicts, corrupt: c.corrupt, retries: c.retries, emptyPolls: c.emptyPolls },
    bytes: { up: c.bytesUp, down: c.bytesDown },
    auth: { refused: c.authRefused, replays: c.replays },
    ...(extra.store ? { store: extra.store } : {}),
    ...(extra.early ? { early: extra.early } : {}),
  };
}
