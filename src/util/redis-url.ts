/**
 * @module The Redis URL forms `--cache` and `--store` accept (redis-connect.ts connects to them), parsed without
 * loading ioredis: a command checks its flags, and a process that names no Redis never loads the client (relay-server
 * with the memory store, ioredis and the node:tls it loads: 77.2 → 68.4 MiB of RSS at rest, docs/performance.md "Relay
 * roles at rest").
 */
export type RedisTarget =
  | { kind: 'single'; url: string }
  | { kind: 'sentinel'; nodes: Array<{ host: string; port: number }>; master: string; db: number; username?: string; password?: string }
  | { kind: 'cluster'; nodes: Array<{ host: string; port: number }>; username?: string; password?: string };

export const REDIS_URL_FORMS = 'redis://HOST:PORT[/DB], rediss://…, redis-sentinel://HOST:PORT[,HOST:PORT…]/MASTER[/DB] or redis-cluster://HOST:PORT[,HOST:PORT…]';

/** Whether `text` names a Redis (any of the forms); whether it is well-formed is parseRedisUrl's to say. */
export function isRedisUrl(text: string): boolean {
  return /^(rediss?|redis-sentinel|redis-cluster):\/\//.test(text);
}

/** `text` as a RedisTarget, or a reason it is not one (for a usage error, exit 2). */
export function parseRedisUrl(text: string): { ok: true; target: RedisTarget } | { ok: false; reason: string } {
  const m = /^(rediss?|redis-sentinel|redis-cluster):\/\/(?:([^@/]*)@)?([^/]*)(\/.*)?$/.exec(text);
  if (m === null) return { ok: false, reason: `expected ${REDIS_URL_FORMS}` };
  const [, scheme, auth, hosts, path = ''] = m as unknown as [string, string, string | undefined, string, string | undefined];
  if (scheme === 'redis' || scheme === 'rediss') {
    try { new URL(text); } catch { return { ok: false, reason: 'not a valid redis:// URL' }; }
    return { ok: true, target: { kind: 'single', url: text } };
  }
  const nodes: Array<{ host: string; port: number }> = [];
  for (const part of hosts.split(',')) {
    const hp = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(part.trim());
    if (hp === null || Number(hp[2]) < 1 || Number(hp[2]) > 65535) return { ok: false, reason: `"${part}" is not HOST:PORT` };
    nodes.push({ host: hp[1]!.replace(/^\[|\]$/g, ''), port: Number(hp[2]) });
  }
  const credentials: { username?: string; password?: string } = {};
  if (auth !== undefined && auth !== '') {
    const i = auth.indexOf(':');
    const user = decodeURIComponent(i < 0 ? '' : auth.slice(0, i));
    const pass = decodeURIComponent(i < 0 ? auth : auth.slice(i + 1));
    if (user !== '') credentials.username = user;
    if (pass !== '') credentials.password = pass;
  }
  const segments = path.split('/').filter((s) => s !== '');
  if (scheme === 'redis-cluster') {
    if (segments.length > 0) return { ok: false, reason: 'redis-cluster:// takes no path (a cluster has one database)' };
    return { ok: true, target: { kind: 'cluster', nodes, ...credentials } };
  }
  if (segments.length === 0 || segments.length > 2) return { ok: false, reason: 'redis-sentinel:// needs the master name: redis-sentinel://HOST:PORT/MASTER[/DB]' };
  const db = segments[1] === undefined ? 0 : Number(segments[1]);
  if (!Number.isInteger(db) || db < 0 || db > 15) return { ok: false, reason: `database "${segments[1]}" is not 0–15` };
  return { ok: true, target: { kind: 'sentinel', nodes, master: decodeURIComponent(segments[0]!), db, ...credentials } };
}
