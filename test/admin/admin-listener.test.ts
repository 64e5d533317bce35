import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { startRole, type RunningRole } from '../helpers/cli.ts';
import { request } from '../origin/client.ts';

const SECRET = { FERRY_RELAY_SECRET: 'an-admin-test-secret-of-32-bytes!!' };

function adminUrl(role: RunningRole): string {
  const line = role.logs.find((l) => l.event === 'listening' && l.admin === true);
  assert.ok(line, 'the admin listener prints its own "listening" line');
  return String(line.url);
}

async function json(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await request(url, { headers });
  return { status: r.status, body: JSON.parse(r.body.toString()) as Record<string, unknown> };
}

/** /healthz, /readyz, /config and the 404 for anything else: the same on every role. */
async function probes(admin: string): Promise<Record<string, unknown>> {
  const health = await json(`${admin}/healthz`);
  assert.equal(health.status, 200);
  assert.equal(health.body.status, 'alive');
  const ready = await json(`${admin}/readyz`);
  assert.deepEqual([ready.status, ready.body.ready], [200, true]);
  assert.equal((await request(`${admin}/healthz`, { method: 'POST' })).status, 405);
  assert.equal((await request(`${admin}/no-such-page`)).status, 404);
  const config = await json(`${admin}/config`);
  assert.equal(config.status, 200);
  return config.body;
}

/** An upstream with its own /metrics and /stats, to see that the proxy listener forwards them once an admin listener is set. */
async function upstreamWithMetrics(): Promise<{ url: string; close(): void }> {
  const server = http.createServer((req, res) => { res.end(`upstream ${req.method} ${req.url}`); });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, close: () => { server.closeAllConnections(); server.close(); } };
}

describe('--admin-listen', () => {
  const closers: Array<() => void> = [];
  after(() => { for (const c of closers) c(); });

  it('ferry proxy: stats, metrics, probes, redacted config and purge on the admin listener; the proxy listener forwards /metrics and /stats', async () => {
    const up = await upstreamWithMetrics();
    closers.push(up.close);
    const p = await startRole(['proxy', '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--upstream', up.url, '--cache', 'memory',
      '--forward', '--proxy-auth', 'alice:wonderland'], { listeningCount: 2 });
    const admin = adminUrl(p);
    // through the proxy listener: the upstream's own pages
    assert.equal((await request(`${p.url}/metrics`)).body.toString(), 'upstream GET /metrics');
    assert.equal((await request(`${p.url}/stats?format=json`)).body.toString(), 'upstream GET /stats?format=json');
    // on the admin listener
    const stats = await json(`${admin}/stats`, { accept: 'application/json' });
    assert.equal(stats.status, 200);
    assert.equal((stats.body.requests as { total: number }).total, 2, 'the two forwarded requests are counted; admin requests are not');
    assert.equal((stats.body.config as { generation: number }).generation, 1);
    const metrics = await request(`${admin}/metrics`);
    assert.match(metrics.body.toString(), /^# (HELP|TYPE) ferry_/m);
    const config = await probes(admin);
    assert.equal(config['proxy-auth'], '[redacted]');
    assert.doesNotMatch(JSON.stringify(config), /wonderland/);
    assert.deepEqual(config.upstream, [`${up.url}/`]);
    assert.deepEqual(config.generation && (config.generation as { generation: number }).generation, 1);
    // purge: served on the admin listener (from loopback), with an absolute URL naming the proxy's host
    const purge = await request(`${admin}/cache/purge?url=${encodeURIComponent(`${p.url}/x`)}`, { method: 'DELETE' });
    assert.equal(purge.status, 200);
    assert.equal((JSON.parse(purge.body.toString()) as { purged: boolean }).purged, false);
    // and no longer on the proxy listener: forwarded like any request
    const forwarded = await request(`${p.url}/cache/purge?url=/x`, { method: 'DELETE' });
    assert.equal(forwarded.body.toString(), 'upstream DELETE /cache/purge?url=/x');
    await p.stop();
  });

  it('without --admin-listen, the proxy listener answers /stats and /metrics as before', async () => {
    const up = await upstreamWithMetrics();
    closers.push(up.close);
    const p = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', up.url]);
    assert.match((await request(`${p.url}/metrics`)).body.toString(), /^# (HELP|TYPE) ferry_/m);
    assert.equal(typeof (await json(`${p.url}/stats`, { accept: 'application/json' })).body.uptimeSeconds, 'number');
    assert.equal(p.logs.filter((l) => l.event === 'listening').length, 1);
    await p.stop();
  });

  it('ferry relay-server and relay-client: their stats as JSON and Prometheus on the admin listener, not on the listener', async () => {
    const server = await startRole(['relay-server', '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0'], { env: SECRET, listeningCount: 2 });
    const sAdmin = adminUrl(server);
    const s = await json(`${sAdmin}/stats`);
    assert.equal(s.body.role, 'relay-server');
    assert.match((await request(`${sAdmin}/metrics`)).body.toString(), /^ferry_relay_server_sessions_open 0$/m);
    assert.equal((await probes(sAdmin))['store'], 'memory');
    assert.notEqual((await request(`${server.url}/stats`)).status, 200, 'the relay listener no longer serves /stats');

    const client = await startRole(['relay-client', '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--gateway', server.url], { env: SECRET, listeningCount: 2 });
    const cAdmin = adminUrl(client);
    assert.equal((await json(`${cAdmin}/stats`)).body.role, 'relay-client');
    assert.match((await request(`${cAdmin}/metrics`)).body.toString(), /^ferry_relay_client_chunks_up 0$/m);
    assert.equal((await probes(cAdmin))['gateway'], `${server.url}/`);
    await client.stop();
    await server.stop();
  });

  it('ferry origin: process figures, probes and config on the admin listener', async () => {
    const o = await startRole(['origin', '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0'], { listeningCount: 2 });
    const admin = adminUrl(o);
    const s = await json(`${admin}/stats`);
    assert.equal(s.body.role, 'origin');
    assert.match((await request(`${admin}/metrics`)).body.toString(), /^ferry_origin_memory_rss \d+$/m);
    assert.equal((await probes(admin))['dotfiles'], 'deny');
    await o.stop();
  });
});
