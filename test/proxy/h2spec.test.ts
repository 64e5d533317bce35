/**
 * h2spec (conformance/h2spec, built from its sources by build.sh; .ci/run installs the Go packages it needs, so CI
 * never skips this) against ferry's TLS listener with h2: at least 136 of 146 tests pass, as a bare node:http2
 * server does here, and every test listed in conformance/h2spec-expected.json still passes. About 30 s.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { buildH2Spec, compareH2Spec, H2SPEC_EXPECTED, H2SPEC_MIN_PASSED, runH2Spec } from '../../bench/h2-conformance.ts';

test('h2spec: ferry\'s TLS h2 listener passes at least 136/146 and every expected test', async () => {
  const r = await runH2Spec(buildH2Spec());
  assert.equal(r.total, 146);
  assert.ok(r.passed.length >= H2SPEC_MIN_PASSED, `only ${r.passed.length} passed; failed: ${r.failed.join('; ')}`);
  const expected = (JSON.parse(readFileSync(H2SPEC_EXPECTED, 'utf8')) as { passed: string[] }).passed;
  assert.deepEqual(compareH2Spec(expected, r).regressions, []);
});
