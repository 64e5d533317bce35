/**
 * @module What one configuration generation of a proxy hands on to the next (src/reload/proxy-switch.ts): filters
 * built from options that did not change are reused rather than rebuilt, so a reload keeps the JWT key ring (with
 * its rotation grace, docs/features.md) and the cache's store. Keyed by slot; the key is the options a slot was built
 * from.
 */
import type { JwtOptions } from './options.ts';
import type { ProxyFilter } from './phases.ts';

/** A filter (or a pair) a configuration generation shares with the next one when its options did not change. */
export interface Carried { key: string; value: Promise<unknown>; filters: Promise<ProxyFilter[]> }

/**
 * Reuse `previous`'s `slot` when it was built from the same `key`, else `make()` it; record it in `carried` for the
 * next generation. `filtersOf` names the filters the value consists of (which a closing generation must not close
 * while a later one still uses them).
 */
export function carry<T>(previous: ReadonlyMap<string, Carried> | undefined, carried: Map<string, Carried> | undefined,
  slot: string, key: string, make: () => Promise<T>, filtersOf: (v: T) => ProxyFilter[]): Promise<T> {
  const before = previous?.get(slot);
  const value = before !== undefined && before.key === key ? before.value as Promise<T> : make();
  carried?.set(slot, { key, value, filters: value.then(filtersOf, () => []) });
  return value;
}

/** The same filter without its route phase (its endpoint is served on another listener, the admin listener). */
export function withoutRoute<F extends ProxyFilter>(f: F): F {
  return Object.assign(Object.create(f) as F, { route: undefined });
}

/** Two JWT configurations sign alike when every option is the same (the key file's content is re-read on reload). */
export function jwtKey(jwt: JwtOptions): string {
  return JSON.stringify({ ...jwt, secret: jwt.secret ? Buffer.from(jwt.secret).toString('base64') : null });
}
