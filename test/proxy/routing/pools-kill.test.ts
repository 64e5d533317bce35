import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { parseRoutingConfig } from '../../../src/proxy/routing/routing-config.ts';
import { startKillableOrigin, type KillableOrigin } from '../../fixtures/killable-origin.ts';
import { startProxy, waitFor, type RunningProxy } from '../../fixtures/proxy.ts';

// generous check timeout: on a loaded machine the live target's checks must not time out (both down → 503)
const INTERVAL_MS = 1_000;
const TIMEOUT_MS = 900;

/** Sequential GETs from `workers` clients until stop() — bounded by `maxMs` in any case; records status and server. */
function steadyLoad(url: string, workers: number, maxMs: number) {
  const results: Array<{ status: number; servedBy: string | null; at: number }> = [];
  let stopped = false;
  const until = Date.now() + maxMs;
  const loops = Array.from({ length: workers }, async () => {
    while (!stopped && Date.now() < until) {
      const at = Date.now();
      try {
        const res = await fetch(`${url}/item?${results.length}`);
        await res.arrayBuffer();
        results.push({ status: res.status, servedBy: res.headers.get('x-served-by'), at });
      } catch {
        results.push({ status: 0, servedBy: null, at });
      }
    }
  });
  return { results, async stop() { stopped = true; await Promise.all(loops); } };
}

describe('pools: a target SIGKILLed and restarted under steady load', () => {
  const origins: KillableOrigin[] = [];
  let proxy: RunningProxy | null = null;
  after(async () => { await proxy?.close(); for (const o of origins) await o.kill(); });

  it('no idempotent request fails (retried on the other target), no traffic to the dead target after one interval, traffic again after it returns', async () => {
    const a = await startKillableOrigin('a');
    const b = await startKillableOrigin('b');
    origins.push(a, b);
    const routing = parseRoutingConfig({
      pools: { web: { targets: [a.url, b.url], health: { path: '/healthz', interval: `${INTERVAL_MS}ms`, timeout: `${TIMEOUT_MS}ms`, rise: 2, fall: 1 } } },
      routes: [{ path: '/', pool: 'web' }],
    }, 'test.yaml', []);
    proxy = await startProxy({ routing }, { alerts: { expectedLog: (l) => /^(target-down|pool-unavailable|retry-budget-spent)$/.test(String(l.event)) } });
    const load = steadyLoad(proxy.url, 4, 30_000);
    await waitFor(() => load.results.filter((r) => r.servedBy === 'a').length > 20, 'traffic on a');
    await a.kill();
    const killedAt = Date.now();
    const logs = proxy.logs;
    const triesTo = (url: string, since: number) => logs.filter((l) => l.event === 'access' && (l.time as number) >= since)
      .flatMap((l) => (l.tries as Array<{ target: string; outcome: string }> | undefined) ?? []).filter((t) => t.target === `${url}/`);
    // one interval (plus the check's own timeout and a scheduling margin) after the kill, a gets nothing more
    await new Promise((r) => setTimeout(r, INTERVAL_MS + TIMEOUT_MS + 300));
    const quietFrom = Date.now();
    const deadTriesBefore = triesTo(a.url, killedAt).length;
    await new Promise((r) => setTimeout(r, 1_000));
    assert.deepEqual(triesTo(a.url, quietFrom + 50), [], 'no try went to the dead target one interval after it died');
    assert.ok(deadTriesBefore >= 1, 'the dead target was seen failing (and those requests were retried)');
    // it comes back on the same port: traffic again within rise intervals
    const a2 = await startKillableOrigin('a', a.port);
    origins.push(a2);
    const backAt = Date.now();
    await waitFor(() => load.results.some((r) => r.servedBy === 'a' && r.at > backAt), 'traffic on the restarted a', 2 * INTERVAL_MS + 3_000);
    await load.stop();
    const failed = load.results.filter((r) => r.status !== 200);
    assert.deepEqual(failed, [], `${load.results.length} requests, every one answered 200`);
    const retried = logs.filter((l) => l.event === 'access' && Array.isArray(l.tries) && (l.tries as unknown[]).length > 1);
    assert.ok(retried.length >= 1, 'at least one request was retried on the other target');
    const t = (retried[0]!.tries as Array<{ target: string; outcome: string }>);
    assert.equal(t[0]!.target, `${a.url}/`);
    assert.notEqual(t[0]!.outcome, 'response');
    assert.equal(t[1]!.outcome, 'response');
  });
});
