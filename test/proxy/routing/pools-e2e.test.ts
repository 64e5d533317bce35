import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parseRoutingConfig } from '../../../src/proxy/routing/routing-config.ts';
import { rawRequest } from '../../fixtures/raw-client.ts';
import { startProxy, waitFor, type RunningProxy } from '../../fixtures/proxy.ts';
import { startRecordingUpstream, type RecordingUpstream } from '../../fixtures/recording-upstream.ts';

/** A loopback URL nothing listens on (connection refused). */
async function deadUrl(): Promise<string> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return `http://127.0.0.1:${port}`;
}

const get = (port: number, host: string, target: string) => rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);

describe('pools end to end: routes', () => {
  let api: RecordingUpstream; let stat: RecordingUpstream; let fallback: RecordingUpstream;
  let proxy: RunningProxy; let bare: RunningProxy;
  before(async () => {
    [api, stat, fallback] = await Promise.all([startRecordingUpstream(), startRecordingUpstream(), startRecordingUpstream()]);
    const data = {
      routes: [{ name: 'api', host: '*.example.test', path: '/api', 'strip-prefix': true, pool: 'api' }, { name: 'static', path: '/static', pool: 'static' }],
      pools: { api: { targets: [`${api.url}/v2`] }, static: { targets: [stat.url] } },
    };
    proxy = await startProxy({ routing: parseRoutingConfig(data, 't.yaml', [new URL(fallback.url)]) });
    bare = await startProxy({ routing: parseRoutingConfig(data, 't.yaml', []) });
  });
  after(async () => { await proxy.close(); await bare.close(); await Promise.all([api.close(), stat.close(), fallback.close()]); });

  it('host wildcard + prefix with strip (the target URL path prefixed), plain prefix, no match → default pool or 404', async () => {
    assert.deepEqual((await get(proxy.port, 'shop.example.test', '/api/items?x=1')).statuses, [200]);
    assert.equal(api.requests.at(-1)!.url, '/v2/items?x=1');
    assert.deepEqual((await get(proxy.port, 'other.test', '/api/items')).statuses, [200]);
    assert.equal(fallback.requests.at(-1)!.url, '/api/items', 'wrong host: not the api route, the default pool');
    assert.deepEqual((await get(proxy.port, 'shop.example.test', '/static/a.css')).statuses, [200]);
    assert.equal(stat.requests.at(-1)!.url, '/static/a.css', 'no strip-prefix: kept');
    const before = api.requests.length + stat.requests.length + fallback.requests.length;
    assert.deepEqual((await get(bare.port, 'other.test', '/nothing')).statuses, [404], 'no route and no --upstream: 404');
    assert.equal(api.requests.length + stat.requests.length + fallback.requests.length, before);
  });

  it('/stats shows per-route and per-target figures; /metrics the ferry_route_* and ferry_target_* series', async () => {
    const stats = await (await fetch(`${proxy.url}/stats`)).json() as { routes: Record<string, { requests: number; pool: string }>; pools: Record<string, { targets: Array<{ url: string; state: string; requests: number }> }> };
    assert.equal(stats.routes.api!.pool, 'api');
    assert.ok(stats.routes.api!.requests >= 1);
    assert.ok(stats.routes.default!.requests >= 1);
    assert.deepEqual(stats.pools.api!.targets.map((t) => [t.url, t.state]), [[`${api.url}/v2`, 'up']]);
    assert.ok(stats.pools.static!.targets[0]!.requests >= 1);
    const metrics = await (await fetch(`${proxy.url}/metrics`)).text();
    assert.match(metrics, /ferry_route_requests_total\{route="api",pool="api",status="200"\} [1-9]/);
    assert.match(metrics, new RegExp(`ferry_target_up\\{pool="static",target="${stat.url}/",state="up"\\} 1`));
  });
});

describe('pools end to end: health, 503, retries', () => {
  let live: RecordingUpstream;
  let dead: string;
  const proxies: RunningProxy[] = [];
  before(async () => {
    live = await startRecordingUpstream();
    dead = await deadUrl();
  });
  after(async () => { for (const p of proxies) await p.close(); await live.close(); });
  const start = async (pools: Record<string, unknown>) => {
    const p = await startProxy({ routing: parseRoutingConfig({ pools, routes: [{ path: '/', pool: Object.keys(pools)[0] }] }, 't.yaml', []) },
      { alerts: { expectedLog: (l) => /^(target-down|pool-unavailable|retry-budget-spent)$/.test(String(l.event)) } });
    proxies.push(p);
    return p;
  };

  it('a pool whose targets all failed their checks answers 503 with Retry-After and a clear body; with panic it tries them anyway', async () => {
    const health = { interval: '100ms', timeout: '50ms', fall: 1 };
    const p = await start({ down: { targets: [dead], health } });
    await waitFor(() => p.proxyServer.proxy.routing.unhealthyPools().length === 1, 'the pool to go down');
    const r = await fetch(`${p.url}/x`);
    assert.equal(r.status, 503);
    assert.equal(r.headers.get('retry-after'), '1');
    assert.match(await r.text(), /no healthy target in pool down/);
    assert.ok(p.logs.some((l) => l.event === 'pool-unavailable'));
    const panic = await start({ down: { targets: [dead], health, panic: true } });
    await waitFor(() => panic.proxyServer.proxy.routing.unhealthyPools().length === 1, 'the pool to go down');
    assert.equal((await fetch(`${panic.url}/x`)).status, 502, 'panic: tried, refused');
  });

  it('retries idempotent requests and kept bodies on the other target; never a POST, never a body over retry-body-limit', async () => {
    const p = await start({ mixed: { targets: [dead, live.url], ejection: { 'consecutive-failures': 0 }, retry: { 'body-limit': '16' } } });
    // equal weights alternate dead, live, dead, live…: each odd request starts on the dead target
    const send = async (method: string, body?: string) => {
      const r = await fetch(`${p.url}/echo`, { method, ...(body !== undefined ? { body } : {}) });
      const text = await r.text();
      await fetch(`${p.url}/warm`); // the next request starts on the dead target again
      return [r.status, text];
    };
    assert.deepEqual(await send('GET'), [200, '']);
    assert.deepEqual(await send('PUT', 'small body'), [200, 'small body'], 'a kept body is sent again, whole');
    assert.deepEqual((await send('POST', 'x'))[0], 502, 'POST is not idempotent');
    assert.deepEqual((await send('PUT', 'a body longer than sixteen bytes'))[0], 502, 'a body over the limit is streamed, not retried');
    const lines = p.logs.filter((l) => l.event === 'access' && l.path === '/echo');
    assert.deepEqual(lines.map((l) => (l.tries as Array<{ outcome: string }>).map((t) => t.outcome)), [['connect', 'response'], ['connect', 'response'], ['connect'], ['connect']]);
  });

  it('a try that gets no response head within try-timeout is retried on another target', async () => {
    const silent = net.createServer((socket) => { socket.on('error', () => {}); }); // accepts, reads, never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    after(() => { silent.close(); });
    const p = await start({ slow: { targets: [`http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`, live.url], ejection: { 'consecutive-failures': 0 }, retry: { 'try-timeout': '1s' } } });
    const r = await fetch(`${p.url}/`);
    assert.equal(r.status, 200);
    const line = p.logs.find((l) => l.event === 'access')!;
    assert.deepEqual((line.tries as Array<{ outcome: string }>).map((t) => t.outcome), ['timeout', 'response']);
  });
});
