/**
 * Every role listens over TLS with --tls-cert/--tls-key and connects out over verified TLS: a client → proxy (TLS)
 * → origin (TLS) chain, and relay-client (TLS listener) → https gateway = relay-server (TLS listener) → target.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { createTestCa } from '../helpers/certs.ts';
import { startRole } from '../helpers/cli.ts';
import { SECRET } from '../relay/harness.ts';

const ca = createTestCa();
const pair = ca.leaf(['localhost', '127.0.0.1']);
const tlsArgs = ['--tls-cert', pair.certFile, '--tls-key', pair.keyFile];

function curl(args: string[]): Promise<string> {
  return promisify(execFile)('curl', ['-sS', '--http1.1', '-w', ' %{http_code}', ...args], { timeout: 20_000 }).then((r) => r.stdout);
}

test('proxy over TLS in front of an origin over TLS: HTTP/1.1 end to end, verified on both hops; SIGHUP re-reads the pair and it keeps serving', async (t) => {
  const origin = await startRole(['origin', '--listen', '127.0.0.1:0', ...tlsArgs]);
  t.after(() => origin.stop());
  const proxy = await startRole(['proxy', '--listen', '127.0.0.1:0', ...tlsArgs, '--upstream', `https://localhost:${origin.port}`, '--upstream-ca', ca.caFile]);
  t.after(() => proxy.stop());
  assert.match(proxy.url, /^https:/);
  const body = await curl(['--cacert', ca.caFile, `https://localhost:${proxy.port}/bytes/16`]);
  assert.match(body, / 200$/);
  assert.equal(body.length, 16 + ' 200'.length, '16 body bytes came through both TLS hops');
  const head = await curl(['--cacert', ca.caFile, '-D', '-', '-o', '/dev/null', `https://localhost:${proxy.port}/bytes/1`]);
  assert.match(head, /via: 1\.1 ferry/i);
  // the hardened server's limits hold over TLS (server/http-server.ts): an oversized head is a 431, not a crash
  const big = await curl(['--cacert', ca.caFile, '-o', '/dev/null', '-H', `x-big: ${'a'.repeat(20_000)}`, `https://localhost:${proxy.port}/bytes/1`]);
  assert.match(big, / 431$/);
  const mark = proxy.logs.length;
  proxy.proc.kill('SIGHUP');
  for (let i = 0; i < 100 && !proxy.logs.slice(mark).some((l) => l.event === 'tls-reloaded'); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(proxy.logs.slice(mark).some((l) => l.event === 'tls-reloaded'), 'SIGHUP re-read the pair');
  assert.match(await curl(['--cacert', ca.caFile, '-o', '/dev/null', `https://localhost:${proxy.port}/bytes/1`]), / 200$/);
});

test('relay over TLS: relay-client listens over TLS and reaches an https gateway (relay-server over TLS) verified with --upstream-ca', async (t) => {
  const target = http.createServer((req, res) => res.end(`target saw ${req.url}`));
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  after(() => { target.closeAllConnections(); target.close(); });
  const env = { FERRY_RELAY_SECRET: SECRET };
  const server = await startRole(['relay-server', '--listen', '127.0.0.1:0', ...tlsArgs], { env });
  t.after(() => server.stop());
  assert.match(server.url, /^https:/);
  const client = await startRole(['relay-client', '--listen', '127.0.0.1:0', ...tlsArgs, '--gateway', `https://localhost:${server.port}`, '--upstream-ca', ca.caFile], { env });
  t.after(() => client.stop());
  assert.match(client.url, /^https:/);
  const out = await curl(['--proxy', `https://localhost:${client.port}`, '--proxy-cacert', ca.caFile, `http://127.0.0.1:${(target.address() as AddressInfo).port}/x?y=1`]);
  assert.equal(out, 'target saw /x?y=1 200');
});
