import { createLogger } from '../../src/server/logger.ts';
const a = createLogger('a');
const b = createLogger('b');
a.info('first');
setTimeout(() => {
  a.info('last');
  b.info('only');
  process.exit(0);
}, 30);
const t = Date.now(); while (Date.now() - t < 45) { /* the loop late: both timers due together */ }
