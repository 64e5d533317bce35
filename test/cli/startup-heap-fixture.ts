/** Child process for startup-heap.test.ts: hold, optionally keep, release, then a workload V8 grows the new space for; prints its peak size. */
import v8 from 'node:v8';
import { holdYoungGeneration, keepYoungGenerationHeld, releaseYoungGeneration } from '../../src/cli/startup-heap.ts';
const keep = process.argv[2] === 'keep';
holdYoungGeneration([], undefined);
if (keep) keepYoungGenerationHeld();
releaseYoungGeneration();
const live: unknown[] = []; let peak = 0;
for (let s = 0; s < 1500; s++) { for (let i = 0; i < 5000; i++) { live.push({ i, a: [i] }); if (live.length > 200000) live.splice(0, 100000); }
  peak = Math.max(peak, v8.getHeapSpaceStatistics().find((x) => x.space_name === 'new_space')!.space_size); await new Promise((r) => setImmediate(r)); }
process.stdout.write(String(peak));
