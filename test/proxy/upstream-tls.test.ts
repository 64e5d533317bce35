/**
 * HTTPS upstreams: verification on by default, --upstream-ca, mutual TLS (--upstream-cert/--upstream-key),
 * --upstream-servername, --upstream-insecure (warned at start); a refused certificate is a 502 whose log line says
 * why (expired, unknown CA, name mismatch). Reverse upstreams and forward absolute-form https:// both.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { createTestCa, type Pair } from '../helpers/certs.ts';
import { startRole, type RunningRole } from '../helpers/cli.ts';

const ca = createTestCa();

/** An https origin on loopback answering 200 "ok from NAME"; with `clientCa` it demands a client certificate. */
async function origin(name: string, pair: Pair, clientCa?: string): Promise<number> {
  const server = https.createServer({ cert: pair.cert, key: pair.key, ...(clientCa ? { ca: clientCa, requestCert: true, rejectUnauthorized: true } : {}) }, (req, res) => {
    res.end(`ok from ${name}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  after(() => { server.closeAllConnections(); server.close(); });
  return (server.address() as AddressInfo).port;
}

/** GET through the proxy at `proxyPort`: origin-form (reverse), or absolute-form `target` (forward). */
function get(proxyPort: number, target = '/', host = 'localhost'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: proxyPort, path: target, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => { body += c; }).once('end', () => resolve({ status: res.statusCode!, body }));
    }).once('error', reject);
  });
}

async function tlsErrorLine(role: RunningRole, since: number): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const hit = role.logs.slice(since).find((l) => l.event === 'upstream-tls-error');
    if (hit) return String(hit.msg);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no upstream-tls-error line');
}

const expectTlsErrors = { expectedLog: (l: Record<string, unknown>) => l.event === 'upstream-tls-error' };

test('forward absolute-form https://: verified against --upstream-ca; expired, unknown-CA and wrong-name certificates are 502s whose log line says why', async (t) => {
  const good = await origin('good', ca.leaf(['localhost']));
  const expired = await origin('expired', ca.leaf(['localhost'], { days: -1 }));
  const selfSigned = await origin('self', ca.selfSigned(['localhost']));
  const wrongName = await origin('wrong', ca.leaf(['other.test']));
  const proxy = await startRole(['proxy', '--listen', '127.0.0.1:0', '--forward', '--upstream-ca', ca.caFile], { alerts: expectTlsErrors });
  t.after(() => proxy.stop());

  assert.deepEqual(await get(proxy.port, `https://localhost:${good}/`), { status: 200, body: 'ok from good' });
  const cases: Array<[number, RegExp]> = [
    [expired, /certificate expired \(CERT_HAS_EXPIRED\)/],
    [selfSigned, /unknown CA \(self-signed certificate\) \(DEPTH_ZERO_SELF_SIGNED_CERT\)/],
    [wrongName, /name mismatch \(ERR_TLS_CERT_ALTNAME_INVALID\)/],
  ];
  for (const [port, why] of cases) {
    const mark = proxy.logs.length;
    const res = await get(proxy.port, `https://localhost:${port}/`);
    assert.equal(res.status, 502);
    assert.equal(res.body, 'Bad Gateway: upstream TLS failed\n', 'the client learns no details');
    assert.match(await tlsErrorLine(proxy, mark), why);
  }
});

test('reverse https upstream: the default CAs refuse a private CA (unknown CA); --upstream-insecure accepts it with a warning at start', async (t) => {
  const port = await origin('private', ca.leaf(['localhost']));
  const strict = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', `https://localhost:${port}`], { alerts: expectTlsErrors });
  t.after(() => strict.stop());
  const mark = strict.logs.length;
  assert.equal((await get(strict.port)).status, 502);
  assert.match(await tlsErrorLine(strict, mark), /unknown CA \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/);

  const loose = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', `https://localhost:${port}`, '--upstream-insecure']);
  t.after(() => loose.stop());
  assert.ok(loose.logs.some((l) => l.event === 'upstream-insecure' && l.level === 'warn'), 'warned at start');
  assert.deepEqual(await get(loose.port), { status: 200, body: 'ok from private' });
});

test('mutual TLS with --upstream-cert/--upstream-key, the name checked being --upstream-servername', async (t) => {
  const port = await origin('mtls', ca.leaf(['mtls.test']), ca.ca);
  const client = ca.leaf(['ferry-client']);
  const withCert = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', `https://127.0.0.1:${port}`, '--upstream-ca', ca.caFile,
    '--upstream-servername', 'mtls.test', '--upstream-cert', client.certFile, '--upstream-key', client.keyFile]);
  t.after(() => withCert.stop());
  assert.deepEqual(await get(withCert.port), { status: 200, body: 'ok from mtls' });
  // Expect: 100-continue takes ferry's node:https path: same CA, client certificate and server name
  const continued = await new Promise<number>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: withCert.port, method: 'POST', path: '/', headers: { host: 'localhost', expect: '100-continue', 'content-length': 5 } }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode!));
    });
    req.once('continue', () => req.end('hello'));
    req.once('error', reject);
  });
  assert.equal(continued, 200);

  const without = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', `https://127.0.0.1:${port}`, '--upstream-ca', ca.caFile,
    '--upstream-servername', 'mtls.test'], { alerts: { expectedLog: (l) => l.event === 'upstream-tls-error' || String(l.msg).includes('upstream') } });
  t.after(() => without.stop());
  assert.equal((await get(without.port)).status, 502, 'no client certificate: refused by the origin');
});

test('reverse https upstream: the certificate is checked against the upstream URL\'s host, not the client\'s Host field', async (t) => {
  const port = await origin('named', ca.leaf(['localhost']));
  const proxy = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', `https://localhost:${port}`, '--upstream-ca', ca.caFile]);
  t.after(() => proxy.stop());
  // before: undici took SNI and the name to verify from the forwarded Host, so this was a 502 (name mismatch)
  assert.deepEqual(await get(proxy.port, '/', 'www.ferry.example'), { status: 200, body: 'ok from named' });
});

test('an Upgrade to an https upstream is verified with --upstream-ca too (wss): 101 and bytes both ways', async (t) => {
  const pair = ca.leaf(['localhost']);
  const server = https.createServer({ cert: pair.cert, key: pair.key }, (_req, res) => res.end('no upgrade'));
  server.on('upgrade', (_req, socket: net.Socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    socket.on('data', (c: Buffer) => socket.write(`echo:${c.toString()}`));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  after(() => { server.closeAllConnections(); server.close(); });
  const port = (server.address() as AddressInfo).port;
  const proxy = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', `https://localhost:${port}`, '--upstream-ca', ca.caFile]);
  t.after(() => proxy.stop());
  const reply = await new Promise<string>((resolve, reject) => {
    const c = net.connect(proxy.port, '127.0.0.1', () => {
      c.write('GET /ws HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
    });
    let got = '';
    c.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.includes('\r\n\r\n') && !got.includes('echo:')) c.write('ping');
      if (got.includes('echo:ping')) { c.destroy(); resolve(got); }
    });
    c.once('error', reject);
    setTimeout(() => { c.destroy(); reject(new Error(`no echo; got ${JSON.stringify(got)}`)); }, 10_000).unref();
  });
  assert.match(reply, /^HTTP\/1\.1 101 /);
  assert.match(reply, /echo:ping$/);
});

test('through --upstream-proxy (CONNECT), the https upstream is still verified with --upstream-ca', async (t) => {
  const port = await origin('tunnelled', ca.leaf(['localhost']));
  const forward = await startRole(['proxy', '--listen', '127.0.0.1:0', '--forward', '--connect-ports', String(port)]);
  t.after(() => forward.stop());
  const proxy = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', `https://localhost:${port}`, '--upstream-proxy', `http://127.0.0.1:${forward.port}`, '--upstream-ca', ca.caFile]);
  t.after(() => proxy.stop());
  assert.deepEqual(await get(proxy.port), { status: 200, body: 'ok from tunnelled' });
});
