/**
 * Not a test file on its own: test/proxy/no-alerts.test.ts runs it with `node --test` in a child process to check
 * that the no-alerts rule fails a whole test run. NO_ALERTS_MODE: "crash" (a role crashes, no opt-out),
 * "crash-expected" (the same with expectedExit), or "self-exit" (a role ends cleanly, code 0, without the test asking:
 * the SIGTERM comes from outside proc.kill, as from an exit(0) in ferry itself).
 */
import { it } from 'node:test';
import { startRole } from '../helpers/cli.ts';

const mode = process.env.NO_ALERTS_MODE;

it(`a role that crashes (${mode})`, async () => {
  const p = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', 'http://127.0.0.1:9'],
    mode === 'crash-expected' ? { alerts: { expectedExit: true } } : {});
  if (mode === 'self-exit') {
    const exited = new Promise((r) => p.proc.once('exit', r));
    process.kill(p.proc.pid!, 'SIGTERM');
    await exited;
  } else {
    process.kill(p.proc.pid!, 'SIGABRT');
  }
  await p.stop();
});
