/**
 * The TLS listener (server/tls-listener.ts) through `ferry origin`: SNI picks the pair, ALPN offers h2 and
 * http/1.1, HTTP/1.1 works over it, --tls-min-version and --http2 false, session resumption, the key-permission
 * warning, and reload on file change and SIGHUP with open connections kept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { createTestCa } from '../helpers/certs.ts';
import { runCli, startRole, type RunningRole } from '../helpers/cli.ts';

const ca = createTestCa();
const main = ca.leaf(['localhost', '127.0.0.1']);
const wild = ca.leaf(['*.wild.test']);
const exact = ca.leaf(['exact.test']);

interface Handshake { names: string; fingerprint: string; alpn: string | false | null; version: string | null; reused: boolean; session: Buffer | undefined }

/** One TLS handshake with `port` (servername may be omitted: no SNI); resolves once the server's session ticket came. */
function handshake(port: number, opts: { servername?: string; alpn?: string[]; maxVersion?: tls.SecureVersion; session?: Buffer } = {}): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: '127.0.0.1', port, ca: ca.ca, rejectUnauthorized: false,
      ...(opts.servername ? { servername: opts.servername } : {}),
      ALPNProtocols: opts.alpn ?? ['http/1.1'],
      ...(opts.maxVersion ? { maxVersion: opts.maxVersion } : {}),
      ...(opts.session ? { session: opts.session } : {}),
    });
    let session: Buffer | undefined;
    socket.on('session', (s: Buffer) => { session = s; });
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      // a request makes the server send its TLS 1.3 tickets before we look
      socket.write('GET /bytes/16 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
      socket.resume();
      socket.once('end', () => {
        resolve({ names: cert.subjectaltname ?? '', fingerprint: cert.fingerprint256, alpn: socket.alpnProtocol, version: socket.getProtocol(), reused: socket.isSessionReused(), session });
      });
    });
    socket.once('error', reject);
  });
}

function get(url: string, agent?: https.Agent): Promise<{ status: number; localPort: number | undefined; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    https.get(url, { ca: ca.ca, ...(agent ? { agent } : {}) }, (res) => {
      const s = res.socket as tls.TLSSocket;
      const out = { status: res.statusCode!, localPort: s.localPort, fingerprint: s.getPeerCertificate().fingerprint256 };
      res.resume();
      res.once('end', () => resolve(out));
    }).once('error', reject);
  });
}

async function waitForLog(role: RunningRole, event: string, after: number): Promise<Record<string, unknown>> {
  for (let i = 0; i < 200; i++) {
    const hit = role.logs.slice(after).find((l) => l.event === event);
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no ${event} log line; got ${JSON.stringify(role.logs.slice(after))}`);
}

test('TLS listener: SNI chooses the pair (exact, wildcard, default), ALPN offers h2, HTTP/1.1 answers, sessions resume, a loose key is warned about', async (t) => {
  chmodSync(wild.keyFile, 0o644);
  const origin = await startRole(['origin', '--listen', '127.0.0.1:0',
    '--tls-cert', main.certFile, '--tls-key', main.keyFile,
    '--tls-cert', wild.certFile, '--tls-key', wild.keyFile,
    '--tls-cert', exact.certFile, '--tls-key', exact.keyFile]);
  t.after(() => origin.stop());
  assert.match(origin.url, /^https:\/\/127\.0\.0\.1:\d+$/, 'the listening line says https');
  const warn = origin.logs.find((l) => l.event === 'tls-key-permissions');
  assert.equal(warn?.file, wild.keyFile, 'the group/other-readable key is named in a warning');
  assert.equal(origin.logs.filter((l) => l.event === 'tls-key-permissions').length, 1, 'only that key');

  assert.match((await handshake(origin.port, { servername: 'localhost' })).names, /DNS:localhost/);
  assert.match((await handshake(origin.port, { servername: 'exact.test' })).names, /DNS:exact\.test/);
  assert.match((await handshake(origin.port, { servername: 'www.wild.test' })).names, /DNS:\*\.wild\.test/);
  assert.match((await handshake(origin.port, { servername: 'a.b.wild.test' })).names, /DNS:localhost/, 'one label only: default');
  assert.match((await handshake(origin.port)).names, /DNS:localhost/, 'no SNI: the first pair');

  const h2 = await handshake(origin.port, { servername: 'localhost', alpn: ['h2', 'http/1.1'] });
  assert.equal(h2.alpn, 'h2', 'h2 is offered by ALPN');
  const stdout = execFileSync('openssl', ['s_client', '-connect', `127.0.0.1:${origin.port}`, '-alpn', 'h2,http/1.1', '-servername', 'exact.test'], { input: '', timeout: 10_000, stdio: ['pipe', 'pipe', 'ignore'] }).toString();
  assert.match(stdout, /ALPN protocol: h2/);
  assert.match(stdout, /CN\s*=\s*exact\.test/, 's_client saw the certificate chosen by SNI');

  const res = await get(`https://localhost:${origin.port}/bytes/16`);
  assert.equal(res.status, 200, 'HTTP/1.1 over TLS, verified against the test CA');
  const { stdout: curl } = await promisify(execFile)('curl', ['-sS', '--http1.1', '--cacert', ca.caFile, '-o', '/dev/null', '-w', '%{http_code} %{http_version}', `https://localhost:${origin.port}/bytes/16`], { timeout: 10_000 });
  assert.equal(curl, '200 1.1');

  const first = await handshake(origin.port, { servername: 'localhost' });
  assert.equal(first.version, 'TLSv1.3');
  assert.ok(first.session, 'the server sent a session ticket');
  const again = await handshake(origin.port, { servername: 'localhost', session: first.session! });
  assert.equal(again.reused, true, 'the session is resumed');
});

test('--tls-min-version 1.3 refuses TLS 1.2; --http2 false offers only http/1.1', async (t) => {
  const origin = await startRole(['origin', '--listen', '127.0.0.1:0', '--tls-cert', main.certFile, '--tls-key', main.keyFile, '--tls-min-version', '1.3', '--http2', 'false']);
  t.after(() => origin.stop());
  await assert.rejects(handshake(origin.port, { servername: 'localhost', maxVersion: 'TLSv1.2' }), /protocol version|alert/i);
  const ok = await handshake(origin.port, { servername: 'localhost', alpn: ['h2', 'http/1.1'] });
  assert.equal(ok.alpn, 'http/1.1');
  assert.equal(ok.version, 'TLSv1.3');
});

test('reload: a changed pair is used by new handshakes while an open keep-alive connection goes on; a broken pair is refused; SIGHUP re-reads', async (t) => {
  const certFile = join(ca.dir, 'live.pem');
  const keyFile = join(ca.dir, 'live.key');
  copyFileSync(main.certFile, certFile);
  copyFileSync(main.keyFile, keyFile);
  const next = ca.leaf(['localhost', '127.0.0.1']);
  const origin = await startRole(['origin', '--listen', '127.0.0.1:0', '--tls-cert', certFile, '--tls-key', keyFile], {
    alerts: { expectedLog: (l) => l.event === 'tls-reload-refused' },
  });
  t.after(() => origin.stop());
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const url = `https://localhost:${origin.port}/bytes/16`;
  const before = await get(url, agent);
  assert.equal(before.fingerprint, (await handshake(origin.port, { servername: 'localhost' })).fingerprint);

  let mark = origin.logs.length;
  writeFileSync(keyFile, next.key);
  writeFileSync(certFile, next.cert);
  await waitForLog(origin, 'tls-reloaded', mark);
  const fresh = await handshake(origin.port, { servername: 'localhost' });
  assert.notEqual(fresh.fingerprint, before.fingerprint, 'a new handshake sees the new certificate');
  assert.equal((await handshake(origin.port)).fingerprint, fresh.fingerprint, 'so does one without SNI (the default context)');
  const kept = await get(url, agent);
  assert.equal(kept.status, 200);
  assert.equal(kept.localPort, before.localPort, 'the open connection was reused, not dropped');
  assert.equal(kept.fingerprint, before.fingerprint, 'and it still runs on the old handshake');

  mark = origin.logs.length;
  writeFileSync(certFile, 'not a certificate\n');
  const refused = await waitForLog(origin, 'tls-reload-refused', mark);
  assert.match(String(refused.msg), /previous one stays in use/);
  assert.equal((await handshake(origin.port, { servername: 'localhost' })).fingerprint, fresh.fingerprint, 'the last good pair stays');

  writeFileSync(certFile, next.cert); // good again (the watcher reloads it too)
  await waitForLog(origin, 'tls-reloaded', mark);
  mark = origin.logs.length;
  origin.proc.kill('SIGHUP');
  await waitForLog(origin, 'tls-reloaded', mark);
  assert.equal((await get(url)).status, 200, 'still serving after SIGHUP');
});

test('bad TLS flags are usage errors (exit 2) naming the problem', async () => {
  const unpaired = await runCli(['origin', '--listen', '127.0.0.1:0', '--tls-cert', main.certFile]);
  assert.equal(unpaired.code, 2);
  assert.match(unpaired.stderr, /--tls-cert and --tls-key come in pairs/);
  const mismatch = await runCli(['origin', '--listen', '127.0.0.1:0', '--tls-cert', main.certFile, '--tls-key', exact.keyFile]);
  assert.equal(mismatch.code, 2);
  assert.match(mismatch.stderr, new RegExp(`TLS pair ${main.certFile}.*key values mismatch`));
});
