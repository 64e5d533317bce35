/**
 * The no-alerts rule (RELIABILITY T2) that test/helpers/cli.ts applies to every ferry process a test starts: what
 * counts as an alert, what does not (logged client errors), the opt-outs, and that a crashed role fails the test run.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { findAlerts, startRole } from '../helpers/cli.ts';
import { startProxy } from '../fixtures/proxy.ts';

const line = (rec: Record<string, unknown>) => ({ role: 'proxy', time: '2026-01-01T00:00:00.000Z', ...rec });
const asked = { code: 0, signal: null, requested: true } as const;

describe('no-alerts rule: findAlerts', () => {
  it('client errors and warnings are not alerts', () => {
    const logs = [
      line({ level: 'info', event: 'listening', url: 'http://127.0.0.1:1' }),
      line({ level: 'info', event: 'client-error', status: 400, reason: 'duplicate Host' }),
      line({ level: 'warn', event: 'upstream-error', status: 502 }),
      { raw: 'not json' },
    ];
    assert.deepEqual(findAlerts(logs, '', asked), []);
  });

  it('an internal-error event at any level, and any error/fatal line, is an alert quoting the line', () => {
    const logs = [
      line({ level: 'warn', event: 'internal-error', msg: 'filter threw' }),
      line({ level: 'error', event: 'relay-server-error', msg: 'relay message failed' }),
      line({ level: 60, msg: 'fatal from a numeric-level logger' }),
    ];
    const found = findAlerts(logs, '', asked);
    assert.equal(found.length, 3);
    assert.match(found[0]!, /filter threw/);
    assert.match(found[1]!, /relay message failed/);
    assert.match(found[2]!, /numeric-level/);
  });

  it('expectedLog lets a test provoke a fault on purpose, and only that one', () => {
    const logs = [line({ level: 'error', event: 'worker-exit', code: 1 }), line({ level: 'error', event: 'internal-error' })];
    const found = findAlerts(logs, '', asked, { expectedLog: (r) => r.event === 'worker-exit' });
    assert.equal(found.length, 1);
    assert.match(found[0]!, /internal-error/);
  });

  it('an uncaught exception on stderr is an alert; other stderr output is not', () => {
    const crash = 'file:///x.ts:1\nthrow new Error("boom")\n^\n\nError: boom\n    at x.ts:1:7\n\nNode.js v24.11.0\n';
    assert.equal(findAlerts([], crash, null).length, 1);
    assert.match(findAlerts([], 'ferry: unexpected error: TypeError: x\n', null)[0]!, /unexpected error/);
    assert.deepEqual(findAlerts([], '(node:1) ExperimentalWarning: something\n', null), []);
  });

  it('exits: a crash signal, or any exit nobody asked for, is an alert; SIGTERM/SIGKILL from a test is not', () => {
    assert.match(findAlerts([], '', { code: null, signal: 'SIGSEGV', requested: false })[0]!, /SIGSEGV/);
    assert.match(findAlerts([], '', { code: 1, signal: null, requested: false })[0]!, /code 1/);
    assert.match(findAlerts([], '', { code: 1, signal: null, requested: true })[0]!, /asked to stop/);
    assert.deepEqual(findAlerts([], '', { code: null, signal: 'SIGKILL', requested: false }), []);
    assert.deepEqual(findAlerts([], '', { code: 0, signal: null, requested: true }), []);
    assert.match(findAlerts([], '', { code: 0, signal: null, requested: false })[0]!, /by itself with code 0/);
    assert.deepEqual(findAlerts([], '', { code: 1, signal: null, requested: false }, { expectedExit: true }), []);
  });
});

describe('no-alerts rule on a real ferry process', () => {
  it('a clean role stops without alerts', async () => {
    const p = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', 'http://127.0.0.1:9']);
    assert.equal((await fetch(`${p.url}/x`)).status, 502); // upstream refused: a logged upstream failure, not an alert
    assert.deepEqual(p.alerts(), []);
    assert.equal(await p.stop(), 0);
  });

  /** Run test/proxy/no-alerts-fixture.ts as its own test run (not as a subprocess of this one). */
  const runFixture = (mode: string) => new Promise<{ code: number | null; out: string }>((resolve) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_ALERTS_MODE: mode };
    delete env.NODE_TEST_CONTEXT;
    const fixture = fileURLToPath(new URL('./no-alerts-fixture.ts', import.meta.url));
    const child = spawn(process.execPath, ['--test', '--test-reporter=spec', fixture], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => { out += c; });
    child.stderr.setEncoding('utf8').on('data', (c: string) => { out += c; });
    child.on('close', (code) => resolve({ code, out }));
  });

  it('a test run in which a role crashed fails, naming the role and the crash', async () => {
    const r = await runFixture('crash');
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /no-alerts rule \(RELIABILITY T2\): ferry proxy --listen/);
    assert.match(r.out, /crashed with SIGABRT/);
  });

  it('a role that ends by itself with code 0 fails the run too; one the test signals does not', async () => {
    const r = await runFixture('self-exit');
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /exited by itself with code 0/);
    const p = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', 'http://127.0.0.1:9']);
    const exited = new Promise<void>((r) => p.proc.once('exit', () => r()));
    p.proc.kill('SIGTERM');
    await exited;
    assert.deepEqual(p.alerts(), []);
  });

  it('expectedExit opts a test out of the exit check: the same run passes', async () => {
    const r = await runFixture('crash-expected');
    assert.equal(r.code, 0, r.out);
  });
});

describe('no-alerts rule on an in-process proxy (test/fixtures/proxy.ts)', () => {
  it('close() fails on an error-level record, after cleaning up; an expected one is let through', async () => {
    const p = await startProxy({ upstream: 'http://127.0.0.1:9' });
    p.logs.push({ level: 50, msg: 'something failed inside' });
    await assert.rejects(p.close(), /no-alerts rule[^]*something failed inside/);
    assert.equal(p.proxyServer.server.listening, false, 'the server was closed before the rule threw');
    const q = await startProxy({ upstream: 'http://127.0.0.1:9' }, { alerts: { expectedLog: (r) => r.msg === 'provoked' } });
    q.logs.push({ level: 50, msg: 'provoked' });
    await q.close();
  });
});
