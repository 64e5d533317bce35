/** Not a test on its own: line-batcher.test.ts runs it to see that lines still pending at exit are written. */
import { createLogger } from '../../src/server/logger.ts';

const a = createLogger('a');
const b = createLogger('b');
a.info('first');
setTimeout(() => {
  a.info('last');
  b.info('only');
  process.exit(0); // within the flush interval: both lines are still pending
}, 30);
