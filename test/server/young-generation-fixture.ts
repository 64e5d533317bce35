/**
 * Child process for young-generation.test.ts: an allocation pattern whose objects mostly survive a scavenge (what
 * makes V8 grow the new space), request-sized tasks (5 000 objects each, like a burst of requests between two turns of the event loop), with or without the cap (argv[2] = cap in bytes, or "none" and argv[3] the size past which to stop); prints the peak new
 * space size seen, as JSON on stdout.
 */
import { capYoungGeneration, newSpaceSize } from '../../src/server/young-generation.ts';

const cap = process.argv[2] === 'none' ? null : Number(process.argv[2]);
const handle = cap === null ? null : capYoungGeneration([], undefined, cap);
let peak = newSpaceSize();
const live: unknown[] = [];
// A fixed amount of work, not a time: on a loaded machine 1.5 s was sometimes too little for V8 to grow the new
// space past the cap uncapped (it crossed 64 MiB after 400-1 400 slices, on a machine doing ~2 300 in 1.5 s).
// Uncapped, the run ends once past the cap (what the test needs to know); the time bound only guards a hang.
const SLICES = 2_500;
const deadline = Date.now() + 45_000;
// in slices, so that the cap's poll timer runs between them, as it does between requests in the proxy
for (let slice = 0; slice < SLICES && Date.now() < deadline; slice++) {
  if (cap === null && peak > Number(process.argv[3])) break;
  for (let i = 0; i < 5_000; i++) {
    live.push({ i, s: `x${i}`, a: [i, i + 1] });
    if (live.length > 200_000) live.splice(0, 100_000);
  }
  peak = Math.max(peak, newSpaceSize());
  await new Promise((r) => setImmediate(r));
}
handle?.stop();
process.stdout.write(JSON.stringify({ peak, set: handle?.set ?? [] }));
