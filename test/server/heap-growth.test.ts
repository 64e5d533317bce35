import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { fixHeapGrowth } from '../../src/server/heap-growth.ts';

test('the operator keeps a growing factor given as a node flag, in either spelling, or in NODE_OPTIONS', () => {
  assert.equal(fixHeapGrowth(['--heap-growing-percent=50'], undefined), false);
  assert.equal(fixHeapGrowth(['--heap_growing_percent=50'], undefined), false);
  assert.equal(fixHeapGrowth([], '--max-old-space-size=64 --heap-growing-percent=50'), false);
});

test('without one, ferry sets its own and says so', () => {
  assert.equal(fixHeapGrowth(['--enable-source-maps'], '--max-old-space-size=64'), true);
});

test('the flag it sets is one this V8 knows (V8 reports an unknown one on stderr and ignores it)', () => {
  const module = fileURLToPath(new URL('../../src/server/heap-growth.ts', import.meta.url));
  const run = (flag: string) => spawnSync(process.execPath, ['--input-type=module', '-e',
    `const v8 = await import('node:v8'); const m = await import(${JSON.stringify(module)}); ${flag ? `v8.setFlagsFromString(${JSON.stringify(flag)});` : 'm.fixHeapGrowth([], undefined);'}`], { encoding: 'utf8' });
  assert.match(run('--no-such-ferry-flag=1').stderr, /unrecognized flag/, 'the probe can see an unknown flag');
  const r = run('');
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /unrecognized flag/);
});
