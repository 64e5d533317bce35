/** Not a test on its own: line-batcher.test.ts runs it to see that lines still pending at exit are written. */
import { createLogger } from '../../src/server/logger.ts';

const a = createLogger('a');
const b = createLogger('b');
a.info('first');
// 'first' written before the lines left pending at exit. Without waiting for it, a late event loop (a loaded machine:
// here forced by the busy wait below) ran the 10 ms flush and the exit in one turn, and 'first' was still in
// sonic-boom's asynchronous write (libuv's thread pool) when the exit wrote 'last' synchronously: 'last' landed
// first (the test's rare failure; line-batcher.ts says what a process.exit can and cannot flush).
a.flush(() => setImmediate(() => {
  a.info('last');
  b.info('only');
  process.exit(0); // within the flush interval: both lines are still pending
}));
const until = Date.now() + 40;
while (Date.now() < until) { /* the event loop late past the flush interval, as on a loaded machine */ }
