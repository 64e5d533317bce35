/** server/v8-flags.ts: which V8 flags the operator chose, so that ferry leaves them alone. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { operatorGave } from '../../src/server/v8-flags.ts';

test('a flag given bare, with a value, with underscores, or in NODE_OPTIONS counts; a longer name does not', () => {
  assert.equal(operatorGave(['--max-semi-space-size=8'], undefined, '--max-semi-space-size'), true);
  assert.equal(operatorGave(['--max_semi_space_size=8'], undefined, '--max-semi-space-size'), true);
  assert.equal(operatorGave([], '--inspect  --max-semi-space-size=8', '--max-semi-space-size'), true);
  assert.equal(operatorGave(['--expose-gc'], undefined, '--expose-gc'), true);
  assert.equal(operatorGave(['--max-semi-space-size-extra=1'], '', '--max-semi-space-size'), false);
  assert.equal(operatorGave([], undefined, '--heap-growing-percent'), false);
});
