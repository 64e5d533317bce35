import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { afterCheck, afterOutcome, initialHealth, isAvailable, isEjected, type PassiveConfig, type TargetHealth } from '../../../src/proxy/routing/health-state.ts';
import { RetryBudget, retryVerdict, type RetryConfig } from '../../../src/proxy/routing/retry-policy.ts';
import { DEFAULT_SETTINGS, type Policy, type PoolConfig } from '../../../src/proxy/routing/routing-config.ts';
import { createConsistentHash, createLeastRequests, createSmoothRoundRobin, type Balancer } from '../../../src/proxy/routing/balancers.ts';
import { Pool } from '../../../src/proxy/routing/pool.ts';

const passive: PassiveConfig = { consecutiveFailures: 3, baseEjectionMs: 1_000, maxEjectionMs: 5_000, maxEjectionShare: 0.5 };

describe('health state machine (rise/fall)', () => {
  it('fall failed checks in a row take a target out; rise passes bring it back; a pass resets the failures', () => {
    let h = initialHealth();
    h = afterCheck(h, false, 2, 3); h = afterCheck(h, false, 2, 3); assert.ok(h.up);
    h = afterCheck(h, true, 2, 3); h = afterCheck(h, false, 2, 3); h = afterCheck(h, false, 2, 3); assert.ok(h.up, 'the pass reset the count');
    h = afterCheck(h, false, 2, 3); assert.ok(!h.up);
    h = afterCheck(h, true, 2, 3); assert.ok(!h.up);
    h = afterCheck(h, true, 2, 3); assert.ok(h.up);
  });

  it('property: the verdict only changes after fall failures or rise passes in a row', () => {
    fc.assert(fc.property(fc.array(fc.boolean(), { maxLength: 60 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), (checks, rise, fall) => {
      let h = initialHealth();
      let run = 0;
      let last: boolean | null = null;
      for (const ok of checks) {
        run = ok === last ? run + 1 : 1;
        last = ok;
        const before = h.up;
        h = afterCheck(h, ok, rise, fall);
        if (h.up !== before) assert.equal(run >= (ok ? rise : fall), true);
        if (!ok && run >= fall) assert.equal(h.up, false);
        if (ok && run >= rise) assert.equal(h.up, true);
      }
    }));
  });
});

describe('passive ejection', () => {
  const fail = (pool: readonly TargetHealth[], i: number, n: number, now: number) => { for (let k = 0; k < n; k++) pool = afterOutcome(pool, i, 'connect', now, passive); return pool; };

  it('consecutive failures eject for a back-off that doubles on each ejection up to the maximum; a success resets the count', () => {
    let pool: readonly TargetHealth[] = [initialHealth(), initialHealth()];
    pool = fail(pool, 0, 2, 0); pool = afterOutcome(pool, 0, 'ok', 0, passive); pool = fail(pool, 0, 2, 0);
    assert.ok(!isEjected(pool[0]!, 0), 'two, a success, two: not three in a row');
    pool = fail(pool, 0, 1, 0);
    assert.equal(pool[0]!.ejectedUntil, 1_000);
    pool = fail(pool, 0, 3, 1_000); assert.equal(pool[0]!.ejectedUntil, 3_000);
    pool = fail(pool, 0, 3, 3_000); assert.equal(pool[0]!.ejectedUntil, 7_000);
    pool = fail(pool, 0, 3, 7_000); pool = fail(pool, 0, 3, 12_000); assert.equal(pool[0]!.ejectedUntil, 17_000, 'capped at max-time');
    assert.ok(isAvailable(pool[0]!, 17_000));
  });

  it('never ejects more than max-share of the pool at once (at least one target may be)', () => {
    let pool: readonly TargetHealth[] = [initialHealth(), initialHealth(), initialHealth(), initialHealth()];
    for (let i = 0; i < 4; i++) pool = fail(pool, i, 3, 0);
    assert.equal(pool.filter((h) => isEjected(h, 0)).length, 2);
    let one: readonly TargetHealth[] = [initialHealth()];
    one = fail(one, 0, 3, 0);
    assert.ok(isEjected(one[0]!, 0));
  });

  it('an active check bringing a target back up ends its ejection', () => {
    let pool: readonly TargetHealth[] = [initialHealth()];
    pool = fail(pool, 0, 3, 0);
    let h = afterCheck(afterCheck(afterCheck(pool[0]!, false, 2, 1), true, 2, 1), true, 2, 1);
    assert.ok(isAvailable(h, 1));
    h = afterCheck(pool[0]!, true, 2, 1);
    assert.ok(isEjected(h, 1), 'a target that never went down stays ejected: it answered checks but failed requests');
  });

  it('property: ejected count never exceeds max(1, floor(share × size))', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.tuple(fc.nat(7), fc.boolean(), fc.nat(3000)), { maxLength: 200 }), (size, events) => {
      let pool: readonly TargetHealth[] = Array.from({ length: size }, initialHealth);
      let now = 0;
      for (const [i, ok, dt] of events) {
        now += dt;
        pool = afterOutcome(pool, i % size, ok ? 'ok' : '5xx', now, passive);
        assert.ok(pool.filter((h) => isEjected(h, now)).length <= Math.max(1, Math.floor(size * 0.5)));
      }
    }));
  });
});

describe('retry decision and budget', () => {
  const cfg: RetryConfig = { ...DEFAULT_SETTINGS.retry, methods: ['POST'] };
  const base = { code: 'FERRY_ERR_UPSTREAM_UNREACHABLE', tried: 1, method: 'GET', body: 'none' as const };

  it('retries idempotent and operator-marked methods on connect failure, reset and timeout, within tries', () => {
    for (const code of ['FERRY_ERR_UPSTREAM_UNREACHABLE', 'FERRY_ERR_UPSTREAM_CLOSED', 'FERRY_ERR_UPSTREAM_TIMEOUT', 'FERRY_ERR_UPSTREAM_CONNECT_TIMEOUT']) {
      assert.equal(retryVerdict(cfg, { ...base, code }), 'retry', code);
    }
    for (const method of ['HEAD', 'OPTIONS', 'PUT', 'DELETE', 'POST']) assert.equal(retryVerdict(cfg, { ...base, method }), 'retry', method);
    assert.equal(retryVerdict(cfg, { ...base, method: 'PATCH' }), 'not-idempotent');
    assert.equal(retryVerdict(DEFAULT_SETTINGS.retry, { ...base, method: 'POST' }), 'not-idempotent');
    assert.equal(retryVerdict(cfg, { ...base, tried: 2 }), 'no-tries-left', 'tries 2 = one retry');
  });

  it('never retries a streamed body (bytes may be gone) — a kept one is fine — nor a client-side failure', () => {
    assert.equal(retryVerdict(cfg, { ...base, method: 'PUT', body: 'streamed' }), 'body-sent');
    assert.equal(retryVerdict(cfg, { ...base, method: 'PUT', body: 'kept' }), 'retry');
    assert.equal(retryVerdict(cfg, { ...base, code: 'FERRY_ERR_CLIENT_GONE' }), 'not-retryable-error');
    assert.equal(retryVerdict(cfg, { ...base, code: 'FERRY_ERR_BODY_TOO_LARGE' }), 'not-retryable-error');
  });

  it('the budget allows retries of at most a share of recent requests (and a minimum), and refills as the window moves', () => {
    const b = new RetryBudget({ budgetShare: 0.2, budgetMinRetries: 3, budgetWindowMs: 10_000 });
    for (let i = 0; i < 100; i++) b.noteRequest(1_000);
    let taken = 0;
    for (let i = 0; i < 100; i++) if (b.tryTake(1_000)) taken++;
    assert.equal(taken, 20);
    const quiet = new RetryBudget({ budgetShare: 0.2, budgetMinRetries: 3, budgetWindowMs: 10_000 });
    quiet.noteRequest(0);
    assert.deepEqual([quiet.tryTake(0), quiet.tryTake(0), quiet.tryTake(0), quiet.tryTake(0)], [true, true, true, false]);
    assert.equal(quiet.tryTake(30_000), true, 'a new window');
  });
});

describe('a pool of one target (the default pool from --upstream)', () => {
  it('picks as its policy\'s balancer would, through checks, passive ejections, panic and tries (Pool.pick skips the balancer there)', () => {
    const op = fc.oneof(fc.record({ kind: fc.constant('check' as const), ok: fc.boolean() }), fc.record({ kind: fc.constant('report' as const), outcome: fc.constantFrom('ok' as const, 'connect' as const, '5xx' as const) }),
      fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 400_000 }) }));
    fc.assert(fc.property(fc.constantFrom<Policy>('round-robin', 'least-requests', 'consistent-hash'), fc.boolean(), fc.array(op, { maxLength: 30 }), (policy, panic, ops) => {
      let now = 1_000;
      const config: PoolConfig = {
        ...DEFAULT_SETTINGS, name: 'default', targets: [{ url: new URL('http://127.0.0.1:1/'), weight: 1 }], policy, hashOn: { kind: 'path' }, panic,
        health: { path: '/', intervalMs: 5_000, timeoutMs: 2_000, expect: [200, 399], rise: 2, fall: 2 },
        ejection: { ...DEFAULT_SETTINGS.ejection, consecutiveFailures: 2, maxEjectionShare: 1 },
      };
      const pool = new Pool(config, () => now);
      const balancer: Balancer = policy === 'least-requests' ? createLeastRequests([1], () => 0) : policy === 'consistent-hash' ? createConsistentHash(['http://127.0.0.1:1/'], [1], () => 0) : createSmoothRoundRobin([1]);
      const reference = (tried: ReadonlySet<number>): number => {
        const chosen = balancer.pick((i) => !tried.has(i) && pool.available(i), '/x');
        return chosen !== -1 || !panic ? chosen : balancer.pick((i) => !tried.has(i), '/x');
      };
      for (const o of ops) {
        if (o.kind === 'check') pool.check(0, o.ok); else if (o.kind === 'report') pool.report(0, o.outcome); else now += o.ms;
        assert.equal(pool.pick('/x', new Set()), reference(new Set()));
        assert.equal(pool.pick('/x', new Set([0])), -1);
      }
      assert.equal(pool.canRetry, false, 'no other target: no retry, no body kept, no budget counted');
    }), { numRuns: 300 });
  });
});
