/**
 * @module The balancing policies of a pool, pure: smooth weighted round-robin (nginx's algorithm), least-requests with
 * the power of two choices, and consistent hashing on a ring with bounded load. Each picks one index among the targets
 * `eligible` says may take a request (healthy, not ejected, not already tried for this request).
 */

export type Eligible = (index: number) => boolean;

export interface Balancer {
  /** The chosen target index, or -1 when no target is eligible. `key` is the hash key (consistent-hash only). */
  pick(eligible: Eligible, key: string): number;
}

/**
 * Smooth weighted round-robin (nginx ngx_http_upstream_get_peer): every pick adds each eligible target's weight to its
 * current weight, takes the largest, and subtracts the total. Weights 5,1,1 give a a b a c a a rather than a a a a a b c.
 */
export function createSmoothRoundRobin(weights: readonly number[]): Balancer {
  const current = weights.map(() => 0);
  return {
    pick(eligible) {
      let best = -1;
      let total = 0;
      for (let i = 0; i < weights.length; i++) {
        if (!eligible(i)) continue;
        current[i]! += weights[i]!;
        total += weights[i]!;
        if (best === -1 || current[i]! > current[best]!) best = i;
      }
      if (best !== -1) current[best]! -= total;
      return best;
    },
  };
}

/**
 * Least requests, power of two choices (Mitzenmacher; Envoy's LEAST_REQUEST): two distinct eligible targets drawn at
 * random in proportion to their weights, the one with fewer requests in flight per unit of weight wins (ties: the
 * first drawn, so idle targets share by weight).
 */
export function createLeastRequests(weights: readonly number[], inFlight: (index: number) => number, random: () => number = Math.random): Balancer {
  const draw = (eligible: Eligible, skip: number): number => {
    let total = 0;
    for (let i = 0; i < weights.length; i++) if (i !== skip && eligible(i)) total += weights[i]!;
    if (total === 0) return -1;
    let r = random() * total;
    for (let i = 0; i < weights.length; i++) {
      if (i === skip || !eligible(i)) continue;
      r -= weights[i]!;
      if (r < 0) return i;
    }
    for (let i = weights.length - 1; i >= 0; i--) if (i !== skip && eligible(i)) return i; // rounding at the top end
    return -1;
  };
  return {
    pick(eligible) {
      const a = draw(eligible, -1);
      if (a === -1) return -1;
      const b = draw(eligible, a);
      if (b === -1) return a;
      return inFlight(b) / weights[b]! < inFlight(a) / weights[a]! ? b : a;
    },
  };
}

/** 32-bit FNV-1a with murmur3's finaliser (FNV alone spreads short, similar strings badly on a ring). */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Points on the ring per unit of weight: a spread within about 2 % of the weights over a handful of targets… */
export const RING_POINTS_PER_WEIGHT = 1000;
/** …and at most this many points in all (large weights get fewer points per unit; building stays in milliseconds). */
export const RING_MAX_POINTS = 100_000;
/** Bounded load factor c (Mirrokni, Thorup, Zadimoghaddam 2018): no target takes more than c × the average load. */
export const DEFAULT_HASH_LOAD_FACTOR = 1.25;

/**
 * Consistent hashing on a ring of virtual nodes, named by target id (its URL), so adding a target moves only the keys
 * that now land on its points (about 1/N of them). With bounded load, a target already holding more than
 * `loadFactor × (in flight + 1) / eligible targets` requests is passed over for the next one on the ring.
 */
export function createConsistentHash(ids: readonly string[], weights: readonly number[], inFlight: (index: number) => number, loadFactor = DEFAULT_HASH_LOAD_FACTOR): Balancer {
  const points: Array<[number, number]> = [];
  const total = weights.reduce((a, b) => a + b, 0);
  const perWeight = Math.max(1, Math.min(RING_POINTS_PER_WEIGHT, Math.floor(RING_MAX_POINTS / total)));
  ids.forEach((id, index) => {
    for (let v = 0; v < perWeight * weights[index]!; v++) points.push([hash32(`${id}#${v}`), index]);
  });
  points.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const ring = Uint32Array.from(points, (p) => p[0]);
  const owner = Uint32Array.from(points, (p) => p[1]);
  return {
    pick(eligible, key) {
      let count = 0;
      let load = 0;
      for (let i = 0; i < ids.length; i++) if (eligible(i)) { count++; load += inFlight(i); }
      if (count === 0) return -1;
      const bound = Math.ceil((loadFactor * (load + 1)) / count);
      const h = hash32(key);
      let lo = 0;
      let hi = ring.length;
      while (lo < hi) { const mid = (lo + hi) >>> 1; if (ring[mid]! < h) lo = mid + 1; else hi = mid; }
      let fallback = -1;
      for (let step = 0; step < ring.length; step++) {
        const t = owner[(lo + step) % ring.length]!;
        if (!eligible(t)) continue;
        if (fallback === -1) fallback = t;
        if (inFlight(t) < bound) return t;
      }
      return fallback;
    },
  };
}
