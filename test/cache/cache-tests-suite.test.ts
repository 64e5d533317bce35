/**
 * The whole cache-tests.fyi suite (conformance/cache-tests, http-tests/cache-tests at b55b8bd) against
 * `ferry proxy --cache memory`, compared with conformance/expected.json: every test expected to pass (✅, or Y for a
 * behaviour check) must pass (one that fails is run once more on its own first: a few tests give the cache only 2 s,
 * and every test runs at once). About 15 s (their pauses overlap). The disk and Redis stores run in
 * `npm run conformance`, which compares them with the same file. First run on a fresh clone: `npm ci` in
 * conformance/ installs the suite client's undici.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareWithExpected, readExpected, runConformance } from '../../bench/cache-conformance.ts';

test('cache-tests suite, memory store: no test expected to pass fails', { timeout: 180_000 }, async (t) => {
  const expected = readExpected();
  const [run] = await runConformance(['memory'], expected);
  const { regressions, improvements } = compareWithExpected(expected, run!.summary.verdicts);
  const required = run!.summary.counts.get('required');
  const optimal = run!.summary.counts.get('optimal');
  t.diagnostic(`required ✅ ${required?.get('✅') ?? 0}, optimal ✅ ${optimal?.get('✅') ?? 0}, ${run!.seconds.toFixed(1)} s`);
  if (run!.retried.length > 0) t.diagnostic(`failed in the full run, run again alone: ${run!.retried.join(', ')}`);
  for (const x of improvements) t.diagnostic(`passes now, not yet in conformance/expected.json: ${x}`);
  assert.deepEqual(regressions, [], `expected to pass, did not:\n${regressions.join('\n')}`);
});
