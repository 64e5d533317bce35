/** The relay commands' configuration rules: secrets never from argv, never logged; no secret → refuse to start. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli, startRole } from '../helpers/cli.ts';

const NO_SECRET = { FERRY_RELAY_SECRET: undefined } as unknown as NodeJS.ProcessEnv;

test('relay-server refuses to start without a secret unless told the gateway alone authenticates', async () => {
  const r = await runCli(['relay-server', '--listen', '127.0.0.1:0'], { ...NO_SECRET });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /needs a secret.*--insecure-gateway-auth-only/);
  const insecure = await startRole(['relay-server', '--listen', '127.0.0.1:0', '--insecure-gateway-auth-only'], { env: NO_SECRET });
  try {
    assert.ok(insecure.logs.some((l) => l.event === 'relay-insecure'), 'the insecure mode is announced');
  } finally {
    await insecure.stop();
  }
});

test('secrets: no --secret flag, short secrets refused, the secret is never logged', async () => {
  assert.equal((await runCli(['relay-server', '--secret', 'abc'])).code, 2);
  const short = await runCli(['relay-server', '--listen', '127.0.0.1:0'], { FERRY_RELAY_SECRET: 'short' });
  assert.equal(short.code, 2);
  assert.match(short.stderr, /at least 16 bytes/);
  const dir = mkdtempSync(join(tmpdir(), 'ferry-relay-cli-'));
  const secret = 'a-file-secret-that-must-not-leak-0123456789';
  try {
    writeFileSync(join(dir, 's'), `${secret}\n`);
    const s = await startRole(['relay-server', '--listen', '127.0.0.1:0', '--secret-file', join(dir, 's'), '--log-level', 'debug'], { env: NO_SECRET });
    await fetch(`${s.url}/relay/v1/open`, { method: 'POST', body: '{}' });
    await s.stop();
    assert.ok(!JSON.stringify(s.logs).includes(secret) && !s.stderr().includes(secret));
    assert.ok(s.logs.some((l) => l.event === 'relay-auth-refused'), 'the refused message was logged');
    const missing = await runCli(['relay-server', '--secret-file', join(dir, 'nope')]);
    assert.equal(missing.code, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('relay-client needs --gateway and validates sizes and the poll bound', async () => {
  const env = { FERRY_RELAY_SECRET: 'x'.repeat(32) };
  assert.match((await runCli(['relay-client'], env)).stderr, /--gateway/);
  assert.equal((await runCli(['relay-client', '--gateway', 'http://127.0.0.1:1', '--max-message', '4KiB'], env)).code, 2);
  assert.equal((await runCli(['relay-client', '--gateway', 'http://127.0.0.1:1', '--poll-timeout', '29s'], env)).code, 2);
  assert.equal((await runCli(['relay-client', '--gateway', 'http://127.0.0.1:1', '--sigv4'], env)).code, 2);
});

test('--help lists every relay flag with its default', async () => {
  const server = await runCli(['relay-server', '--help']);
  for (const f of ['--listen', '--store', '--connect-ports', '--insecure-gateway-auth-only', '--max-message', '--secret-file', '--session-ttl', '--poll-timeout', '--window', '--stats-path']) {
    assert.ok(server.stdout.includes(f), f);
  }
  assert.match(server.stdout, /--session-ttl DURATION .*\(default: 5m\)/);
  const client = await runCli(['relay-client', '--help']);
  for (const f of ['--gateway', '--retries', '--sigv4', '--region', '--service', '--window']) assert.ok(client.stdout.includes(f), f);
  assert.match(client.stdout, /--max-message SIZE .*\(default: 1MiB\)/);
});

test('SIGTERM: no new sessions, open ones are served to their end, then a clean exit', async () => {
  const { GatewayTransport } = await import('../../src/relay/gateway-transport.ts');
  const { createSilentLogger } = await import('../../src/server/logger.ts');
  const { newRelayCounters } = await import('../../src/relay/relay-stats.ts');
  const { formatOpenRequest, H, RELAY_PATHS } = await import('../../src/relay/protocol.ts');
  const net = await import('node:net');
  const tcp = net.createServer((s) => s.on('data', (d) => s.write(d)));
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  const port = (tcp.address() as import('node:net').AddressInfo).port;
  const secret = 's'.repeat(32);
  const server = await startRole(['relay-server', '--listen', '127.0.0.1:0', '--shutdown-grace', '20s'], { env: { FERRY_RELAY_SECRET: secret } });
  const transport = new GatewayTransport({
    gateway: new URL(server.url), secret: Buffer.from(secret), sigv4: undefined, retries: 0, pollTimeoutMs: 20_000,
    maxMessage: 1024 * 1024, counters: newRelayCounters(), log: createSilentLogger(),
  });
  try {
    const id = 'shutdown-test-session-01';
    assert.equal((await transport.call(RELAY_PATHS.open, { [H.session]: id }, formatOpenRequest({ kind: 'connect', host: '127.0.0.1', port }))).status, 200);
    const exited = server.stop(30_000);
    let refused = 0;
    for (let i = 0; i < 50 && refused === 0; i++) { // the signal is asynchronous: wait until it is seen
      const r = await transport.once(RELAY_PATHS.open, { [H.session]: `another-session-${i}-000000` }, formatOpenRequest({ kind: 'connect', host: '127.0.0.1', port }));
      if (r.status === 503) { assert.equal(r.headers[H.error], 'closing'); refused++; }
      else await transport.call(RELAY_PATHS.close, { [H.session]: `another-session-${i}-000000` }, Buffer.alloc(0));
    }
    assert.equal(refused, 1, 'a new session was refused during shutdown');
    // The open session still works: one echo round trip through it, then the client closes it.
    assert.equal((await transport.call(RELAY_PATHS.up, { [H.session]: id, [H.index]: '0', [H.fin]: '0' }, Buffer.from('ping'))).status, 200);
    const down = await transport.call(RELAY_PATHS.down, { [H.session]: id, [H.index]: '0', [H.ack]: '0' }, Buffer.alloc(0));
    assert.equal(down.status, 200);
    assert.equal(Buffer.concat(down.parts).toString(), 'ping');
    assert.equal((await transport.call(RELAY_PATHS.close, { [H.session]: id }, Buffer.alloc(0))).status, 204);
    assert.equal(await exited, 0);
  } finally {
    await transport.close();
    await server.stop();
    await new Promise<void>((resolve) => tcp.close(() => resolve()));
  }
});
