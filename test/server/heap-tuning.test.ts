import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { STREAMING_V8_FLAGS, tuneHeapForStreaming } from '../../src/server/heap-tuning.ts';

const ALL = STREAMING_V8_FLAGS.map(([f]) => f);

test('the operator keeps a value given as a node flag, in either spelling, or in NODE_OPTIONS', () => {
  assert.deepEqual(tuneHeapForStreaming(['--heap-growing-percent=50'], undefined), ALL.filter((f) => f !== '--heap-growing-percent'));
  assert.deepEqual(tuneHeapForStreaming(['--heap_growing_percent=50'], undefined), ALL.filter((f) => f !== '--heap-growing-percent'));
  assert.deepEqual(tuneHeapForStreaming([], '--max-old-space-size=64 --incremental-marking-soft-trigger=50'), ALL.filter((f) => f !== '--incremental-marking-soft-trigger'));
});

test('without any, ferry sets all of them, and a longer flag with the same prefix does not count', () => {
  assert.deepEqual(tuneHeapForStreaming(['--enable-source-maps', '--heap-growing-percentage-x=1'], '--max-old-space-size=64'), ALL);
});

test('every flag it sets is one this V8 knows (V8 reports an unknown one on stderr and ignores it)', () => {
  const module = fileURLToPath(new URL('../../src/server/heap-tuning.ts', import.meta.url));
  const run = (flag: string) => spawnSync(process.execPath, ['--input-type=module', '-e',
    `const v8 = await import('node:v8'); const m = await import(${JSON.stringify(module)}); ${flag ? `v8.setFlagsFromString(${JSON.stringify(flag)});` : 'm.tuneHeapForStreaming([], undefined);'}`], { encoding: 'utf8' });
  assert.match(run('--no-such-ferry-flag=1').stderr, /unrecognized flag/, 'the probe can see an unknown flag');
  const r = run('');
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /unrecognized flag/);
});
