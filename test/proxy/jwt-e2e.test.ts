/**
 * JWT injection end to end (SPEC: JWT; RELIABILITY J1–J6): a spawned `ferry proxy` signing into requests to a
 * fixture that records the raw header lines it receives; tokens verified independently with jose, algorithm pinned.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jwtVerify } from 'jose';
import { isUuidV4 } from '../../src/http/jwt-claims.ts';
import { runCli, startRole, type RunningRole } from '../helpers/cli.ts';

// A printable secret, so a grep of every output can look for it (J3).
const SECRET = `ferry-test-secret-${randomBytes(48).toString('hex')}`;
const KEY = new TextEncoder().encode(SECRET);
let dir: string;
let fixture: http.Server;
let fixtureUrl: string;
let proxy: RunningRole;
/** Raw header lines [name, value] named like the JWT header, per request, in arrival order. */
const received: Array<Array<[string, string]>> = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-jwt-'));
  fixture = http.createServer((req, res) => {
    const lines: Array<[string, string]> = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (/^(x-my-jwt|x-token)$/i.test(req.rawHeaders[i]!)) lines.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
    }
    received.push(lines);
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
  });
  await new Promise<void>((r) => fixture.listen(0, '127.0.0.1', r));
  fixtureUrl = `http://127.0.0.1:${(fixture.address() as AddressInfo).port}`;
  proxy = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', fixtureUrl], { env: { FERRY_JWT_SECRET: SECRET } });
});

after(async () => {
  await proxy?.stop();
  await new Promise<void>((r) => (fixture ? fixture.close(() => r()) : r()));
  rmSync(dir, { recursive: true, force: true });
});

/** One raw request on a fresh socket (duplicate and oddly cased fields exactly as written). */
function rawGet(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(head));
    let out = '';
    s.setEncoding('latin1');
    s.on('data', (c: string) => { out += c; if (/\r\n\r\nok$/.test(out)) s.end(); });
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

async function verify(token: string) {
  return (await jwtVerify(token, KEY, { algorithms: ['HS512'] })).payload;
}

test('every forwarded request carries one fresh HS512 token that jose verifies (J1, J4, J6 on keep-alive)', async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const start = received.length;
  const N = 200;
  const sockets = new Set<net.Socket>();
  for (let i = 0; i < N; i++) {
    await new Promise<void>((resolve, reject) => {
      http.get(`${proxy.url}/p${i}`, { agent }, (res) => { sockets.add(res.socket); res.resume(); res.on('end', resolve); }).on('error', reject);
    });
  }
  agent.destroy();
  assert.equal(sockets.size, 1, 'all requests on one keep-alive connection');
  const batch = received.slice(start);
  assert.equal(batch.length, N);
  const jtis = new Set<string>();
  const now = Math.floor(Date.now() / 1000);
  for (const lines of batch) {
    assert.equal(lines.length, 1);
    const p = await verify(lines[0]![1]);
    assert.ok(isUuidV4(p.jti!));
    jtis.add(p.jti!);
    assert.ok(Number.isInteger(p.iat) && Math.abs(p.iat! - now) <= 60);
    assert.deepEqual(p.payload, { user: 'username', date: new Date(p.iat! * 1000).toISOString().slice(0, 10) });
  }
  assert.equal(jtis.size, N);
});

test('client copies of the header (any case, repeated, empty) never reach the upstream; one token does (J5)', async () => {
  const start = received.length;
  const reply = await rawGet(proxy.port, 'GET /forged HTTP/1.1\r\nHost: h\r\nX-MY-JWT: forged.token.one\r\nx-my-jwt:\r\nX-My-Jwt: forged-two\r\nConnection: close\r\n\r\n');
  assert.match(reply, /^HTTP\/1\.1 200 /);
  const lines = received[start]!;
  assert.equal(lines.length, 1);
  assert.equal(lines[0]![0].toLowerCase(), 'x-my-jwt');
  assert.ok(!/forged/.test(lines[0]![1]));
  await verify(lines[0]![1]);
});

test('a Connection header naming the JWT field does not remove ferry\'s token (RELIABILITY S7)', async () => {
  const start = received.length;
  await rawGet(proxy.port, 'GET /conn HTTP/1.1\r\nHost: h\r\nConnection: close, x-my-jwt\r\nx-my-jwt: forged\r\n\r\n');
  const lines = received[start]!;
  assert.equal(lines.length, 1);
  await verify(lines[0]![1]);
});

test('--jwt-secret-file, --jwt-header, --jwt-alg, --jwt-user and --jwt-claims shape the token', async () => {
  const file = join(dir, 'secret');
  writeFileSync(file, `${SECRET}\n`, { mode: 0o600 });
  const claims = join(dir, 'claims.json');
  writeFileSync(claims, JSON.stringify({ iss: 'ferry-test', scope: ['read'] }));
  const p = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', fixtureUrl, '--jwt-secret-file', file,
    '--jwt-header', 'X-Token', '--jwt-alg', 'HS256', '--jwt-user', 'alice', '--jwt-claims', claims]);
  try {
    const start = received.length;
    const res = await fetch(`${p.url}/custom`, { headers: { 'x-token': 'forged' } });
    assert.equal(res.status, 200);
    const lines = received[start]!;
    assert.deepEqual(lines.map(([n]) => n.toLowerCase()), ['x-token']);
    const { payload, protectedHeader } = await jwtVerify(lines[0]![1], KEY, { algorithms: ['HS256'], issuer: 'ferry-test' });
    assert.deepEqual(protectedHeader, { alg: 'HS256', typ: 'JWT' });
    assert.equal((payload.payload as { user: string }).user, 'alice');
    assert.deepEqual(payload.scope, ['read']);
  } finally {
    await p.stop();
  }
});

test('a group/other-readable secret file gets a warning; the secret appears in no output (J3)', async () => {
  const file = join(dir, 'open-secret');
  writeFileSync(file, SECRET);
  chmodSync(file, 0o644);
  const p = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', fixtureUrl, '--jwt-secret-file', file]);
  try {
    await (await fetch(`${p.url}/a`)).text();
    const stats = await (await fetch(`${p.url}/stats`)).text();
    const metrics = await (await fetch(`${p.url}/metrics`)).text();
    await new Promise((r) => setTimeout(r, 100)); // let the access line arrive
    const warn = p.logs.find((l) => l.event === 'jwt-secret-permissions');
    assert.ok(warn, 'warning logged');
    const everything = [JSON.stringify(p.logs), p.stderr(), stats, metrics, JSON.stringify(proxy.logs), proxy.stderr()].join('\n');
    assert.ok(!everything.includes(SECRET) && !everything.includes(SECRET.slice(19)));
  } finally {
    await p.stop();
  }
  const help = await runCli(['proxy', '--help'], { FERRY_JWT_SECRET: SECRET });
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--jwt-secret-file/);
  assert.ok(!help.stdout.includes(SECRET) && !help.stderr.includes(SECRET));
});

test('bad JWT configuration exits 2 with a clear message and never echoes the secret (J2, J3)', async () => {
  const short = 'only-forty-bytes-of-secret-0123456789abc';
  const cases: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
    [[], { FERRY_JWT_SECRET: short }, /HS512 needs at least 64 bytes/],
    [['--jwt-alg', 'HS384'], { FERRY_JWT_SECRET: short }, /HS384 needs at least 48 bytes/],
    [['--jwt-alg', 'none'], { FERRY_JWT_SECRET: SECRET }, /not one of HS256, HS384, HS512/],
    [['--jwt-secret', SECRET], {}, /unknown flag --jwt-secret/],
    [['--jwt-secret-file', join(dir, 'nope')], {}, /cannot read/],
  ];
  for (const [args, env, re] of cases) {
    const r = await runCli(['proxy', '--listen', '127.0.0.1:0', '--upstream', fixtureUrl, ...args], env);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, re);
    assert.ok(!r.stderr.includes(short) && !r.stdout.includes(short));
    assert.ok(!r.stderr.includes(SECRET) && !r.stdout.includes(SECRET));
  }
});
