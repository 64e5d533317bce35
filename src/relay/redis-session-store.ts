/**
 * @module The Redis session store: several relay-server instances behind one gateway share sessions.
 *
 * Hand-off design (keys + pub/sub, not Redis streams): chunk bytes and session state live in plain keys
 * with TTLs, written atomically by small Lua scripts (dedup, window and counters decided in one step);
 * a PUBLISH on one channel carries only "session X changed". Each instance keeps a single subscriber
 * connection and wakes its local waiters (the owner's pumps, long polls), which then re-read the keys.
 * Why not streams: XREAD BLOCK needs a blocking connection per waiting reader, and stream entries
 * would duplicate what the per-index keys already give (random access for re-fetches, idempotent
 * re-sends, deletion on ack). Pub/sub loses messages when nobody listens, which is harmless here:
 * state is in the keys and every wait is bounded, so a lost hint costs one wait bound, never data.
 *
 * Every command is bounded (util/redis-options.ts: 1 s per command, no offline queue): a stalled or absent Redis
 * turns into a StoreUnavailableError within about a second, which relay-server answers with a retryable 503. The
 * outage is logged once when the first command fails and once when a command succeeds again (issue 17: once per
 * outage, not per request).
 */
import { Cluster, type Redis } from 'ioredis';
import type { Logger } from '../server/logger.ts';
import { createRedisClient, type RedisClient } from '../util/redis-connect.ts';
import type { DownType } from './protocol.ts';
import { MONOTONIC_FIELDS, type SessionMeta, type SessionPatch } from './session.ts';
import { NO_RELEASE, StoreUnavailableError, Waiters, type CreateResult, type DownChunk, type PutUpResult, type Release, type SessionStore, type UpChunk } from './session-store.ts';

const PREFIX = 'ferry:relay:';
const CHANNEL = 'ferry:relay:events';
// `{id}`: a Redis Cluster hash tag, so a session's keys share one slot — the PUT_UP script and the MULTI/DEL calls
// that touch several of them work on a cluster (redis-connect.ts).
const k = {
  meta: (id: string) => `${PREFIX}s:{${id}}:meta`,
  upfp: (id: string) => `${PREFIX}s:{${id}}:upfp`,
  up: (id: string, i: number) => `${PREFIX}s:{${id}}:up:${i}`,
  down: (id: string, i: number) => `${PREFIX}s:{${id}}:down:${i}`,
  nonce: (n: string) => `${PREFIX}nonce:${n}`,
};

const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('HGETALL', KEYS[1]) end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 'created'`;

/** ARGV: ttl, then (field, value, mode) triples; mode 'max' only raises a counter. */
const PATCH = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 2, #ARGV, 3 do
  local f, v, mode = ARGV[i], ARGV[i+1], ARGV[i+2]
  if mode == 'max' then
    local old = tonumber(redis.call('HGET', KEYS[1], f) or '0')
    if tonumber(v) > old then redis.call('HSET', KEYS[1], f, v) end
  else
    redis.call('HSET', KEYS[1], f, v)
  end
end
return 1`;

/** KEYS: meta, upfp, up:i. ARGV: index, fingerprint, data, window, chunk ttl. Mirrors session.decideUpChunk. */
const PUT_UP = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'gone' end
local prev = redis.call('HGET', KEYS[2], ARGV[1])
if prev then
  if prev == ARGV[2] then return 'duplicate' else return 'conflict' end
end
local delivered = tonumber(redis.call('HGET', KEYS[1], 'upDelivered') or '0')
if tonumber(ARGV[1]) >= delivered + tonumber(ARGV[4]) then return 'busy' end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
redis.call('SET', KEYS[3], ARGV[3], 'PX', ARGV[5])
return 'stored'`;

const NUMERIC = new Set<string>(['failStatus', ...MONOTONIC_FIELDS]);

function metaFromHash(h: Record<string, string>): SessionMeta | undefined {
  if (!h.id) return undefined;
  const out: Record<string, string | number> = {};
  for (const [f, v] of Object.entries(h)) out[f] = NUMERIC.has(f) ? Number(v) : v;
  return out as unknown as SessionMeta;
}

export interface RedisSessionStoreOptions {
  /** Where the outage and recovery lines go (the relay-server's logger). */
  log?: Logger;
}

export class RedisSessionStore implements SessionStore {
  readonly kind = 'redis' as const;
  readonly #redis: RedisClient;
  readonly #sub: RedisClient;
  readonly #waiters = new Waiters();
  readonly #ttlMs: number;
  readonly #log: Logger | undefined;
  /** Start of the current outage (performance.now()), and the commands that failed in it; undefined while healthy. */
  #downSince: number | undefined;
  #failedInOutage = 0;

  private constructor(redis: RedisClient, sub: RedisClient, ttlMs: number, log: Logger | undefined) {
    this.#redis = redis;
    this.#sub = sub;
    this.#ttlMs = ttlMs;
    this.#log = log;
  }

  static async connect(url: string, ttlMs: number, options: RedisSessionStoreOptions = {}): Promise<RedisSessionStore> {
    const redis = createRedisClient(url, { lazyConnect: true });
    // Connection trouble surfaces as failed commands (StoreUnavailableError, logged once per outage); ioredis
    // reconnects by itself.
    redis.on('error', () => { /* see above */ });
    await redis.connect();
    const sub = createRedisClient(url, { lazyConnect: true });
    sub.on('error', () => { /* see above; the subscription is renewed on reconnect (autoResubscribe) */ });
    try {
      await sub.connect();
      await sub.subscribe(CHANNEL);
    } catch (err) {
      redis.disconnect();
      sub.disconnect();
      throw err;
    }
    const store = new RedisSessionStore(redis, sub, ttlMs, options.log);
    sub.on('message', (_channel: string, id: string) => store.#waiters.wake(id));
    return store;
  }

  /**
   * Run one Redis call: failures become StoreUnavailableError; the first failure and the first success after are
   * logged. Only a call sent after the outage began shows it is over: one sent before may still be answered after
   * another's failure was seen, and counting it logged the outage twice, 5 ms apart (seen in CI).
   */
  async #do<T>(call: Promise<T>): Promise<T> {
    const sentAt = performance.now();
    let value: T;
    try {
      value = await call;
    } catch (err) {
      throw this.#failed(err as Error);
    }
    if (this.#downSince !== undefined && sentAt > this.#downSince) this.#recovered();
    return value;
  }

  #failed(err: Error): StoreUnavailableError {
    this.#failedInOutage++;
    if (this.#downSince === undefined) {
      this.#downSince = performance.now();
      this.#log?.warn({ event: 'relay-store-unavailable', store: 'redis', err: err.message },
        `session store (Redis) unavailable: ${err.message}; relay messages are answered 503 (retryable) until it returns`);
    }
    return new StoreUnavailableError(`session store (Redis) unavailable: ${err.message}`, { cause: err });
  }

  #recovered(): void {
    const downMs = Math.round(performance.now() - this.#downSince!);
    this.#log?.info({ event: 'relay-store-recovered', store: 'redis', downMs, failedCommands: this.#failedInOutage }, 'session store (Redis) is back');
    this.#downSince = undefined;
    this.#failedInOutage = 0;
  }

  get #chunkTtl(): number { return 2 * this.#ttlMs; }

  async create(meta: SessionMeta): Promise<CreateResult> {
    const fields = Object.entries(meta).flatMap(([f, v]) => [f, String(v)]);
    const r = await this.#do(this.#redis.eval(CREATE, 1, k.meta(meta.id), this.#ttlMs, ...fields)) as string | string[];
    if (r === 'created') {
      this.notify(meta.id); // wakes messages that overtook their open, on any instance (relay-decisions.ts decideArrival)
      return { kind: 'created' };
    }
    const h: Record<string, string> = {};
    const arr = r as string[];
    for (let i = 0; i + 1 < arr.length; i += 2) h[arr[i]!] = arr[i + 1]!;
    const existing = metaFromHash(h);
    return existing ? { kind: 'exists', meta: existing } : { kind: 'created' };
  }

  async get(id: string): Promise<SessionMeta | undefined> {
    return metaFromHash(await this.#do(this.#redis.hgetall(k.meta(id))));
  }

  async update(id: string, patch: SessionPatch): Promise<void> {
    const args: Array<string | number> = [];
    for (const [f, v] of Object.entries(patch)) {
      if (v === undefined) continue;
      args.push(f, String(v), (MONOTONIC_FIELDS as readonly string[]).includes(f) ? 'max' : 'set');
    }
    await this.#do(this.#redis.eval(PATCH, 1, k.meta(id), this.#ttlMs, ...args));
    this.notify(id);
  }

  async touch(id: string): Promise<void> {
    await this.#do(this.#redis.multi().pexpire(k.meta(id), this.#ttlMs).pexpire(k.upfp(id), this.#chunkTtl).exec());
  }

  /** Redis holds a copy: lent bytes are given back as soon as the command answered (busy: the caller keeps them). */
  async putUp(id: string, index: number, fingerprint: string, data: Buffer, window: number, release: Release = NO_RELEASE): Promise<PutUpResult> {
    const r = await this.#do(this.#redis.eval(PUT_UP, 3, k.meta(id), k.upfp(id), k.up(id, index), index, fingerprint, data, window, this.#chunkTtl)) as string;
    if (r !== 'busy') release();
    if (r === 'stored') { this.notify(id); return { kind: 'stored' }; }
    if (r === 'duplicate' || r === 'conflict' || r === 'busy' || r === 'gone') return { kind: r };
    throw new Error(`unexpected store answer ${r}`);
  }

  async takeUp(id: string, index: number): Promise<UpChunk | undefined> {
    const [data, fp] = await this.#do(Promise.all([this.#redis.getBuffer(k.up(id, index)), this.#redis.hget(k.upfp(id), String(index))]));
    if (data === null || fp === null) return undefined;
    await this.#do(this.#redis.del(k.up(id, index)));
    return { data, fin: fp.endsWith(';fin'), release: NO_RELEASE };
  }

  async putDown(id: string, index: number, chunk: DownChunk, release: Release = NO_RELEASE): Promise<void> {
    const data = Buffer.concat(chunk.data, chunk.length);
    release(); // the concatenation is the copy
    await this.#do(this.#redis.multi()
      .hset(k.down(id, index), { type: chunk.type, fin: chunk.fin ? '1' : '0', digest: chunk.digest, data })
      .pexpire(k.down(id, index), this.#chunkTtl)
      .exec());
    await this.update(id, { downProduced: index + 1 });
  }

  async getDown(id: string, index: number): Promise<DownChunk | undefined> {
    const h = await this.#do(this.#redis.hgetallBuffer(k.down(id, index)));
    if (!h.type || !h.data || !h.digest) return undefined;
    return { type: h.type.toString() as DownType, fin: h.fin?.toString() === '1', digest: h.digest.toString(), data: [h.data], length: h.data.length };
  }

  async ackDown(id: string, ackedBelow: number): Promise<void> {
    const meta = await this.get(id);
    if (!meta || ackedBelow <= meta.downAcked) return;
    const keys: string[] = [];
    for (let i = meta.downAcked; i < ackedBelow; i++) keys.push(k.down(id, i));
    if (keys.length) await this.#do(this.#redis.del(...keys));
    await this.update(id, { downAcked: ackedBelow });
  }

  async remove(id: string): Promise<void> {
    const meta = await this.get(id);
    const keys = [k.meta(id), k.upfp(id)];
    if (meta) {
      for (let i = meta.downAcked; i < meta.downProduced; i++) keys.push(k.down(id, i));
      for (let i = meta.upDelivered; i < meta.upDelivered + 64; i++) keys.push(k.up(id, i));
    }
    await this.#do(this.#redis.del(...keys));
    this.notify(id);
  }

  async claimNonce(nonce: string, ttlMs: number): Promise<boolean> {
    return (await this.#do(this.#redis.set(k.nonce(nonce), '1', 'PX', ttlMs, 'NX'))) === 'OK';
  }

  notify(id: string): void {
    this.#waiters.wake(id);
    this.#redis.publish(CHANNEL, id).catch(() => { /* a lost hint costs one wait bound */ });
  }

  wait(id: string, ms: number, signal?: AbortSignal): Promise<void> {
    return this.#waiters.wait(id, ms, signal);
  }

  async sweep(): Promise<void> { /* key TTLs expire idle sessions */ }

  async census(): Promise<{ sessions: number; chunks: number; bytes: number }> {
    let sessions = 0;
    let chunks = 0;
    // A cluster's keys are spread over its masters: scan each.
    const nodes: Redis[] = this.#redis instanceof Cluster ? this.#redis.nodes('master') : [this.#redis];
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await this.#do(node.scan(cursor, 'MATCH', `${PREFIX}s:*`, 'COUNT', 500));
        cursor = next;
        for (const key of keys) {
          if (key.endsWith(':meta')) sessions++;
          else if (/:(up|down):\d+$/.test(key)) chunks++;
        }
      } while (cursor !== '0');
    }
    return { sessions, chunks, bytes: -1 };
  }

  async close(): Promise<void> {
    this.#sub.disconnect();
    await this.#redis.quit().catch(() => undefined);
  }
}
