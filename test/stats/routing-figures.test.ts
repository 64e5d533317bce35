import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RoutingSnapshot } from '../../src/proxy/routing/routing.ts';
import { mergeRoutingSnapshots } from '../../src/stats/routing-metrics.ts';

const worker = (requests: number, state: 'up' | 'down' | 'ejected', p99: number): RoutingSnapshot => ({
  routes: { api: { pool: 'api', requests, byStatus: { 200: requests }, errors: { timeout: 1 }, latencyMs: { p50: 1, p90: 2, p99 } } },
  pools: { api: { policy: 'round-robin', available: state === 'up' ? 1 : 0, targets: [{ url: 'http://a/', weight: 1, state, inFlight: 1, requests, errors: { '5xx': 2 }, latencyMs: { p50: 1, p90: 2, p99 }, ejections: 1, retries: 3 }] } },
});

describe('routing figures over workers (/stats under --workers)', () => {
  it('sums counts, keeps the highest percentile, the worst state and the fewest available', () => {
    const m = mergeRoutingSnapshots([worker(10, 'up', 5), null, worker(5, 'ejected', 9)])!;
    assert.deepEqual(m.routes.api, { pool: 'api', requests: 15, byStatus: { 200: 15 }, errors: { timeout: 2 }, latencyMs: { p50: 1, p90: 2, p99: 9 } });
    assert.equal(m.pools.api!.available, 0);
    assert.deepEqual(m.pools.api!.targets[0], { url: 'http://a/', weight: 1, state: 'ejected', inFlight: 2, requests: 15, errors: { '5xx': 4 }, latencyMs: { p50: 1, p90: 2, p99: 9 }, ejections: 2, retries: 6 });
    assert.equal(mergeRoutingSnapshots([null, undefined]), null);
  });
});
