/**
 * The relay behind a gateway with real latency (issue 18): the client's window adapts to the round trip
 * (src/relay/window-controller.ts) within --session-memory, and every byte still arrives once, in order.
 * Through test/fixtures/gateway.ts with 60 ms added to every message. No speed is asserted (the machine is shared):
 * the test counts the messages the gateway held at once, which the window decides.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { patternSha256, patternStream, startRelayPair, startTarget, viaProxy, type RelayPair, type Target } from './harness.ts';

const MiB = 1024 * 1024;
const SIZE = 48 * MiB;
let target: Target;
const pairs: RelayPair[] = [];

before(async () => { target = await startTarget(); });
after(async () => {
  await Promise.all(pairs.map((p) => p.close()));
  await target.close();
});

async function transfers(p: RelayPair): Promise<void> {
  const down = await viaProxy(p.client.url, 'GET', `${target.url}/bytes/${SIZE}`);
  assert.equal(down.status, 200);
  assert.equal(down.bytes, SIZE);
  assert.equal(down.sha256, patternSha256(SIZE));
  const up = await viaProxy(p.client.url, 'POST', `${target.url}/echo`, patternStream(SIZE), { 'content-length': String(SIZE) });
  assert.equal(up.status, 200);
  assert.equal(up.bytes, SIZE);
  assert.equal(up.sha256, patternSha256(SIZE));
}

test('60 ms per message: the window grows past --window 4 (more messages in flight), bytes exact both ways', async (t) => {
  const p = await startRelayPair({ latencyMs: 60 });
  pairs.push(p);
  await transfers(p);
  t.diagnostic(`most messages held at once: ${p.gateway.counts.maxInFlight}`);
  // one session at a time: with the fixed window 4 per direction the gateway holds at most 4 polls + 4 up chunks, the
  // open they ride behind (client-session.ts beginOpen), the last session's close and its one poll past the end of
  // its response (cancelled by the client, still held until the close reaches relay-server)
  assert.ok(p.gateway.counts.maxInFlight > 11, `the gateway held at most ${p.gateway.counts.maxInFlight} messages at once`);
  assert.ok(p.gateway.largestRequest() <= MiB && p.gateway.largestResponse() <= MiB);
});

test('--session-memory bounds the window: 2 MiB leaves it at --window 4, bytes exact both ways', async () => {
  const p = await startRelayPair({ latencyMs: 60, clientArgs: ['--session-memory', '2MiB'], serverArgs: ['--session-memory', '2MiB'] });
  pairs.push(p);
  await transfers(p);
  assert.ok(p.gateway.counts.maxInFlight <= 11, `the gateway held ${p.gateway.counts.maxInFlight} messages at once`);
});
