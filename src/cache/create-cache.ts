/**
 * @module Options → cache filter: `--cache` spec → store, `--cache-purge-token-file` → token. Config errors are
 * UsageErrors found once at startup (exit 2).
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.ts';
import { createCacheFilter, type CacheFilter } from './cache-filter.ts';
import { createDiskStore } from './disk-store.ts';
import { createMemoryStore } from './memory-store.ts';
import { createRedisStore } from './redis-store.ts';
import { UNKEYED_REQUEST_FIELDS } from './policy.ts';
import { parseStoreSpec, type CacheStore, type StoreSpec } from './store.ts';

export interface CacheFlags { cache?: string; cachePurgeTokenFile?: string }

/** Flags → the two ProxyOptions fields; validates the spec now so a typo fails before the server starts. */
export function resolveCacheOptions(flags: CacheFlags): { cache: string | null; cachePurgeToken: string | null } {
  const cache = flags.cache === undefined || flags.cache === '' ? null : flags.cache;
  if (cache !== null) parseStoreSpec(cache);
  let cachePurgeToken: string | null = null;
  if (flags.cachePurgeTokenFile !== undefined) {
    let text: string;
    try { text = readFileSync(flags.cachePurgeTokenFile, 'utf8'); } catch (err) {
      throw new UsageError(`--cache-purge-token-file ${flags.cachePurgeTokenFile}: ${(err as Error).message}`);
    }
    cachePurgeToken = text.trim();
    if (cachePurgeToken.length < 16) throw new UsageError('--cache-purge-token-file: the token must be at least 16 characters');
  }
  return { cache, cachePurgeToken };
}

export async function createStore(spec: StoreSpec): Promise<CacheStore> {
  switch (spec.kind) {
    case 'memory': return createMemoryStore(spec.maxBytes);
    case 'disk': return createDiskStore(spec.dir, spec.maxBytes);
    case 'redis': return createRedisStore(spec.url);
  }
}

/** The filter createProxy puts in its list when `options.cache` is set. */
export async function createCacheFilterFromOptions(options: { cache: string; cachePurgeToken: string | null; forwarded?: boolean }): Promise<CacheFilter> {
  const store = await createStore(parseStoreSpec(options.cache));
  // With --forwarded, ferry appends to the client's Forwarded and leaves its X-Forwarded-* alone: unkeyed too.
  const unkeyed = options.forwarded === true
    ? [...UNKEYED_REQUEST_FIELDS, 'x-forwarded-host', 'x-forwarded-proto']
    : UNKEYED_REQUEST_FIELDS;
  return createCacheFilter({ store, purgeToken: options.cachePurgeToken, unkeyedRequestFields: unkeyed });
}
