/** `ferry proxy`'s young-generation cap (server/young-generation.ts) holds under an allocation pattern V8 grows for. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { capYoungGeneration, YOUNG_GENERATION_CAP } from '../../src/server/young-generation.ts';

const FIXTURE = fileURLToPath(new URL('./young-generation-fixture.ts', import.meta.url));
const MIB = 1024 * 1024;

function peakNewSpace(cap: number | 'none'): { peak: number; set: string[] } {
  return JSON.parse(execFileSync(process.execPath, [FIXTURE, String(cap), String(YOUNG_GENERATION_CAP)], { encoding: 'utf8', timeout: 90_000 })) as { peak: number; set: string[] };
}

describe('young-generation cap', () => {
  it('keeps the new space within the cap where V8 alone grows it past', { timeout: 200_000 }, () => {
    const free = peakNewSpace('none');
    assert.ok(free.peak > YOUNG_GENERATION_CAP, `without the cap the new space grew to ${(free.peak / MIB).toFixed(1)} MiB (the workload must make V8 grow it past the cap)`);
    const capped = peakNewSpace(YOUNG_GENERATION_CAP);
    assert.deepEqual(capped.set, ['--heap-growing-percent', '--semi-space-growth-factor']);
    assert.ok(capped.peak <= YOUNG_GENERATION_CAP, `with the ${YOUNG_GENERATION_CAP / MIB} MiB cap the new space peaked at ${(capped.peak / MIB).toFixed(1)} MiB`);
  });

  it('leaves the flags the operator chose alone', () => {
    const r = capYoungGeneration(['--max-semi-space-size=4', '--heap-growing-percent=300'], undefined);
    r.stop();
    assert.deepEqual(r.set, []);
    const s = capYoungGeneration([], '--semi_space_growth_factor=3');
    s.stop();
    assert.deepEqual(s.set, ['--heap-growing-percent']);
  });
});
