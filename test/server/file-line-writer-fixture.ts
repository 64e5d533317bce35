/**
 * Not a test on its own: file-line-writer.test.ts runs it with stdout redirected to a file. Logs LINES lines through
 * createLogger (so the regular-file writer), then ends as asked by argv[2]: `exit` (process.exit within the flush
 * interval), `throw` (an uncaught exception), `burst` (many lines at once: reports heap growth on stderr).
 */
import { createLogger } from '../../src/server/logger.ts';
import { logAccess } from '../../src/server/access-log.ts';

const how = process.argv[2];
const LINES = Number(process.env.LINES ?? 1000);
const log = createLogger('fixture');
const tag = process.env.TAG ?? 'a';
// lines of varied length, some with multi-byte characters, one far larger than the writer's buffer
const path = (i: number): string => `/${tag}/${i}/${'é€'.repeat(i % 37)}${i === 7 ? 'x'.repeat(100_000) : ''}`;
const heapBefore = process.memoryUsage().heapUsed;
for (let i = 0; i < LINES; i++) {
  logAccess(log, { requestId: `${tag}-${i}`, method: 'GET', path: path(i), status: 200, bytesIn: 0, bytesOut: i, durationMs: 1.5 });
}
if (how === 'burst') {
  globalThis.gc?.();
  process.stderr.write(`${JSON.stringify({ heapGrowth: process.memoryUsage().heapUsed - heapBefore })}\n`);
} else if (how === 'exit') {
  process.exit(0);
} else if (how === 'throw') {
  setImmediate(() => { throw new Error('fatal in the fixture'); });
}
