/**
 * @module Redis URLs → an ioredis client, for the cache (`--cache`) and the relay store (`--store`): a single
 * server (`redis://`, `rediss://`), Redis Sentinel (`redis-sentinel://[[USER]:PASS@]HOST:PORT[,HOST:PORT…]/MASTER[/DB]`:
 * the sentinels to ask, the monitored master's name) and Redis Cluster (`redis-cluster://[[USER]:PASS@]HOST:PORT[,…]`:
 * seed nodes; the client learns the rest). Every form gets the bounded options of redis-options.ts, so a stall, a
 * failover or a resharding turns into failed commands within the command timeout, never a hung request.
 * Cluster mode needs every multi-key command and script on one hash slot: the stores put `{…}` hash tags in
 * their keys (docs/cache.md, docs/relay.md).
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { BOUNDED_REDIS_OPTIONS } from './redis-options.ts';
import { parseRedisUrl } from './redis-url.ts';

export type RedisClient = Redis | Cluster;
/** A client for `url` (already validated by parseRedisUrl), with the bounded options plus `extra`. */
export function createRedisClient(url: string, extra: RedisOptions = {}): RedisClient {
  const parsed = parseRedisUrl(url);
  if (!parsed.ok) throw new Error(`${url}: ${parsed.reason}`);
  const t = parsed.target;
  const options: RedisOptions = { ...BOUNDED_REDIS_OPTIONS, ...extra };
  if (t.kind === 'single') return new Redis(t.url, options);
  const auth = { ...(t.username ? { username: t.username } : {}), ...(t.password ? { password: t.password } : {}) };
  if (t.kind === 'sentinel') {
    // The same credentials for the sentinels and the data nodes (the common deployment); the master is found anew
    // after every disconnect, so a failover is followed by itself.
    return new Redis({ ...options, ...auth, ...(t.password ? { sentinelPassword: t.password } : {}), ...(t.username ? { sentinelUsername: t.username } : {}), sentinels: t.nodes, name: t.master, db: t.db });
  }
  const { enableOfflineQueue, lazyConnect, ...perNode } = options;
  return new Cluster(t.nodes, {
    redisOptions: { ...perNode, ...auth },
    enableOfflineQueue: enableOfflineQueue ?? false,
    ...(lazyConnect === undefined ? {} : { lazyConnect }),
    // bounded like the single-server client: a slot refresh that hangs must not hold commands
    slotsRefreshTimeout: 2_000,
  });
}
