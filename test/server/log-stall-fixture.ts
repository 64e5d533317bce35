/**
 * Not a test on its own: logger.test.ts runs it with a stdout nobody reads at first. It logs LINES lines of ~300
 * bytes (far more than the logger may hold), reports its heap on stderr, then waits for the reader and exits.
 */
import { createLogger } from '../../src/server/logger.ts';

const LINES = Number(process.env.LINES ?? 200_000);
const log = createLogger('stall');
const padding = 'x'.repeat(200);
const heapBefore = process.memoryUsage().heapUsed;
let i = 0;
const burst = () => {
  for (const end = Math.min(LINES, i + 5_000); i < end; i++) log.info({ event: 'access', n: i, padding }, 'line');
  if (i < LINES) { setImmediate(burst); return; }
  globalThis.gc?.();
  const heapAfter = process.memoryUsage().heapUsed;
  process.stderr.write(`${JSON.stringify({ heapGrowth: heapAfter - heapBefore })}\n`);
  // the reader starts once it has read the line above; then exit as the CLI does, once the log is flushed
  process.stdin.once('data', () => log.flush(() => process.exit(0)));
};
burst();
