/**
 * The relay-server's Redis stalls (issue 12 item 3, issue 17 "every Redis call is bounded"): a real redis-server paused
 * with SIGSTOP in the middle of an upload through the relay. The request fails within 15 s at default settings (the
 * store answers a retryable 503 after its 1 s command timeout, the client retries within --retries, then 502), the
 * failure is logged naming Redis (once per outage on the server), and after SIGCONT traffic recovers by itself.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '../fixtures/proxy.ts';
import { redisUnavailable, startRedis, type RunningRedis } from '../helpers/redis.ts';
import { seededRandom } from '../helpers/seeded-random.ts';
import { patternSha256, patternStream, startRelayPair, startTarget, viaProxy, type ProxiedResult, type RelayPair, type Target } from './harness.ts';

const MiB = 1024 * 1024;
/** The bound the issue states for default settings (--retries 5, --poll-timeout 20s). */
const BOUND_MS = 15_000;
const skip = redisUnavailable();

function randomBody(seed: number, size: number): Buffer {
  const rand = seededRandom(seed);
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('relay-server with a paused (SIGSTOP) Redis', { skip: skip ?? false }, () => {
  let redis: RunningRedis;
  let pair: RelayPair;
  let target: Target;
  let paused = false;
  before(async () => {
    redis = await startRedis();
    target = await startTarget();
    // Default --retries and --poll-timeout: the bound is the one users get.
    pair = await startRelayPair({ maxMessage: 64 * 1024, serverArgs: ['--store', redis.url, '--log-level', 'info'], clientArgs: ['--log-level', 'info'] });
  });
  after(async () => {
    if (paused) redis.signal('SIGCONT');
    await pair?.close();
    await target?.close();
    await redis?.stop();
  });

  test('an upload in flight fails within 15 s with 502 and a log line naming Redis; after SIGCONT a new transfer is byte-exact', async (t) => {
    // Warm up: the path works before the outage.
    const warm = await viaProxy(pair.client.url, 'GET', `${target.url}/bytes/${MiB}`);
    assert.equal(warm.sha256, patternSha256(MiB));

    // An upload whose response head cannot come before its body ends (the target answers at the end of the body).
    const body = new PassThrough();
    const pending: Promise<ProxiedResult> = viaProxy(pair.client.url, 'POST', `${target.url}/upload`, body, { 'content-length': String(64 * MiB) });
    pending.catch(() => { /* awaited below */ });
    const first = randomBody(1, MiB);
    body.write(first);
    // Let the first chunks travel through Redis before the pause.
    const opened = Date.now();
    while (Date.now() - opened < 10_000) {
      const stats = await fetch(`${pair.servers[0]!.url}/stats`).then((r) => r.json()) as { chunks: { up: number } };
      if (stats.chunks.up >= 4) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    redis.signal('SIGSTOP');
    paused = true;
    const t0 = performance.now();
    body.write(randomBody(2, MiB)); // more bytes arrive while Redis is stalled
    const outcome = await Promise.race([
      pending.then((r) => ({ kind: 'answer' as const, r }), (err: Error) => ({ kind: 'cut' as const, err })),
      new Promise<{ kind: 'hang' }>((resolve) => setTimeout(() => resolve({ kind: 'hang' }), BOUND_MS + 5_000).unref()),
    ]);
    const elapsed = performance.now() - t0;
    t.diagnostic(`time to failure with Redis paused: ${elapsed.toFixed(0)} ms (bound ${BOUND_MS} ms)`);
    body.destroy();
    assert.notEqual(outcome.kind, 'hang', `no answer ${BOUND_MS + 5_000} ms after Redis was paused`);
    assert.equal(outcome.kind, 'answer', `the application gets an answer, not a cut connection (${outcome.kind === 'cut' ? outcome.err.message : ''})`);
    assert.equal(outcome.r.status, 502);
    assert.match(outcome.r.text, /Redis/, 'the answer says what failed');
    assert.ok(elapsed < BOUND_MS, `failed after ${elapsed.toFixed(0)} ms`);

    // The client's failure line and the server's store line both name Redis; the server logs the outage once.
    // (log lines are written in batches: wait for them)
    await waitFor(() => pair.client.logs.some((l) => l.event === 'relay-failed'), 'the relay-client failure line');
    const clientLine = pair.client.logs.find((l) => l.event === 'relay-failed')!;
    assert.match(String(clientLine.err), /Redis/);
    const down = () => pair.servers[0]!.logs.filter((l) => l.event === 'relay-store-unavailable');
    await waitFor(() => down().length > 0, 'the relay-server store line');
    assert.equal(down().length, 1, `one store line per outage: ${JSON.stringify(down())}`);
    assert.match(String(down()[0]!.msg), /Redis/);
    assert.equal(down()[0]!.level, 'warn');

    // A second request during the same outage fails too, without a second store line.
    const during = await viaProxy(pair.client.url, 'GET', `${target.url}/bytes/${MiB}`);
    assert.equal(during.status, 502);
    assert.equal(down().length, 1, 'still one store line for the one outage');

    redis.signal('SIGCONT');
    paused = false;
    // Recovery by itself: no restart of anything. The first request after SIGCONT succeeds, byte-exact both ways.
    const upload = randomBody(3, 3 * MiB + 17);
    const r1 = await viaProxy(pair.client.url, 'POST', `${target.url}/echo`, PassThrough.from([upload]), { 'content-length': String(upload.length) });
    assert.equal(r1.status, 200);
    assert.equal(r1.sha256, sha256(upload));
    const r2 = await viaProxy(pair.client.url, 'GET', `${target.url}/bytes/${5 * MiB}`);
    assert.equal(r2.status, 200);
    assert.equal(r2.sha256, patternSha256(5 * MiB));
    const r3 = await viaProxy(pair.client.url, 'POST', `${target.url}/echo`, patternStream(MiB));
    assert.equal(r3.sha256, patternSha256(MiB));
    await waitFor(() => pair.servers[0]!.logs.some((l) => l.event === 'relay-store-recovered'), 'the recovery line');
    assert.equal(down().length, 1, 'one store line for the whole outage');
  });
});
