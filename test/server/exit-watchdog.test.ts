/**
 * The exit watchdog (nodejs/node#54918: process.exit can deadlock inside Node): a process that does not finish
 * exiting is killed, a process that exits normally keeps its code and leaves no watchdog behind.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { processStartTime, watchdogScript } from '../../src/server/exit-watchdog.ts';

const WATCHDOG = fileURLToPath(new URL('../../src/server/exit-watchdog.ts', import.meta.url));

/** A node process that arms the watchdog, prints the watchdog's PID, then runs `then`. */
function child(then: string, graceMs: number) {
  const code = `import { armExitWatchdog } from ${JSON.stringify(WATCHDOG)};
    const pid = armExitWatchdog(${graceMs}); process.stdout.write(String(pid) + '\\n'); ${then}`;
  return spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
}

function outcome(p: ReturnType<typeof child>) {
  let out = '';
  let err = '';
  p.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
  p.stderr!.on('data', (c: Buffer) => { err += c.toString(); });
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string; ms: number }>((resolve) => {
    const t0 = Date.now();
    p.on('close', (code, signal) => resolve({ code, signal, out, err, ms: Date.now() - t0 }));
  });
}

/** Running, not a zombie: whoever reaps orphans in this container may take its time. */
const alive = (pid: number) => { try { return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; } };

describe('exit watchdog', () => {
  it('reads the start time from /proc/<pid>/stat, command names with spaces and parentheses included', () => {
    const stat = '4242 (a b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 6 0 0 20 0 11 0 987654 1000 200 rest';
    assert.equal(processStartTime(stat), '987654');
    assert.match(processStartTime(readFileSync('/proc/self/stat', 'utf8'))!, /^\d+$/);
    assert.equal(processStartTime('garbage'), null);
    const script = watchdogScript(4242, '987654', 1_000);
    assert.match(script, /kill -KILL 4242/);
    assert.match(script, /= "987654"/);
    assert.match(script, /"\$1" != Z/, 'a zombie (exited, not yet reaped) is not a stuck process');
  });

  it('a process stuck after arming it is killed with SIGKILL and a line on stderr', async () => {
    // Atomics.wait on the main thread: stuck the way the Node deadlock leaves it, no JavaScript runs any more
    const r = await outcome(child('Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);', 400));
    assert.equal(r.signal, 'SIGKILL');
    assert.match(r.err, /exit stalled inside Node \(nodejs\/node#54918\); sending SIGKILL/);
  });

  it('a process that exits normally keeps its exit code, and the watchdog leaves within a poll', async () => {
    const r = await outcome(child('process.exit(3);', 20_000));
    assert.equal(r.code, 3);
    assert.equal(r.err, '');
    const pid = Number(r.out.trim());
    assert.ok(pid > 0, r.out);
    // its grace is 20 s: gone well before that means it saw the exit and left
    const t0 = Date.now();
    while (alive(pid) && Date.now() - t0 < 10_000) await new Promise((res) => setTimeout(res, 50));
    assert.equal(alive(pid), false, 'the watchdog left after the exit instead of waiting out its grace');
  });

  it('a SIGTERM\'d proxy, which arms it on the way out, still exits 0 with nothing on stderr', () => {
    const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
    const script = `const { spawn } = require('node:child_process');
      const p = spawn(process.execPath, [${JSON.stringify(main)}, 'proxy', '--listen', '127.0.0.1:0', '--upstream', 'http://127.0.0.1:9'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = ''; p.stdout.on('data', (c) => { out += c; if (out.includes('"listening"')) p.kill('SIGTERM'); });
      p.on('exit', (code) => { console.log('exit', code); });`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
    assert.match(r.stdout, /exit 0/, r.stderr);
    assert.doesNotMatch(r.stderr, /exit stalled/);
  });
});
