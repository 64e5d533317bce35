/**
 * The test gateway's passive health check (test/fixtures/gateway.ts), which the relay failover tests rely on: a target
 * that refuses connections is skipped, a target whose request was cut because the gateway's own client left is not.
 * Counting the second marked the surviving relay-server down in relay-redis.test.ts's kill test (a relay-client
 * cancels the long polls it no longer needs at the end of every transfer), and with both instances marked down the
 * round robin sent half of the retries to the killed one, until one message had used up its --retries.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { startGateway } from '../fixtures/gateway.ts';

/** A target that answers at once, except `/hold`, which it keeps open (a long poll) and reports. */
async function startTarget(): Promise<{ url: string; held: http.IncomingMessage[]; server: http.Server }> {
  const held: http.IncomingMessage[] = [];
  const server = http.createServer((req, res) => {
    if (req.url === '/hold') { held.push(req); server.emit('held', req); return; }
    req.resume();
    res.end('ok');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, held, server };
}

async function post(url: string, signal?: AbortSignal): Promise<number> {
  const r = await fetch(url, { method: 'POST', body: '', ...(signal ? { signal } : {}) });
  await r.arrayBuffer();
  return r.status;
}

test('the test gateway skips a target that refuses connections, not one whose request its own client abandoned', async () => {
  const targets = [await startTarget(), await startTarget()];
  const g = await startGateway({ targets: targets.map((t) => t.url), maxMessage: 64 * 1024 });
  try {
    // A client gives up on a request the gateway is holding open at target 0 (round robin starts there).
    const abort = new AbortController();
    const arrived = once(targets[0]!.server, 'held');
    const gaveUp = post(`${g.url}/hold`, abort.signal).catch((err: unknown) => err);
    const [req] = await arrived as [http.IncomingMessage];
    // target 0 sees the gateway end the forwarded request (as 'aborted' and then 'close')
    const cut = new Promise<void>((resolve) => { req.on('error', () => { /* expected: aborted */ }); req.on('close', resolve); });
    abort.abort();
    await gaveUp;
    await cut;
    const before = [...g.counts.perTarget];
    for (let i = 0; i < 10; i++) assert.equal(await post(`${g.url}/x`), 200);
    assert.deepEqual(g.counts.perTarget.map((n, i) => n - before[i]!), [5, 5], 'both targets still take turns');

    // A target that is gone (connection refused) is skipped: every following request reaches the other one.
    targets[1]!.server.close();
    targets[1]!.server.closeAllConnections();
    await once(targets[1]!.server, 'close');
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push(await post(`${g.url}/x`));
    assert.ok(statuses.filter((s) => s === 502).length <= 1, `at most the first request reaches the closed target (${statuses.join(',')})`);
    assert.equal(statuses.at(-1), 200);
  } finally {
    await g.close();
    for (const t of targets) { t.server.closeAllConnections(); t.server.close(); }
  }
});
