/**
 * Child process for young-generation.test.ts: an allocation pattern whose objects mostly survive a scavenge (what
 * makes V8 grow the new space), request-sized tasks (5 000 objects each, like a burst of requests between two turns of the event loop), with or without the cap (argv[2] = cap in bytes, or "none"); prints the peak new
 * space size seen, as JSON on stdout.
 */
import { capYoungGeneration, newSpaceSize } from '../../src/server/young-generation.ts';

const cap = process.argv[2] === 'none' ? null : Number(process.argv[2]);
const handle = cap === null ? null : capYoungGeneration([], undefined, cap);
let peak = newSpaceSize();
const live: unknown[] = [];
const deadline = Date.now() + 1500;
// in slices, so that the cap's poll timer runs between them, as it does between requests in the proxy
while (Date.now() < deadline) {
  for (let i = 0; i < 5_000; i++) {
    live.push({ i, s: `x${i}`, a: [i, i + 1] });
    if (live.length > 200_000) live.splice(0, 100_000);
  }
  peak = Math.max(peak, newSpaceSize());
  await new Promise((r) => setImmediate(r));
}
handle?.stop();
process.stdout.write(JSON.stringify({ peak, set: handle?.set ?? [] }));
