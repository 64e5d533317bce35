/**
 * Child process for settle-heap.test.ts (argv[2] picks the case); prints its findings as JSON on stdout.
 * - `shrink`: grows the new space with objects that survive scavenges (as module loading does), drops them, then
 *   settles: the new space before and after.
 * - `idle`: settleHeapWhenIdle with a short interval; 48 MiB of Buffers become garbage, the loop goes idle: whether
 *   it settled and the external memory before and after.
 * - `busy`: the same garbage, but the loop stays busy through the intervals: it must not settle.
 */
import { newSpaceSize } from '../../src/server/young-generation.ts';
import { settleHeap, settleHeapWhenIdle } from '../../src/server/settle-heap.ts';

const mode = process.argv[2];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (mode === 'shrink') {
  let live: unknown[] = [];
  for (let round = 0; round < 40; round++) {
    for (let i = 0; i < 20_000; i++) live.push({ i, s: `x${i}`, a: [i, i + 1] });
    if (live.length > 400_000) live = live.slice(200_000);
  }
  const before = newSpaceSize();
  live = [];
  const settled = settleHeap();
  process.stdout.write(JSON.stringify({ before, after: newSpaceSize(), settled }));
} else {
  const settles: Array<[number, number]> = [];
  const stop = settleHeapWhenIdle({ intervalMs: 300, growthBytes: 16 * 1024 * 1024, onSettle: (a, b) => settles.push([a, b]) });
  let garbage: Buffer[] | null = [];
  for (let i = 0; i < 48; i++) garbage.push(Buffer.alloc(1024 * 1024, i));
  garbage = null;
  const externalBefore = process.memoryUsage().external;
  if (mode === 'busy') {
    // busy in slices of 50 ms, yielding between them so that the interval runs (at a utilization of ~1)
    const end = Date.now() + 1500;
    while (Date.now() < end) {
      const slice = Date.now() + 50;
      while (Date.now() < slice) { /* busy */ }
      await new Promise((r) => setImmediate(r));
    }
  } else {
    await sleep(1500);
  }
  stop();
  process.stdout.write(JSON.stringify({ settles: settles.length, externalBefore, externalAfter: process.memoryUsage().external }));
}
