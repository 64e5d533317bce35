/** Idle sessions expire: the target connection is closed and the store holds nothing for them. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { startRole } from '../helpers/cli.ts';
import { createSilentLogger } from '../../src/server/logger.ts';
import { GatewayTransport } from '../../src/relay/gateway-transport.ts';
import { formatOpenRequest, H, RELAY_PATHS } from '../../src/relay/protocol.ts';
import { newRelayCounters } from '../../src/relay/relay-stats.ts';
import { getJson, SECRET } from './harness.ts';

test('an abandoned session is freed after --session-ttl: target socket closed, no chunks kept, 410 afterwards', async () => {
  const open = new Set<net.Socket>();
  let received = '';
  const tcp = net.createServer((s) => { open.add(s); s.on('data', (d) => { received += d.toString(); }); s.on('close', () => open.delete(s)); });
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  const port = (tcp.address() as net.AddressInfo).port;
  const server = await startRole(['relay-server', '--listen', '127.0.0.1:0', '--session-ttl', '1s', '--log-level', 'warn'], { env: { FERRY_RELAY_SECRET: SECRET } });
  const transport = new GatewayTransport({
    gateway: new URL(server.url), secret: Buffer.from(SECRET), sigv4: undefined, retries: 2, pollTimeoutMs: 20_000,
    maxMessage: 1024 * 1024, counters: newRelayCounters(), log: createSilentLogger(),
  });
  try {
    const id = randomUUID();
    const r = await transport.call(RELAY_PATHS.open, { [H.session]: id }, formatOpenRequest({ kind: 'connect', host: '127.0.0.1', port }));
    assert.equal(r.status, 200);
    const up = await transport.call(RELAY_PATHS.up, { [H.session]: id, [H.index]: '0', [H.fin]: '0' }, Buffer.from('hello'));
    assert.equal(up.status, 200);
    for (let i = 0; i < 100 && received !== 'hello'; i++) await sleep(20);
    assert.equal(received, 'hello');
    let stats = await getJson(`${server.url}/stats`);
    assert.equal(stats.sessions.open, 1);
    assert.equal(stats.store.sessions, 1);
    assert.equal(open.size, 1);
    // The client goes silent. Bounded wait (not a timing assertion): TTL 1 s + sweeps.
    for (let i = 0; i < 150 && (open.size > 0 || stats.sessions.open > 0); i++) {
      await sleep(100);
      stats = await getJson(`${server.url}/stats`);
    }
    assert.equal(open.size, 0, 'the target connection was closed');
    assert.equal(stats.sessions.open, 0);
    assert.equal(stats.sessions.expired, 1);
    assert.equal(stats.store.sessions, 0);
    assert.equal(stats.store.chunks, 0);
    assert.equal(stats.store.bytes, 0);
    const late = await transport.call(RELAY_PATHS.down, { [H.session]: id, [H.index]: '0', [H.ack]: '0' }, Buffer.alloc(0));
    assert.equal(late.status, 410);
  } finally {
    await transport.close();
    await server.stop();
    await new Promise<void>((resolve) => { tcp.close(() => resolve()); for (const s of open) s.destroy(); });
  }
});
