/**
 * @module The health of one pool's targets, pure: the active-check state machine (`fall` failed checks in a row take
 * a target out of rotation, `rise` passes bring it back) and passive ejection (consecutive connect failures or 5xx
 * answers eject a target for a back-off that doubles on each repeated ejection, while at most a share of the pool is
 * ever ejected at once, as Envoy's outlier detection does). Time is passed in, never read here.
 */

export interface PassiveConfig {
  /** Consecutive failures (connect failure, reset, timeout, 5xx) that eject a target; 0 turns passive ejection off. */
  consecutiveFailures: number;
  baseEjectionMs: number;
  maxEjectionMs: number;
  /** At most this share of the pool is ejected at once (at least one target may always be). */
  maxEjectionShare: number;
}

export interface TargetHealth {
  /** The active checks' verdict (true until checks say otherwise). */
  up: boolean;
  /** Consecutive passing / failing active checks. */
  passes: number;
  fails: number;
  /** Consecutive failed requests (passive). */
  failures: number;
  /** Ejected until this time (ms, the caller's clock); 0 = not ejected. */
  ejectedUntil: number;
  /** How many times this target was ejected (the back-off grows with it; /stats shows it). */
  ejections: number;
}

export function initialHealth(): TargetHealth {
  return { up: true, passes: 0, fails: 0, failures: 0, ejectedUntil: 0, ejections: 0 };
}

/** One active check's result. A target coming back up is also let out of a passive ejection: it proved itself. */
export function afterCheck(h: TargetHealth, ok: boolean, rise: number, fall: number): TargetHealth {
  if (ok) {
    const passes = h.passes + 1;
    if (!h.up && passes >= rise) return { ...h, up: true, passes, fails: 0, failures: 0, ejectedUntil: 0 };
    return { ...h, passes, fails: 0 };
  }
  const fails = h.fails + 1;
  return { ...h, passes: 0, fails, up: h.up && fails < fall };
}

export type Outcome = 'ok' | 'connect' | 'reset' | 'timeout' | '5xx';

export function isEjected(h: TargetHealth, now: number): boolean {
  return h.ejectedUntil > now;
}

export function isAvailable(h: TargetHealth, now: number): boolean {
  return h.up && !isEjected(h, now);
}

/** How many of `size` targets may be ejected at once. */
export function maxEjected(size: number, share: number): number {
  return Math.max(1, Math.floor(size * share));
}

/**
 * One request's outcome on target `index` of `pool`; returns the pool's new health (same array when unchanged).
 * The share bound counts the targets ejected at `now`.
 */
export function afterOutcome(pool: readonly TargetHealth[], index: number, outcome: Outcome, now: number, cfg: PassiveConfig): readonly TargetHealth[] {
  const h = pool[index]!;
  if (outcome === 'ok') {
    if (h.failures === 0) return pool;
    return replace(pool, index, { ...h, failures: 0 });
  }
  const failures = h.failures + 1;
  if (cfg.consecutiveFailures === 0 || failures < cfg.consecutiveFailures || isEjected(h, now)) return replace(pool, index, { ...h, failures });
  const ejected = pool.filter((t) => isEjected(t, now)).length;
  if (ejected >= maxEjected(pool.length, cfg.maxEjectionShare)) return replace(pool, index, { ...h, failures });
  const backoff = Math.min(cfg.maxEjectionMs, cfg.baseEjectionMs * 2 ** h.ejections);
  return replace(pool, index, { ...h, failures: 0, ejectedUntil: now + backoff, ejections: h.ejections + 1 });
}

/**
 * A target's health handed on to the pool of the next configuration (a reload that keeps the target): what checks and
 * failures found stays, except what the new pool can no longer end — without active checks nothing would bring a
 * `down` target back, and with passive ejection off nothing would end an ejection early, so those start afresh.
 */
export function carriedHealth(h: TargetHealth, activeChecks: boolean, passive: PassiveConfig): TargetHealth {
  const checked = activeChecks ? h : { ...h, up: true, passes: 0, fails: 0 };
  return passive.consecutiveFailures === 0 ? { ...checked, failures: 0, ejectedUntil: 0 } : checked;
}

function replace(pool: readonly TargetHealth[], index: number, h: TargetHealth): readonly TargetHealth[] {
  const next = pool.slice();
  next[index] = h;
  return next;
}
