/** cli/startup-heap.ts: a role that keeps the young-generation hold (the relays) keeps it past releaseYoungGeneration. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('./startup-heap-fixture.ts', import.meta.url));
const peak = (mode: 'keep' | 'release'): number => Number(execFileSync(process.execPath, [FIXTURE, mode], { encoding: 'utf8', timeout: 120_000 }));

it('releaseYoungGeneration lets the new space grow, but not for a role that kept the hold', { timeout: 240_000 }, () => {
  const released = peak('release');
  const kept = peak('keep');
  assert.ok(kept < released, `kept ${kept / 1048576} MiB, released ${released / 1048576} MiB`);
});
