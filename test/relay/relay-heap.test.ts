/** The relay roles' young-generation cap (src/relay/relay-gc.ts, issue 18): set unless the operator chose. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { capRelayYoungGeneration } from '../../src/relay/relay-gc.ts';

test('capRelayYoungGeneration leaves an operator-chosen young generation alone, sets the cap otherwise', () => {
  assert.equal(capRelayYoungGeneration([], '--max-semi-space-size=8'), false);
  assert.equal(capRelayYoungGeneration(['--max_semi_space_size=8'], undefined), false);
  assert.equal(capRelayYoungGeneration([], '--semi-space-growth-factor=2'), false);
  assert.equal(capRelayYoungGeneration(['--max-old-space-size=512'], '--enable-source-maps'), true);
});
