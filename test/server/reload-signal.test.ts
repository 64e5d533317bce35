/**
 * SIGHUP has one owner (server/reload-signal.ts; docs/reload-admin.md "What SIGHUP reloads"): the parts registered
 * there run on each signal in order, each with its own log line, one failing part does not stop the next, and once
 * anything registered, a SIGHUP with nothing left to reload leaves the process running. No other module listens to
 * SIGHUP itself.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { onReloadSignal } from '../../src/server/reload-signal.ts';
import { SRC_DIR, srcModules } from '../helpers/source-files.ts';

function capture(): { log: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({ write(c: Buffer, _e, cb) { for (const l of c.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>); cb(); } });
  return { log: pino({ level: 'info' }, sink), lines };
}

/** Send SIGHUP to this test process and let its listener run. */
async function hup(): Promise<void> {
  process.kill(process.pid, 'SIGHUP');
  await new Promise((r) => setTimeout(r, 50));
}

test('registered parts run on SIGHUP in order, one log line each; a failing part does not stop the next; unregistered parts do not run', async () => {
  const { log, lines } = capture();
  const ran: string[] = [];
  const offA = onReloadSignal('part A', () => { ran.push('A'); throw new Error('A broke'); }, log);
  const offB = onReloadSignal('part B', async () => { ran.push('B'); }, log);
  const offQuiet = onReloadSignal('the workers', () => { ran.push('quiet'); });
  await hup();
  assert.deepEqual(ran, ['A', 'B', 'quiet']);
  const reloads = lines.filter((l) => l.event === 'reload' && l.signal === 'SIGHUP').map((l) => l.reloads);
  assert.deepEqual(reloads, ['part A', 'part B'], 'one line per part that logs; the forwarding part writes none');
  assert.ok(lines.some((l) => l.event === 'reload' && l.level === 40 && String(l.msg).includes('part A')), 'the failure is logged');
  offA();
  offB();
  offQuiet();
  ran.length = 0;
  await hup();
  assert.deepEqual(ran, [], 'nothing runs once unregistered');
  assert.equal(process.listenerCount('SIGHUP'), 1, 'one process listener, and it stays: a late SIGHUP does not end the process');
});

test('no module under src/ but server/reload-signal.ts listens to SIGHUP', () => {
  const listeners = srcModules().filter((f) => /process\.(on|once|addListener|prependListener)\(\s*'SIGHUP'/.test(readFileSync(f, 'utf8')));
  assert.deepEqual(listeners.map((f) => relative(SRC_DIR, f)), [join('server', 'reload-signal.ts')]);
});
