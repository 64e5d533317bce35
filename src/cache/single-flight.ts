/**
 * @module Collapsed forwarding (RELIABILITY C7): concurrent misses for one key make one upstream request.
 * The first request leads; the others wait until the leader knows whether the answer was stored (then they read it
 * from the store) or not (then they go to the origin themselves). Waiters give up after `waitMs` (nginx
 * proxy_cache_lock_timeout 5 s). An uncacheable answer is remembered for `hitForMissMs` (Varnish hit-for-miss,
 * 120 s) so later requests for that key are not serialised behind a leader. Bounded: at most `maxKeys` remembered.
 */
import { LRUCache } from 'lru-cache';

/** `failed`: the leader's transfer broke (client or upstream abort): waiters retry, nothing is remembered. */
export type FlightOutcome = 'stored' | 'not-stored' | 'failed';

export type FlightTicket =
  | { kind: 'lead'; settle(outcome: FlightOutcome): void }
  | { kind: 'wait'; result: Promise<FlightOutcome | 'timeout'> }
  /** Recently uncacheable: go straight to the origin, no lock. */
  | { kind: 'pass' };

export interface SingleFlightOptions { waitMs?: number; hitForMissMs?: number; maxKeys?: number }

export interface SingleFlight {
  join(key: string): FlightTicket;
  /** Wait for a running flight without leading one (Range and HEAD misses); null when none runs. */
  waitFor(key: string): Promise<FlightOutcome | 'timeout'> | null;
  /** Forget the hit-for-miss mark (the key was purged or a stored answer arrived). */
  forget(key: string): void;
  readonly inFlight: number;
}

export const DEFAULT_WAIT_MS = 5_000;
export const DEFAULT_HIT_FOR_MISS_MS = 120_000;

/**
 * One leader's flight. The promise its waiters await is made only when one comes (most misses have none): a
 * promise and its resolver per miss were a measurable share of a miss that stores (docs/performance.md).
 */
class Flight {
  settled = false;
  #result: FlightOutcome | undefined;
  #promise: Promise<FlightOutcome> | undefined;
  #resolve: ((o: FlightOutcome) => void) | undefined;

  outcome(): Promise<FlightOutcome> {
    if (this.#promise === undefined) {
      const result = this.#result;
      this.#promise = result !== undefined ? Promise.resolve(result) : new Promise<FlightOutcome>((resolve) => { this.#resolve = resolve; });
    }
    return this.#promise;
  }

  settle(outcome: FlightOutcome): void {
    this.settled = true;
    this.#result = outcome;
    this.#resolve?.(outcome);
  }
}

export function createSingleFlight(options: SingleFlightOptions = {}): SingleFlight {
  const waitMs = options.waitMs ?? DEFAULT_WAIT_MS;
  const flights = new Map<string, Flight>();
  const hitForMiss = new LRUCache<string, true>({ max: options.maxKeys ?? 10_000, ttl: options.hitForMissMs ?? DEFAULT_HIT_FOR_MISS_MS });
  const wait = (key: string): Promise<FlightOutcome | 'timeout'> | null => {
    const running = flights.get(key);
    if (running === undefined) return null;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(resolve, waitMs, 'timeout'); timer.unref(); });
    return Promise.race([running.outcome(), timeout]).finally(() => clearTimeout(timer));
  };
  return {
    waitFor: wait,
    join(key) {
      if (hitForMiss.size > 0 && hitForMiss.has(key)) return { kind: 'pass' };
      const result = wait(key);
      if (result !== null) return { kind: 'wait', result };
      const flight = new Flight();
      flights.set(key, flight);
      return {
        kind: 'lead',
        settle(outcome) {
          if (flight.settled) return;
          if (flights.get(key) === flight) flights.delete(key);
          if (outcome === 'not-stored') hitForMiss.set(key, true);
          else if (outcome === 'stored') hitForMiss.delete(key);
          flight.settle(outcome);
        },
      };
    },
    forget(key) { hitForMiss.delete(key); },
    get inFlight() { return flights.size; },
  };
}
