import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createConsistentHash, createLeastRequests, createSmoothRoundRobin } from '../../../src/proxy/routing/balancers.ts';
import { seededRandom } from '../../helpers/seeded-random.ts';

const PICKS = 10_000;
const all = () => true;

function shares(pick: () => number, n: number): number[] {
  const counts = new Array<number>(n).fill(0);
  for (let i = 0; i < PICKS; i++) counts[pick()]!++;
  return counts.map((c) => c / PICKS);
}

function assertWeights(got: number[], weights: number[], tolerance: number): void {
  const total = weights.reduce((a, b) => a + b, 0);
  weights.forEach((w, i) => assert.ok(Math.abs(got[i]! - w / total) <= tolerance, `target ${i}: share ${got[i]} vs weight ${w}/${total}`));
}

describe('balancers: distribution over 10 000 picks', () => {
  it('smooth weighted round-robin gives each target its weight exactly, interleaved (5,1,1 → a a b a c a a)', () => {
    const weights = [5, 1, 1];
    const b = createSmoothRoundRobin(weights);
    assert.deepEqual(Array.from({ length: 7 }, () => b.pick(all, '')), [0, 0, 1, 0, 2, 0, 0]);
    assertWeights(shares(() => b.pick(all, ''), 3), weights, 0.001);
  });

  it('round-robin skips targets that are not eligible, and returns -1 when none is', () => {
    const b = createSmoothRoundRobin([1, 1, 1]);
    const got = shares(() => b.pick((i) => i !== 1, ''), 3);
    assert.equal(got[1], 0);
    assert.ok(Math.abs(got[0]! - 0.5) < 0.01);
    assert.equal(b.pick(() => false, ''), -1);
  });

  it('least-requests (power of two choices): idle targets share by weight within a few percent', () => {
    const weights = [3, 1, 1];
    const b = createLeastRequests(weights, () => 0, seededRandom(7));
    assertWeights(shares(() => b.pick(all, ''), 3), weights, 0.03);
  });

  it('least-requests sends to the less loaded of the two drawn: a busy target gets far less than its share', () => {
    const inFlight = [50, 0, 0];
    const b = createLeastRequests([1, 1, 1], (i) => inFlight[i]!, seededRandom(11));
    const got = shares(() => b.pick(all, ''), 3);
    assert.equal(got[0], 0, 'the busy target loses every comparison, and two distinct targets are always drawn');
  });

  it('consistent hash: keys spread by weight within a few percent, and the same key always goes to the same target', () => {
    const ids = ['http://a:1/', 'http://b:1/', 'http://c:1/', 'http://d:1/'];
    const weights = [1, 1, 2, 1];
    const b = createConsistentHash(ids, weights, () => 0);
    let k = 0;
    assertWeights(shares(() => b.pick(all, `/objects/${k++}`), 4), weights, 0.025);
    for (let i = 0; i < 100; i++) assert.equal(b.pick(all, `/k/${i}`), b.pick(all, `/k/${i}`));
  });

  it('consistent hash: adding a target to N moves at most about 1/(N+1) of the keys, all of them to the new target', () => {
    const ids = ['http://a:1/', 'http://b:1/', 'http://c:1/', 'http://d:1/'];
    const before = createConsistentHash(ids, [1, 1, 1, 1], () => 0);
    const after = createConsistentHash([...ids, 'http://e:1/'], [1, 1, 1, 1, 1], () => 0);
    let moved = 0;
    for (let i = 0; i < PICKS; i++) {
      const key = `/objects/${i}`;
      const x = before.pick(all, key);
      const y = after.pick(all, key);
      if (x !== y) { moved++; assert.equal(y, 4, 'a moved key goes to the new target only'); }
    }
    assert.ok(moved / PICKS <= 1 / 5 + 0.03, `moved ${moved / PICKS}`);
    assert.ok(moved > 0);
  });

  it('consistent hash with bounded load: one hot key cannot hold a target above c × average when others have room', () => {
    const ids = ['http://a:1/', 'http://b:1/', 'http://c:1/'];
    const inFlight = [0, 0, 0];
    const b = createConsistentHash(ids, [1, 1, 1], (i) => inFlight[i]!);
    for (let i = 0; i < 300; i++) inFlight[b.pick(all, '/hot')]!++; // 300 requests of one key, none finished
    for (const n of inFlight) assert.ok(n <= Math.ceil(1.25 * 300 / 3), `in flight ${inFlight}`);
  });

  it('property: every policy only ever picks an eligible target, and -1 only when none is', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 6 }), fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }), fc.string(), (weights, mask, key) => {
      const ok = (i: number) => mask[i]!;
      const any = weights.some((_, i) => mask[i]);
      for (const b of [createSmoothRoundRobin(weights), createLeastRequests(weights, () => 0, seededRandom(1)), createConsistentHash(weights.map((_, i) => `t${i}`), weights, () => 0)]) {
        const p = b.pick(ok, key);
        if (any) assert.ok(p >= 0 && mask[p]); else assert.equal(p, -1);
      }
    }));
  });
});
