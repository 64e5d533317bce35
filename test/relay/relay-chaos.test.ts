/** Chaos on the gateway hop (seeded): drops before/after forwarding, resets, bit flips. Byte-exact or loud, never wrong. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { getJson, patternSha256, patternStream, startRelayPair, startTarget, viaProxy, type RelayPair, type Target } from './harness.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const SEED = Number(process.env.FERRY_CHAOS_SEED ?? 20261122);

describe(`relay under gateway chaos (5% drops before, 5% after, 1% resets, 1% bit flips; seed ${SEED})`, () => {
  let pair: RelayPair;
  let target: Target;
  before(async () => {
    target = await startTarget();
    pair = await startRelayPair({
      maxMessage: 64 * KiB,
      chaos: { seed: SEED, dropBefore: 0.05, dropAfter: 0.05, reset: 0.01, flip: 0.01 },
      clientArgs: ['--retries', '6'],
    });
  });
  after(async () => {
    await pair?.close();
    await target?.close();
  });

  test('every transfer is byte-exact or fails loudly; none is silently wrong', async (t) => {
    const jobs: Array<Promise<{ ok: boolean; loud: boolean }>> = [];
    for (let i = 0; i < 8; i++) {
      const size = 3 * MiB + i * 12_345;
      const expected = patternSha256(size);
      const p = (i % 2 === 0
        ? viaProxy(pair.client.url, 'GET', `${target.url}/bytes/${size}`)
        : viaProxy(pair.client.url, 'POST', `${target.url}/echo`, patternStream(size), { 'content-length': String(size) }))
        .then((r) => {
          if (r.status === 200) {
            // A 200 must be complete and exact: a truncated or altered body here would be the bug.
            assert.equal(r.bytes, size, `transfer ${i}: 200 with ${r.bytes} of ${size} bytes`);
            assert.equal(r.sha256, expected, `transfer ${i}: 200 with wrong bytes`);
            return { ok: true, loud: false };
          }
          assert.ok(r.status >= 500, `transfer ${i}: unexpected status ${r.status}`);
          return { ok: false, loud: true };
        }, () => ({ ok: false, loud: true })); // connection cut: loud
      jobs.push(p);
    }
    const results = await Promise.all(jobs);
    const ok = results.filter((r) => r.ok).length;
    assert.ok(ok >= 6, `only ${ok} of 8 transfers completed under 5% chaos with 6 retries`);
    const g = pair.gateway.counts;
    assert.ok(g.droppedBefore + g.droppedAfter > 10, 'the chaos actually dropped messages');
    const client = await getJson(`${pair.client.url}/stats`);
    assert.ok(client.chunks.retries > 10, 'the client retried');
    const server = await getJson(`${pair.servers[0]!.url}/stats`);
    t.diagnostic(`completed ${ok}/8; gateway ${JSON.stringify(g)}; client retries ${client.chunks.retries}; server duplicates ${server.chunks.duplicates}, corrupt ${server.chunks.corrupt}`);
    assert.ok(server.chunks.duplicates > 0, 'lost acknowledgements led to duplicates, which were not delivered twice');
    assert.ok(pair.gateway.largestRequest() <= 64 * KiB);
    assert.ok(pair.gateway.largestResponse() <= 64 * KiB);
    assert.equal(g.tooLarge + g.responseTooLarge, 0);
  });
});
