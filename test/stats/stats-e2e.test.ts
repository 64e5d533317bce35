/**
 * Statistics end to end (SPEC: Statistics): a spawned `ferry proxy` in front of a spawned `ferry origin`. The figures
 * must count exactly the proxied requests — /stats and /metrics themselves are answered locally and never counted —
 * and under --workers 2 they are totals over both processes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jwtVerify } from 'jose';
import { startRole, type RunningRole } from '../helpers/cli.ts';
import { parsePrometheusText } from './prometheus-parse.ts';

let origin: RunningRole;
let proxy: RunningRole;

before(async () => {
  origin = await startRole(['origin', '--listen', '127.0.0.1:0']);
  proxy = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', origin.url]);
});
after(async () => { await Promise.all([proxy?.stop(), origin?.stop()]); });

/** One request on its own connection (so --workers spreads them), body read whole. */
function request(url: string, init: { method?: string; headers?: Record<string, string>; body?: Buffer } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? 'GET', headers: init.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

interface Stats {
  startedAt: string;
  uptimeSeconds: number;
  requests: { total: number; inFlight: number; byStatus: Record<string, number> };
  bytes: { in: number; out: number };
  upstream: { errors: number; byKind: Record<string, number> };
  latencyMs: Record<string, number>;
  workers?: number;
}
const stats = async (url: string, path = '/stats'): Promise<Stats> => {
  const r = await request(`${url}${path}`);
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-type']), /^application\/json/);
  return JSON.parse(r.body.toString()) as Stats;
};

test('a fresh proxy reports its boot time and nothing counted', async () => {
  const s = await stats(proxy.url);
  assert.match(s.startedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.ok(Math.abs(Date.parse(s.startedAt) - Date.now()) < 60_000);
  assert.ok(Number.isInteger(s.uptimeSeconds) && s.uptimeSeconds >= 0);
  assert.deepEqual(s.requests, { total: 0, inFlight: 0, byStatus: {} });
  assert.deepEqual(s.bytes, { in: 0, out: 0 });
  assert.deepEqual(s.upstream, { errors: 0, byKind: {} });
});

test('stats count exactly the proxied requests, with status, bytes and latency; stats pages are not counted', async () => {
  const before = await stats(proxy.url);
  const upload = Buffer.alloc(12_345, 7);
  const results = [
    await request(`${proxy.url}/bytes/1000`),
    await request(`${proxy.url}/bytes/2500`),
    await request(`${proxy.url}/status/404`),
    await request(`${proxy.url}/echo`, { method: 'POST', body: upload, headers: { 'content-type': 'application/octet-stream' } }),
    await request(`${proxy.url}/bytes/100?range=0-9`),
  ];
  assert.deepEqual(results.map((r) => r.status), [200, 200, 404, 200, 206]);
  // Local pages, several times and in every flavour: none of them may be counted.
  await stats(proxy.url);
  await request(`${proxy.url}/stats`, { headers: { accept: 'text/html' } });
  await request(`${proxy.url}/stats?format=json`);
  await request(`${proxy.url}/metrics`);
  await request(`${proxy.url}/stats`, { method: 'HEAD' });
  const after = await stats(proxy.url);
  assert.equal(after.startedAt, before.startedAt);
  assert.equal(after.requests.total - before.requests.total, 5);
  assert.equal(after.requests.inFlight, 0);
  const delta = (code: string) => (after.requests.byStatus[code] ?? 0) - (before.requests.byStatus[code] ?? 0);
  assert.deepEqual([delta('200'), delta('404'), delta('206')], [3, 1, 1]);
  assert.equal(after.bytes.in - before.bytes.in, upload.length);
  const bodies = results.reduce((n, r) => n + r.body.length, 0);
  assert.equal(after.bytes.out - before.bytes.out, bodies);
  assert.ok(after.latencyMs.count! >= 5 && after.latencyMs.p50! > 0 && after.latencyMs.p99! <= after.latencyMs.max!);
});

test('a browser gets the dashboard page; other methods get 405 and are not counted', async () => {
  const html = await request(`${proxy.url}/stats`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
  assert.equal(html.status, 200);
  assert.match(String(html.headers['content-type']), /^text\/html/);
  assert.match(html.body.toString(), /<script type="module" src="\/stats\/app\.js\?v=[\w-]+"><\/script>/);
  const before = (await stats(proxy.url)).requests.total;
  const post = await request(`${proxy.url}/stats`, { method: 'POST', body: Buffer.from('x') });
  assert.equal(post.status, 405);
  assert.equal(post.headers.allow, 'GET, HEAD');
  assert.equal((await stats(proxy.url)).requests.total, before);
});

test('/metrics is Prometheus text with the same totals and a duration histogram', async () => {
  const s = await stats(proxy.url);
  const r = await request(`${proxy.url}/metrics`);
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  const m = parsePrometheusText(r.body.toString());
  let total = 0;
  for (const [k, v] of m) if (k.startsWith('ferry_requests_total{')) total += v;
  assert.equal(total, s.requests.total);
  assert.equal(m.get('ferry_request_duration_seconds_count'), s.requests.total);
  assert.equal(m.get('ferry_request_duration_seconds_bucket{le="+Inf"}'), s.requests.total);
  assert.equal(m.get('ferry_response_body_bytes_total'), s.bytes.out);
  assert.equal(m.get('ferry_requests_in_flight'), 0);
  assert.equal(m.get('ferry_start_time_seconds'), Math.floor(Date.parse(s.startedAt) / 1000));
});

test('HEAD of the stats page sends the head a GET would have, without a body', async () => {
  const r = await request(`${proxy.url}/stats`, { method: 'HEAD' });
  assert.equal(r.status, 200);
  assert.equal(r.body.length, 0);
  assert.ok(Number(r.headers['content-length']) > 100);
  assert.equal(r.headers['cache-control'], 'no-store');
});

test('with --cache the stats show hits and misses from Cache-Status', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-stats-cache-'));
  writeFileSync(join(dir, 'a.txt'), 'cached\n');
  utimesSync(join(dir, 'a.txt'), new Date('2020-01-01'), new Date('2020-01-01')); // heuristic freshness
  const o = await startRole(['origin', '--listen', '127.0.0.1:0', '--root', dir]);
  const p = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', o.url, '--cache', 'memory']);
  try {
    const health = { down: false, outages: 0, failures: 0, bypassed: 0, writeFailures: 0 };
    const stored = { store: 'memory', entries: 0, bytes: 0, maxBytes: 64 * 1024 * 1024, health };
    assert.deepEqual((await stats(p.url) as Stats & { cache?: unknown }).cache, { hits: 0, misses: 0, hitRatio: 0, byResult: {}, stored });
    const statuses: string[] = [];
    for (let i = 0; i < 3; i++) statuses.push(String((await request(`${p.url}/a.txt`)).headers['cache-status']));
    const s = await stats(p.url) as Stats & { cache: { hits: number; misses: number; byResult: Record<string, number> } };
    const hits = statuses.filter((v) => /; hit/.test(v)).length;
    assert.ok(hits >= 1, statuses.join(' | '));
    assert.equal(s.cache.hits, hits);
    assert.equal(s.cache.hits + s.cache.misses, 3);
    assert.equal((s.cache as unknown as { stored: { entries: number } }).stored.entries, 1, 'the size of the store is shown');
    const m = parsePrometheusText((await request(`${p.url}/metrics`)).body.toString());
    assert.equal(m.get('ferry_cache_requests_total{result="hit"}'), hits);
  } finally {
    await Promise.all([p.stop(), o.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a request in progress is in flight; a client that leaves before the answer counts as status 0', async () => {
  const before = await stats(proxy.url);
  const req = http.request(`${proxy.url}/delay/5000`, { agent: false });
  req.on('error', () => {});
  req.end();
  let during = before;
  for (let i = 0; i < 200 && during.requests.inFlight === 0; i++) {
    await new Promise((r) => setTimeout(r, 25));
    during = await stats(proxy.url);
  }
  assert.equal(during.requests.inFlight, 1);
  req.destroy();
  let after = during;
  for (let i = 0; i < 200 && after.requests.inFlight !== 0; i++) {
    await new Promise((r) => setTimeout(r, 25));
    after = await stats(proxy.url);
  }
  assert.equal(after.requests.inFlight, 0);
  assert.equal(after.requests.total - before.requests.total, 1);
  assert.equal((after.requests.byStatus['0'] ?? 0) - (before.requests.byStatus['0'] ?? 0), 1);
});

test('an unreachable upstream counts as an upstream error (502)', async () => {
  const closed = net.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as net.AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const p = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', `http://127.0.0.1:${port}`]);
  try {
    assert.equal((await request(`${p.url}/x`)).status, 502);
    const s = await stats(p.url);
    assert.deepEqual([s.requests.total, s.requests.byStatus['502'], s.upstream.errors], [1, 1, 1]);
  } finally {
    await p.stop();
  }
});

test('--stats-path moves the page, an empty --stats-path disables it (then /stats is proxied)', async () => {
  const p = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', origin.url, '--stats-path', '/_ferry/stats', '--metrics-path', '']);
  try {
    assert.equal((await stats(p.url, '/_ferry/stats')).requests.total, 0);
    // Now /stats and /metrics are ordinary paths: forwarded to the origin (404 there) and counted.
    assert.equal((await request(`${p.url}/stats`)).status, 404);
    assert.equal((await request(`${p.url}/metrics`)).status, 404);
    const s = await stats(p.url, '/_ferry/stats');
    assert.deepEqual([s.requests.total, s.requests.byStatus['404']], [2, 2]);
  } finally {
    await p.stop();
  }
});

test('with --workers 2 the figures are totals over both workers, and JWT ids stay unique across them', async () => {
  const secret = 'w'.repeat(64);
  const tokens: string[] = [];
  const upstream = http.createServer((req, res) => {
    const t = req.headers['x-my-jwt'];
    if (typeof t === 'string') tokens.push(t);
    res.end('ok');
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as net.AddressInfo).port}`;
  const p = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', upstreamUrl, '--workers', '2'], { env: { FERRY_JWT_SECRET: secret }, listeningCount: 2 });
  try {
    const pids = new Set(p.logs.filter((l) => l.event === 'listening').map((l) => l.pid));
    assert.equal(pids.size, 2, 'two worker processes listening');
    const N = 60;
    for (let i = 0; i < N; i += 10) await Promise.all(Array.from({ length: 10 }, (_, j) => request(`${p.url}/w${i + j}`)));
    // Each /stats call is a fresh connection, answered by either worker: every one must see the total.
    for (let i = 0; i < 4; i++) {
      const s = await stats(p.url);
      assert.equal(s.requests.total, N);
      assert.equal(s.workers, 2);
    }
    const m = parsePrometheusText((await request(`${p.url}/metrics`)).body.toString());
    assert.equal(m.get('ferry_requests_total{code="200"}'), N);
    assert.equal(tokens.length, N);
    const jtis = new Set<string>();
    for (const t of tokens) jtis.add((await jwtVerify(t, new TextEncoder().encode(secret), { algorithms: ['HS512'] })).payload.jti!);
    assert.equal(jtis.size, N);
  } finally {
    await p.stop();
    await new Promise<void>((r) => upstream.close(() => r()));
  }
});

test('with --workers 2, a worker that dies is replaced and what it had counted stays in the totals', async () => {
  const upstream = http.createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as net.AddressInfo).port}`;
  // the worker is killed on purpose: the primary's worker-exit error line is expected (no-alerts rule, test/helpers/cli.ts)
  const p = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', upstreamUrl, '--workers', '2'], { listeningCount: 2, alerts: { expectedLog: (r) => r.event === 'worker-exit' } });
  const listening = () => p.logs.filter((l) => l.event === 'listening').map((l) => l.pid as number);
  try {
    const N = 40;
    for (let i = 0; i < N; i += 10) await Promise.all(Array.from({ length: 10 }, (_, j) => request(`${p.url}/d${i + j}`)));
    const before = await stats(p.url);
    assert.equal(before.requests.total, N);
    // both workers served some (fresh connection per request), so whichever dies had counted something
    await new Promise((r) => setTimeout(r, 1_500)); // > SNAPSHOT_INTERVAL_MS: each worker has pushed its part
    const [victim] = listening();
    process.kill(victim!, 'SIGKILL');
    for (let i = 0; i < 100 && listening().length < 3; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(listening().length, 3, 'the primary started a replacement worker');
    for (let i = 0; i < 4; i++) {
      const s = await stats(p.url);
      assert.equal(s.requests.total, N, 'the dead worker\'s requests are still in the total');
      assert.equal(s.workers, 2);
      assert.equal(s.requests.inFlight, 0);
    }
    const m = parsePrometheusText((await request(`${p.url}/metrics`)).body.toString());
    assert.equal(m.get('ferry_requests_total{code="200"}'), N);
    assert.equal(m.get('ferry_requests_in_flight'), 0);
  } finally {
    await p.stop();
    upstream.closeAllConnections();
    await new Promise<void>((r) => upstream.close(() => r()));
  }
});

/** The first `ms` of the event stream, as EventSource would read it. */
function events(url: string, ms: number): Promise<{ headers: http.IncomingHttpHeaders; text: string; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { accept: 'text/event-stream' }, agent: false }, (res) => {
      let text = '';
      let ended = false;
      res.setEncoding('utf8').on('data', (c: string) => { text += c; }).on('end', () => { ended = true; });
      res.on('close', () => resolve({ headers: res.headers, text, ended }));
      setTimeout(() => req.destroy(), ms).unref();
    });
    req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
  });
}

test('the event stream: init, then at most one update a second; dashboard pages and assets are not counted', async () => {
  const before = (await stats(proxy.url)).requests.total;
  const r = await events(`${proxy.url}/stats`, 3_500);
  assert.match(String(r.headers['content-type']), /^text\/event-stream/);
  assert.equal(r.headers['cache-control'], 'no-store');
  const names = [...r.text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
  assert.equal(names[0], 'init');
  assert.ok(names.length >= 3 && names.length <= 5, `${names.length} events in 3.5 s`);
  const init = JSON.parse(/^data: (.*)$/m.exec(r.text)![1]!) as { snapshot: Stats; history: { fields: string[]; rows: unknown[][] }; requests: unknown[] };
  assert.equal(init.snapshot.requests.total, before);
  assert.ok(init.history.fields.includes('p99') && init.history.fields.includes('rssBytes'));
  for (const path of ['/stats/app.js', '/stats/app.css', '/stats/requests', '/stats?format=events']) {
    const page = path.endsWith('events') ? await events(`${proxy.url}${path}`, 300) : await request(`${proxy.url}${path}`);
    assert.ok('status' in page ? page.status === 200 : page.text.startsWith('retry:'), path);
  }
  assert.equal((await stats(proxy.url)).requests.total, before);
  // only those names under the stats path are ferry's: anything else there is proxied (and counted)
  assert.equal((await request(`${proxy.url}/stats/other`)).status, 404);
  assert.equal((await stats(proxy.url)).requests.total, before + 1);
});

test('SIGTERM with a dashboard open: the event stream is ended and the proxy exits without waiting out the grace', async () => {
  const p = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', origin.url, '--shutdown-grace', '30s']);
  const stream = events(`${p.url}/stats`, 20_000);
  await new Promise((r) => setTimeout(r, 500));
  const started = Date.now();
  const code = await p.stop(25_000);
  const r = await stream;
  assert.equal(code, 0);
  assert.ok(Date.now() - started < 10_000, `exit took ${Date.now() - started} ms`);
  assert.ok(r.ended, 'the stream was ended cleanly, not cut');
});
