/**
 * The CLI's TLS listener (server/tls-listener.ts) and the HTTP/2 entry (proxy/h2-entry.ts) joined: `ferry proxy
 * --tls-cert/--tls-key` answers h2 clients through the runner (curl --http2, node:http2), and an h2 CONNECT on that
 * listener opens a tunnel while an HTTP/1.1 CONNECT on the same port still works.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { createTestCa } from '../helpers/certs.ts';
import { startRole } from '../helpers/cli.ts';
import { h2connect, h2request } from '../helpers/h2-client.ts';

const ca = createTestCa();
const pair = ca.leaf(['localhost', '127.0.0.1']);

test('ferry proxy --tls-cert: h2 by ALPN through the runner, h2 CONNECT and HTTP/1.1 CONNECT on the same port', async (t) => {
  const origin = http.createServer((req, res) => res.end(`origin saw ${req.method} ${req.url} via=${req.headers.via}`));
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  t.after(() => { origin.closeAllConnections(); origin.close(); });
  const echo = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  t.after(() => echo.close());
  const originPort = (origin.address() as AddressInfo).port;
  const echoPort = (echo.address() as AddressInfo).port;
  const proxy = await startRole(['proxy', '--listen', '127.0.0.1:0', '--tls-cert', pair.certFile, '--tls-key', pair.keyFile,
    '--upstream', `http://127.0.0.1:${originPort}`, '--forward', '--connect-ports', String(echoPort)]);
  t.after(() => proxy.stop());

  const out = await promisify(execFile)('curl', ['-sS', '--http2', '--cacert', ca.caFile, '-w', ' %{http_version}', `https://localhost:${proxy.port}/a?b=1`], { timeout: 20_000 });
  assert.equal(out.stdout, 'origin saw GET /a?b=1 via=2 ferry 2', 'curl negotiated h2; the origin saw Via: 2 ferry');

  const session = await h2connect(`https://localhost:${proxy.port}`, readFileSync(ca.caFile));
  t.after(() => session.close());
  const reply = await h2request(session, { ':method': 'GET', ':path': '/x', ':authority': `localhost:${proxy.port}` });
  assert.equal(reply.status, 200);
  assert.equal(reply.body.toString(), 'origin saw GET /x via=2 ferry');

  // RFC 9113 §8.5: CONNECT with only :method and :authority; the stream then carries the tunnel's bytes
  const tunnel = session.request({ ':method': 'CONNECT', ':authority': `127.0.0.1:${echoPort}` }, { endStream: false });
  const status = await new Promise<number>((resolve, reject) => { tunnel.once('response', (h) => resolve(Number(h[':status']))); tunnel.once('error', reject); });
  assert.equal(status, 200);
  const back = new Promise<string>((resolve) => { let s = ''; tunnel.on('data', (c: Buffer) => { s += c; if (s.length >= 5) resolve(s); }); });
  tunnel.write('hello');
  assert.equal(await back, 'hello');
  tunnel.close();

  // an HTTP/1.1 client's CONNECT on the same TLS port (ALPN http/1.1) reaches node:http's connect path
  const h1 = await promisify(execFile)('curl', ['-sS', '--http1.1', '--proxy', `https://localhost:${proxy.port}`, '--proxy-cacert', ca.caFile,
    '--proxytunnel', '-o', '/dev/null', '-w', '%{http_connect}', `http://127.0.0.1:${echoPort}/`, '--max-time', '3'], { timeout: 20_000 }).catch((e: { stdout: string }) => e);
  assert.equal(h1.stdout, '200', 'the HTTP/1.1 CONNECT got 200 from ferry (the echo server then answers nothing HTTP-like)');
  for (let i = 0; i < 40 && !proxy.logs.some((l) => l.protocol === 'HTTP/2.0'); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(proxy.logs.some((l) => l.protocol === 'HTTP/2.0'), 'the access log records HTTP/2.0');
});
