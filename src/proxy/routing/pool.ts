/**
 * @module One upstream pool at run time: its targets, their health (health-state.ts), requests in flight, the
 * balancer of its policy (balancers.ts), its retry budget and the per-target figures /stats and /metrics show.
 * No sockets: active checks (health-checker.ts) and requests (upstream-tries.ts) report into it.
 */
import { createCounterState, latencyPercentile, recordFinish, type CounterState } from '../../stats/counters.ts';
import { createConsistentHash, createLeastRequests, createSmoothRoundRobin, type Balancer } from './balancers.ts';
import { afterCheck, afterOutcome, carriedHealth, initialHealth, isAvailable, isEjected, type Outcome, type TargetHealth } from './health-state.ts';
import { RetryBudget } from './retry-policy.ts';
import type { PoolConfig } from './routing-config.ts';

export interface PoolTarget {
  /** The target's URL as configured (its id on the hash ring, its label in /stats). */
  readonly id: string;
  /** `http://host:port` */
  readonly origin: string;
  /** The URL's path without its trailing slash, prefixed to every forwarded path (`http://h/api` + `/x` → `/api/x`). */
  readonly prefix: string;
  readonly weight: number;
  inFlight: number;
  retries: number;
  /** Tries sent to this target: status, latency to the response head, errors by kind. */
  readonly counters: CounterState;
}

export type TargetState = 'up' | 'down' | 'ejected';

export interface TargetSnapshot {
  url: string; weight: number; state: TargetState; inFlight: number; requests: number;
  errors: Record<string, number>; latencyMs: { p50: number; p90: number; p99: number }; ejections: number; retries: number;
}

export class Pool {
  readonly config: PoolConfig;
  readonly targets: readonly PoolTarget[];
  readonly budget: RetryBudget;
  /** A request may be tried again on another target: more than one try allowed and more than one target. */
  readonly canRetry: boolean;
  #health: readonly TargetHealth[];
  readonly #balancer: Balancer;
  readonly #now: () => number;

  constructor(config: PoolConfig, now: () => number = Date.now, random: () => number = Math.random) {
    this.config = config;
    this.#now = now;
    this.targets = config.targets.map(({ url, weight }) => ({
      id: url.href, origin: url.origin, prefix: url.pathname === '/' ? '' : url.pathname.replace(/\/+$/, ''), weight,
      inFlight: 0, retries: 0, counters: createCounterState(now()),
    }));
    this.#health = this.targets.map(initialHealth);
    this.budget = new RetryBudget(config.retry);
    this.canRetry = config.retry.tries > 1 && this.targets.length > 1;
    const weights = this.targets.map((t) => t.weight);
    const inFlight = (i: number): number => this.targets[i]!.inFlight;
    this.#balancer = config.policy === 'least-requests' ? createLeastRequests(weights, inFlight, random)
      : config.policy === 'consistent-hash' ? createConsistentHash(this.targets.map((t) => t.id), weights, inFlight)
      : createSmoothRoundRobin(weights);
  }

  get name(): string { return this.config.name; }

  available(index: number): boolean {
    return isAvailable(this.#health[index]!, this.#now());
  }

  hasAvailable(): boolean {
    return this.targets.some((_, i) => this.available(i));
  }

  /**
   * A target for a request (hash `key` for consistent-hash), none of `tried`: -1 when every other target is down or
   * ejected — unless the pool is in `panic` mode, which then picks among all of them.
   */
  pick(key: string, tried: ReadonlySet<number>): number {
    if (this.targets.length === 1) {
      // every policy picks the only target (no balancer state to move, no predicate closure per request)
      if (tried.has(0)) return -1;
      const h = this.#health[0]!;
      // never ejected: no clock read (issue 18; isAvailable would compare ejectedUntil 0 with the time)
      return this.config.panic || (h.ejectedUntil === 0 ? h.up : isAvailable(h, this.#now())) ? 0 : -1;
    }
    const now = this.#now();
    const chosen = this.#balancer.pick((i) => !tried.has(i) && isAvailable(this.#health[i]!, now), key);
    if (chosen !== -1 || !this.config.panic) return chosen;
    return this.#balancer.pick((i) => !tried.has(i), key);
  }

  /** The health of the target with this URL (`PoolTarget.id`); undefined when the pool has none. */
  healthOf(id: string): TargetHealth | undefined {
    const i = this.targets.findIndex((t) => t.id === id);
    return i === -1 ? undefined : this.#health[i];
  }

  /**
   * Take over what an earlier pool knew of the targets it shares with this one (a reload: routing.ts), by URL;
   * called before this pool's checks start.
   */
  adoptHealth(previous: (id: string) => TargetHealth | undefined): void {
    this.#health = this.targets.map((t, i) => {
      const h = previous(t.id);
      return h === undefined ? this.#health[i]! : carriedHealth(h, this.config.health !== null, this.config.ejection);
    });
  }

  /** One try's outcome (passive health). */
  report(index: number, outcome: Outcome): void {
    // the usual answer changes nothing (afterOutcome's first case): no clock read, no call (issue 18)
    if (outcome === 'ok' && this.#health[index]!.failures === 0) return;
    this.#health = afterOutcome(this.#health, index, outcome, this.#now(), this.config.ejection);
  }

  /** One active check's result; returns the state change, if any, for the log. */
  check(index: number, ok: boolean): TargetState | null {
    const before = this.state(index);
    const h = this.config.health!;
    const next = this.#health.slice();
    next[index] = afterCheck(next[index]!, ok, h.rise, h.fall);
    this.#health = next;
    const after = this.state(index);
    return after === before ? null : after;
  }

  state(index: number): TargetState {
    const h = this.#health[index]!;
    return !h.up ? 'down' : isEjected(h, this.#now()) ? 'ejected' : 'up';
  }

  /** Seconds a client should wait before trying again when nothing is available (RFC 9110 §10.2.3). */
  retryAfterSeconds(): number {
    const now = this.#now();
    const ends = this.#health.filter((h) => h.up && isEjected(h, now)).map((h) => h.ejectedUntil - now);
    const wait = Math.min(...ends, this.config.health?.intervalMs ?? 5_000);
    return Math.max(1, Math.ceil(wait / 1000));
  }

  /** Record one finished try on target `index` (latency to the response head; errors by kind). */
  recordTry(index: number, status: number, ms: number, errorKind: string | undefined): void {
    const c = this.targets[index]!.counters;
    recordFinish(c, { status, bytesIn: 0, bytesOut: 0, durationMs: ms, upstreamError: errorKind !== undefined, upstreamErrorKind: errorKind });
  }

  snapshot(): { policy: string; available: number; targets: TargetSnapshot[] } {
    const targets = this.targets.map((t, i): TargetSnapshot => {
      const errors = { ...t.counters.upstreamErrorKinds };
      let fivexx = 0;
      for (const [status, n] of Object.entries(t.counters.byStatus)) if (status >= '500' && status.length === 3) fivexx += n;
      if (fivexx > 0) errors['5xx'] = fivexx;
      return {
        url: t.id, weight: t.weight, state: this.state(i), inFlight: t.inFlight, requests: t.counters.total, errors,
        latencyMs: { p50: latencyPercentile(t.counters, 50), p90: latencyPercentile(t.counters, 90), p99: latencyPercentile(t.counters, 99) },
        ejections: this.#health[i]!.ejections, retries: t.retries,
      };
    });
    return { policy: this.config.policy, available: targets.filter((t) => t.state === 'up').length, targets };
  }
}
