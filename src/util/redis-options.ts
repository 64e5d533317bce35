/**
 * @module The ioredis options every ferry Redis client uses, so that no request waits on a stalled or absent Redis:
 * each command fails after 1 s (`commandTimeout`, also when redis-server is paused and its socket stays open), a
 * connection attempt after 2 s, and while disconnected commands fail at once instead of queueing (no offline queue;
 * one retry after a reconnect). The callers turn those failures into a cache bypass (cache) or a retryable 503
 * (relay-server). See docs/cache.md and docs/relay.md, "When Redis stalls".
 */
import type { RedisOptions } from 'ioredis';

export const REDIS_COMMAND_TIMEOUT_MS = 1_000;
export const REDIS_CONNECT_TIMEOUT_MS = 2_000;

export const BOUNDED_REDIS_OPTIONS: Readonly<RedisOptions> = Object.freeze({
  maxRetriesPerRequest: 1,
  enableOfflineQueue: false,
  connectTimeout: REDIS_CONNECT_TIMEOUT_MS,
  commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
});
