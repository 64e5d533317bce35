/**
 * Not a test file on its own: test/proxy/no-alerts.test.ts runs it with `node --test` in a child process to check
 * that the no-alerts rule fails a whole test run. NO_ALERTS_MODE: "crash" (a role crashes, no opt-out) or
 * "crash-expected" (the same with expectedExit).
 */
import { it } from 'node:test';
import { startRole } from '../helpers/cli.ts';

const mode = process.env.NO_ALERTS_MODE;

it(`a role that crashes (${mode})`, async () => {
  const p = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', 'http://127.0.0.1:9'],
    mode === 'crash-expected' ? { alerts: { expectedExit: true } } : {});
  process.kill(p.proc.pid!, 'SIGABRT');
  await p.stop();
});
