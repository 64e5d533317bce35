/** ferry proxy --forward end to end: the real CLI, curl -x and node clients, local origins on port 0. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runCli, startRole, type RunningRole } from '../../helpers/cli.ts';
import { waitFor } from '../../helpers/wait.ts';
import { formatBasicCredentials } from '../../../src/proxy/forward/basic-auth.ts';
import { localhostCert } from '../../helpers/certs.ts';
import { closeServer, connectThrough, listenLocal, portOf, rawExchange, readAll } from './helpers.ts';

const run = promisify(execFile);

/** curl with a proxy; resolves with status, headers text and body (never throws on HTTP errors). */
async function curl(args: string[]): Promise<{ status: number; head: string; body: string }> {
  const { stdout } = await run('curl', ['-s', '-S', '-i', '--max-time', '20', ...args], { maxBuffer: 64 << 20 });
  // With a proxy tunnel curl prints the CONNECT answer first; the last head is the real response.
  const parts = stdout.split(/\r\n\r\n/);
  let i = 0;
  while (i + 1 < parts.length && /^HTTP\/1\.[01] (200 Connection established|200 Connection Established|100 )/i.test(parts[i]!)) i++;
  const head = parts[i]!;
  return { status: Number(/^HTTP\/[\d.]+ (\d{3})/.exec(head)?.[1] ?? 0), head, body: parts.slice(i + 1).join('\r\n\r\n') };
}

/** A node http.request in absolute-form through the proxy. */
function viaProxy(proxyPort: number, url: string, headers: Record<string, string> = {}, method = 'GET', body?: Buffer): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxyPort, method, path: url, headers: { host: new URL(url).host, ...headers }, agent: false }, (res) => {
      readAll(res).then((b) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b }), reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('ferry proxy --forward (CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-fwd-'));
  const { key, cert, certFile } = localhostCert();
  const usersFile = join(dir, 'users');
  writeFileSync(usersFile, '# proxy users\nalice:wonder:land\nbob:builder\n');
  /** An origin that answers with what it received. */
  const seen: Array<{ url: string; headers: http.IncomingHttpHeaders }> = [];
  let origin: http.Server;
  let originPort: number;
  let other: http.Server;
  let otherPort: number;
  let tlsServer: https.Server;
  let tlsPort: number;
  let proxy: RunningRole;
  const roles: RunningRole[] = [];
  const alice = formatBasicCredentials('alice', 'wonder:land');

  before(async () => {
    origin = http.createServer((req, res) => {
      seen.push({ url: req.url ?? '', headers: req.headers });
      if (req.url?.startsWith('/echo')) { res.setHeader('content-type', req.headers['content-type'] ?? 'application/octet-stream'); req.pipe(res); return; }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ who: 'origin', url: req.url, headers: req.headers }));
    });
    other = http.createServer((req, res) => res.end(JSON.stringify({ who: 'other', url: req.url, headers: req.headers })));
    tlsServer = https.createServer({ key, cert }, (req, res) => res.end(`tls ok ${req.url}`));
    await Promise.all([listenLocal(origin), listenLocal(other), listenLocal(tlsServer)]);
    originPort = portOf(origin);
    otherPort = portOf(other);
    tlsPort = portOf(tlsServer);
    proxy = await startRole(['proxy', '--listen', '127.0.0.1:0', '--forward', '--upstream', `http://127.0.0.1:${originPort}`,
      '--proxy-auth-file', usersFile, '--connect-ports', `443,${tlsPort}`]);
    roles.push(proxy);
  });
  after(async () => {
    await Promise.all(roles.map((r) => r.stop()));
    await Promise.all([closeServer(origin), closeServer(other), closeServer(tlsServer)]);
    rmSync(dir, { recursive: true, force: true });
  });

  test('curl -x: absolute-form is forwarded to its target with Host replaced, Proxy-Authorization never forwarded', async () => {
    const r = await curl(['-x', `http://alice:wonder%3Aland@127.0.0.1:${proxy.port}`, '-H', 'Host: evil.example',
      `http://127.0.0.1:${otherPort}/path/a%2Fb?q=%20x&&y=`]);
    assert.equal(r.status, 200, r.head);
    const got = JSON.parse(r.body) as { who: string; url: string; headers: Record<string, string> };
    assert.equal(got.who, 'other');
    assert.equal(got.url, '/path/a%2Fb?q=%20x&&y=');
    assert.equal(got.headers.host, `127.0.0.1:${otherPort}`); // RFC 9112 §3.2.2: the received Host is ignored
    assert.equal(got.headers['proxy-authorization'], undefined);
    assert.equal(got.headers['proxy-connection'], undefined);
    assert.equal(got.headers.via, '1.1 ferry');
    assert.match(r.head, /\r\nvia: 1\.1 ferry\r\n/i);
    assert.doesNotMatch(r.head, /proxy-authenticate/i);
  });

  test('407 with Proxy-Authenticate: Basic realm="ferry" when credentials are missing or wrong (curl and node)', async () => {
    const before = seen.length;
    const none = await curl(['-x', `http://127.0.0.1:${proxy.port}`, `http://127.0.0.1:${originPort}/x`]);
    assert.equal(none.status, 407);
    assert.match(none.head, /\r\nproxy-authenticate: Basic realm="ferry"/i);
    const wrong = await viaProxy(proxy.port, `http://127.0.0.1:${originPort}/x`, { 'proxy-authorization': formatBasicCredentials('alice', 'nope') });
    assert.equal(wrong.status, 407);
    assert.equal(wrong.headers['proxy-authenticate'], 'Basic realm="ferry"');
    const bob = await viaProxy(proxy.port, `http://127.0.0.1:${originPort}/x`, { 'proxy-authorization': formatBasicCredentials('bob', 'builder') });
    assert.equal(bob.status, 200);
    assert.equal(seen.length, before + 1); // only the authenticated request reached the origin
  });

  test('reverse and forward on one listener: origin-form → --upstream, absolute-form → its target', async () => {
    const rev = JSON.parse((await curl([`http://127.0.0.1:${proxy.port}/headers?rev=1`])).body) as { who: string; url: string };
    assert.deepEqual([rev.who, rev.url], ['origin', '/headers?rev=1']);
    const fwd = JSON.parse((await viaProxy(proxy.port, `http://localhost:${otherPort}/fwd`, { 'proxy-authorization': alice })).body.toString()) as { who: string; url: string; headers: Record<string, string> };
    assert.deepEqual([fwd.who, fwd.url, fwd.headers.host], ['other', '/fwd', `localhost:${otherPort}`]);
  });

  test('a 5 MiB upload and download stream through a forward request', async () => {
    const body = Buffer.alloc(5 << 20);
    for (let i = 0; i < body.length; i++) body[i] = i % 251;
    const r = await viaProxy(proxy.port, `http://127.0.0.1:${originPort}/echo`, { 'proxy-authorization': alice, 'content-type': 'application/x-test' }, 'POST', body);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/x-test');
    assert.ok(r.body.equals(body));
  });

  test('forwarding loops are cut: 16 intermediaries in Via → 508 Loop Detected', async () => {
    const before = seen.length;
    const via = Array.from({ length: 16 }, (_, i) => `1.1 hop${i}`);
    const r = await viaProxy(proxy.port, `http://127.0.0.1:${originPort}/loop`, { 'proxy-authorization': alice, via: via.join(', ') });
    assert.equal(r.status, 508);
    assert.equal(seen.length, before);
    const ok = await viaProxy(proxy.port, `http://127.0.0.1:${originPort}/loop`, { 'proxy-authorization': alice, via: via.slice(1).join(', ') });
    assert.equal(ok.status, 200);
  });

  test('HTTP/1.0 absolute-form without Host: Host is taken from the target', async () => {
    const raw = await rawExchange(proxy.port, `GET http://127.0.0.1:${otherPort}/ten HTTP/1.0\r\nProxy-Authorization: ${alice}\r\n\r\n`, { halfClose: false });
    assert.match(raw, /^HTTP\/1\.1 200 /);
    const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as { headers: Record<string, string> };
    assert.equal(body.headers.host, `127.0.0.1:${otherPort}`);
    assert.equal(body.headers.via, '1.0 ferry');
  });

  test('upstream connections are pooled per origin (keep-alive reuse) and bounded (≤ 64 per origin)', async () => {
    let open = 0;
    let maxOpen = 0;
    let connections = 0;
    const slow = http.createServer((_req, res) => { setTimeout(() => res.end('ok'), 30); });
    slow.on('connection', (s) => {
      connections++;
      open++;
      maxOpen = Math.max(maxOpen, open);
      s.on('close', () => { open--; });
    });
    await listenLocal(slow);
    try {
      const url = `http://127.0.0.1:${portOf(slow)}/`;
      for (let i = 0; i < 5; i++) assert.equal((await viaProxy(proxy.port, url, { 'proxy-authorization': alice })).status, 200);
      assert.equal(connections, 1, 'sequential requests reuse one pooled upstream connection');
      const all = await Promise.all(Array.from({ length: 150 }, () => viaProxy(proxy.port, url, { 'proxy-authorization': alice })));
      assert.ok(all.every((r) => r.status === 200));
      assert.ok(maxOpen <= 64, `at most 64 upstream sockets to one origin, saw ${maxOpen}`);
      assert.ok(maxOpen > 1, 'requests did run concurrently');
    } finally {
      await closeServer(slow);
    }
  });

  test('bad absolute-form targets get 400', async () => {
    for (const t of ['http://user:pw@127.0.0.1/', 'ftp://127.0.0.1/']) {
      const raw = await rawExchange(proxy.port, `GET ${t} HTTP/1.1\r\nHost: x\r\nProxy-Authorization: ${alice}\r\n\r\n`);
      assert.match(raw, /^HTTP\/1\.1 400 /, t);
    }
  });

  test('curl -x https://…: CONNECT tunnel to a local TLS server, certificate verified end to end', async () => {
    const r = await curl(['-x', `http://127.0.0.1:${proxy.port}`, '--proxy-user', 'alice:wonder:land', '--cacert', certFile,
      `https://localhost:${tlsPort}/secret?a=1`]);
    assert.equal(r.status, 200, r.head);
    assert.equal(r.body, 'tls ok /secret?a=1');
  });

  test('CONNECT: 407 without credentials, 403 for a port not allowed (and the port is never contacted)', async () => {
    const r407 = await connectThrough(proxy.port, `localhost:${tlsPort}`);
    assert.equal(r407.status, 407);
    assert.equal(r407.headers['proxy-authenticate'], 'Basic realm="ferry"');
    let contacted = 0;
    const closed = net.createServer((s) => { contacted++; s.destroy(); });
    await listenLocal(closed);
    const r403 = await connectThrough(proxy.port, `127.0.0.1:${portOf(closed)}`, { 'proxy-authorization': alice });
    assert.equal(r403.status, 403);
    await closeServer(closed);
    assert.equal(contacted, 0);
  });

  test('CONNECT without --forward is refused (405), absolute-form without --forward is 400', async () => {
    const plain = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', `http://127.0.0.1:${originPort}`]);
    roles.push(plain);
    const c = await connectThrough(plain.port, `127.0.0.1:${tlsPort}`);
    assert.equal(c.status, 405);
    // the refusal is logged (it never reaches the pipeline, so no access line stands for it)
    await waitFor(() => plain.logs.some((l) => l.event === 'client-error' && l.method === 'CONNECT' && l.status === 405 && l.target === `127.0.0.1:${tlsPort}`), 'the CONNECT refusal logged');
    const a = await viaProxy(plain.port, `http://127.0.0.1:${otherPort}/`);
    assert.equal(a.status, 400);
  });

  test('--deny: targets in denied ranges (literal or by name) get 403 and are never contacted', async () => {
    const denied = await startRole(['proxy', '--listen', '127.0.0.1:0', '--forward', '--deny', '127.0.0.0/8,::1', '--connect-ports', String(tlsPort)]);
    roles.push(denied);
    const before = seen.length;
    for (const host of ['127.0.0.1', 'localhost', '[::ffff:127.0.0.1]']) {
      const r = await viaProxy(denied.port, `http://${host}:${originPort}/denied`);
      assert.equal(r.status, 403, host);
    }
    assert.equal((await connectThrough(denied.port, `localhost:${tlsPort}`)).status, 403);
    assert.equal(seen.length, before);
  });

  test('open-proxy guard: a non-loopback --listen with --forward and no auth exits 2 with an explanation', async () => {
    const r = await runCli(['proxy', '--listen', '0.0.0.0:0', '--forward']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /open forward proxy.*--proxy-auth-file.*--allow-open/s);
    const bad = await runCli(['proxy', '--forward', '--proxy-auth', 'nocolon']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--proxy-auth: expected USER:PASS/);
  });

  test('--upstream-proxy: ferry behind another ferry (absolute-form, CONNECT and reverse mode all go through it)', async () => {
    const far = await startRole(['proxy', '--listen', '127.0.0.1:0', '--forward', '--proxy-auth', 'up:stream', '--connect-ports', String(tlsPort)]);
    roles.push(far);
    const near = await startRole(['proxy', '--listen', '127.0.0.1:0', '--forward', '--connect-ports', String(tlsPort),
      '--upstream', `http://127.0.0.1:${originPort}`, '--upstream-proxy', `http://up:stream@127.0.0.1:${far.port}`]);
    roles.push(near);
    const fwd = JSON.parse((await curl(['-x', `http://127.0.0.1:${near.port}`, `http://127.0.0.1:${otherPort}/chained?z=1`])).body) as { url: string; headers: Record<string, string> };
    assert.equal(fwd.url, '/chained?z=1');
    assert.equal(fwd.headers.via, '1.1 ferry, 1.1 ferry');
    assert.equal(fwd.headers['proxy-authorization'], undefined);
    const rev = JSON.parse((await curl([`http://127.0.0.1:${near.port}/rev`])).body) as { who: string; headers: Record<string, string> };
    assert.equal(rev.who, 'origin');
    assert.equal(rev.headers.via, '1.1 ferry, 1.1 ferry');
    // Expect: 100-continue takes ferry's own handshake path; it must go through the upstream proxy too
    const expectRev = JSON.parse((await curl(['-H', 'Expect: 100-continue', '--data-binary', 'x'.repeat(4096), `http://127.0.0.1:${near.port}/rev-expect`])).body) as { who: string; headers: Record<string, string> };
    assert.equal(expectRev.who, 'origin');
    assert.equal(expectRev.headers.via, '1.1 ferry, 1.1 ferry');
    assert.equal(expectRev.headers['proxy-authorization'], undefined);
    const tls = await curl(['-x', `http://127.0.0.1:${near.port}`, '--cacert', certFile, `https://localhost:${tlsPort}/through-two`]);
    assert.equal(tls.body, 'tls ok /through-two');
    // the far proxy saw all three (its access log), the CONNECT among them
    await new Promise((r) => setTimeout(r, 100));
    const farAccess = far.logs.filter((l) => l.event === 'access');
    assert.ok(farAccess.some((l) => l.method === 'CONNECT' && l.path === `localhost:${tlsPort}` && l.status === 200), JSON.stringify(farAccess));
    assert.ok(farAccess.some((l) => l.method === 'GET' && String(l.path).endsWith('/chained?z=1')), JSON.stringify(farAccess));
    assert.ok(farAccess.some((l) => l.method === 'POST' && String(l.path).endsWith('/rev-expect') && l.status === 200), JSON.stringify(farAccess));
  });

  test('shutdown with an open tunnel: the tunnel is cut after --shutdown-grace and the process exits 0', async () => {
    const target = net.createServer((s) => s.on('error', () => {}));
    await listenLocal(target);
    const p = await startRole(['proxy', '--listen', '127.0.0.1:0', '--forward', '--connect-ports', String(portOf(target)), '--shutdown-grace', '300ms']);
    roles.push(p);
    const { status, socket } = await connectThrough(p.port, `127.0.0.1:${portOf(target)}`);
    assert.equal(status, 200);
    socket.on('error', () => {});
    const closed = new Promise((r) => socket.once('close', r));
    assert.equal(await p.stop(10_000), 0);
    await closed;
    await closeServer(target);
  });

  test('--workers 2: tunnels counted in GET /stats and /metrics summed over workers', async () => {
    const echo = net.createServer((s) => { s.on('error', () => {}); s.pipe(s); });
    await listenLocal(echo);
    const p = await startRole(['proxy', '--listen', '127.0.0.1:0', '--forward', '--workers', '2', '--connect-ports', String(portOf(echo))], { listeningCount: 2 });
    roles.push(p);
    try {
      const N = 6;
      for (let i = 0; i < N; i++) {
        const { status, socket } = await connectThrough(p.port, `127.0.0.1:${portOf(echo)}`);
        assert.equal(status, 200);
        socket.end('x'.repeat(100));
        assert.equal((await readAll(socket)).length, 100);
      }
      let stats: { tunnels: { total: number; open: number; bytes: { in: number; out: number } }; workers?: number } | undefined;
      // the last tunnel's close is counted a moment after the client saw its end
      for (let tries = 0; tries < 50; tries++) {
        stats = await (await fetch(`${p.url}/stats`)).json() as typeof stats;
        if (stats!.tunnels.open === 0 && stats!.tunnels.total === N) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(stats!.workers, 2);
      assert.deepEqual([stats!.tunnels.total, stats!.tunnels.open, stats!.tunnels.bytes.in, stats!.tunnels.bytes.out], [N, 0, N * 100, N * 100]);
      const metrics = await (await fetch(`${p.url}/metrics`)).text();
      assert.match(metrics, new RegExp(`^ferry_tunnels_total\\{kind="connect"\\} ${N}$`, 'm'));
    } finally {
      await closeServer(echo);
    }
  });
});
