/**
 * A reload keeps what the proxy knows of its targets' health (docs/routing.md "Reloads"): a target that survives the
 * reload — same URL — keeps its active-check state, its ejection and its count of consecutive failures, instead of
 * being assumed up again. End to end: a real upstream that went down is known down across a reload through the
 * reloadable switch (no request is tried on it); pure: passive failure counts carry over, and what the new pool can
 * no longer end (a `down` without active checks) starts afresh.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { serveProxy } from '../../src/proxy/create-proxy.ts';
import { resolveProxyOptions } from '../../src/proxy/options.ts';
import { parseRoutingConfig, type RoutingConfig } from '../../src/proxy/routing/routing-config.ts';
import { createRouting } from '../../src/proxy/routing/routing.ts';
import { createProxySwitch } from '../../src/reload/proxy-switch.ts';
import { createSilentLogger } from '../../src/server/logger.ts';
import { waitFor } from '../fixtures/proxy.ts';
import { startNamedOrigin } from './named-origin.ts';

const log = createSilentLogger();
const routing = (pool: Record<string, unknown>): RoutingConfig =>
  parseRoutingConfig({ pools: { api: pool }, routes: [{ path: '/', pool: 'api' }] }, 'ferry.yaml', []);

describe('target health across a reload', () => {
  const stops: Array<() => Promise<void>> = [];
  after(async () => { for (const s of stops.reverse()) await s(); });

  it('a real upstream known down stays down after a reload that keeps it: no request is tried on it', async () => {
    const up = await startNamedOrigin('up');
    stops.push(() => up.close());
    const gone = await startNamedOrigin('gone');
    await gone.close(); // its port now refuses connections: a real down upstream
    const targets = [up.url, gone.url];
    // generation 1 checks every 100 ms (fall 2); generation 2 every hour, so only what it carried can tell it
    const first = routing({ targets, health: { interval: '100ms', timeout: '100ms', fall: 2, rise: 2 } });
    const second = routing({ targets, health: { interval: '1h', timeout: '1s', fall: 2, rise: 2 } });
    const sw = createProxySwitch(resolveProxyOptions({ routing: first, log }), { file: null, adminListener: false });
    const served = serveProxy(sw);
    stops.push(() => served.close());
    await sw.ready();
    await new Promise<void>((r) => served.server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(served.server.address() as AddressInfo).port}`;
    const stateOf = (i: number) => sw.routing.snapshot().pools.api!.targets[i]!;
    await waitFor(() => stateOf(1).state === 'down', 'the closed upstream to fail two checks');

    await sw.swap(resolveProxyOptions({ routing: second, log }), null);
    assert.equal(stateOf(1).state, 'down', 'the new generation knows the target is down');
    assert.equal(stateOf(0).state, 'up');
    for (let i = 0; i < 10; i++) {
      const r = await fetch(`${url}/x${i}`);
      assert.equal(r.status, 200);
      assert.equal(await r.text(), 'up');
    }
    assert.equal(stateOf(1).requests, 0, 'no try went to the down target after the reload');
    assert.equal(stateOf(0).requests, 10);
    assert.deepEqual(sw.unhealthyPools(), []);
  });

  it('passive failure counts and ejections carry over by URL; a target new to the pool starts fresh', () => {
    const x = 'http://127.0.0.1:1/';
    const y = 'http://127.0.0.1:2/';
    const z = 'http://127.0.0.1:3/';
    const ejection = { 'consecutive-failures': 3, 'max-share': 1 };
    const r1 = createRouting(routing({ targets: [x, y], ejection }), { log });
    const p1 = r1.route('h', '/')!.pool;
    p1.report(0, 'connect');
    p1.report(0, 'connect'); // x: two failures of three
    for (let i = 0; i < 3; i++) p1.report(1, '5xx'); // y: ejected
    assert.equal(p1.state(1), 'ejected');

    const r2 = createRouting(routing({ targets: [z, y, x], ejection }), { log, previous: r1 });
    const p2 = r2.route('h', '/')!.pool;
    assert.equal(p2.state(1), 'ejected', 'y stays ejected (found by URL, at another index)');
    assert.equal(p2.state(2), 'up');
    p2.report(2, 'connect'); // x's third failure in a row, across the reload
    assert.equal(p2.state(2), 'ejected');
    p2.report(0, 'connect');
    p2.report(0, 'connect');
    assert.equal(p2.state(0), 'up', 'z, new to the pool, has no failures from before');
    void r1.close(0);
    void r2.close(0);
  });

  it('a target down by active checks comes back up when the new pool has no checks (nothing would bring it back); with checks it stays down', async () => {
    const x = 'http://127.0.0.1:1/';
    const checked = routing({ targets: [x], health: { interval: '1h', fall: 1 } });
    const r1 = createRouting(checked, { log });
    await r1.close(0); // no probes: the test gives the verdicts
    const p1 = r1.route('h', '/')!.pool;
    p1.check(0, false);
    assert.equal(p1.state(0), 'down');
    const unchecked = createRouting(routing({ targets: [x] }), { log, previous: r1 });
    assert.equal(unchecked.route('h', '/')!.pool.state(0), 'up');
    const stillChecked = createRouting(checked, { log, previous: r1 });
    await stillChecked.close(0);
    assert.equal(stillChecked.route('h', '/')!.pool.state(0), 'down');
    assert.deepEqual(stillChecked.unhealthyPools(), ['api']);
  });
});
