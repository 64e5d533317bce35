/**
 * glibc malloc settings for the serving roles (cli/malloc-env.ts, issue 18): which command lines re-execute, that the
 * operator's own settings win, and, on Linux, that a started `ferry proxy` runs with them under its original PID.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { FERRY_MALLOC_ENV, mallocReexecEnv } from '../../src/cli/malloc-env.ts';
import { startRole } from '../helpers/cli.ts';

const argv = (...rest: string[]): string[] => ['/usr/bin/node', '/opt/ferry/dist/cli/main.js', ...rest];

/** The environment of a running process (Linux). */
function environOf(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) out[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return out;
}

describe('mallocReexecEnv', () => {
  it('adds ferry\'s settings to the environment of every serving role on Linux, keeping the rest', () => {
    for (const role of ['proxy', 'origin', 'relay-client', 'relay-server', 'demo']) {
      const env = mallocReexecEnv('linux', argv(role, '--listen', '127.0.0.1:0'), { PATH: '/bin', NODE_OPTIONS: '--max-old-space-size=200' });
      assert.deepEqual(env, { PATH: '/bin', NODE_OPTIONS: '--max-old-space-size=200', MALLOC_ARENA_MAX: '2', MALLOC_TRIM_THRESHOLD_: '131072' }, role);
    }
  });

  it('leaves other platforms, other commands and no command alone', () => {
    assert.equal(mallocReexecEnv('darwin', argv('proxy'), {}), null);
    assert.equal(mallocReexecEnv('win32', argv('proxy'), {}), null);
    assert.equal(mallocReexecEnv('linux', argv('--help'), {}), null);
    assert.equal(mallocReexecEnv('linux', argv('help', 'proxy'), {}), null);
    assert.equal(mallocReexecEnv('linux', argv(), {}), null);
  });

  it('keeps the operator\'s malloc configuration, whichever knob they set (and so never loops)', () => {
    for (const knob of ['MALLOC_ARENA_MAX', 'MALLOC_TRIM_THRESHOLD_', 'MALLOC_MMAP_THRESHOLD_', 'MALLOC_TOP_PAD_', 'MALLOC_MMAP_MAX_', 'GLIBC_TUNABLES']) {
      assert.equal(mallocReexecEnv('linux', argv('proxy'), { [knob]: '' }), null, knob);
    }
    assert.equal(mallocReexecEnv('linux', argv('proxy'), { ...FERRY_MALLOC_ENV }), null);
  });
});

describe('ferry proxy under ferry\'s malloc settings', { skip: process.platform !== 'linux' ? 'reads /proc' : false }, () => {
  it('runs with them, under the PID it was started with', async () => {
    const proxy = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', 'http://127.0.0.1:9']);
    try {
      const env = environOf(proxy.proc.pid!);
      assert.equal(env.MALLOC_ARENA_MAX, '2');
      assert.equal(env.MALLOC_TRIM_THRESHOLD_, '131072');
      const listening = proxy.logs.find((l) => l.event === 'listening');
      assert.equal(listening?.pid, proxy.proc.pid);
    } finally {
      await proxy.stop();
    }
  });

  it('keeps the operator\'s own setting and adds nothing', async () => {
    const proxy = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', 'http://127.0.0.1:9'], { env: { MALLOC_ARENA_MAX: '4' } });
    try {
      const env = environOf(proxy.proc.pid!);
      assert.equal(env.MALLOC_ARENA_MAX, '4');
      assert.equal(env.MALLOC_TRIM_THRESHOLD_, undefined);
    } finally {
      await proxy.stop();
    }
  });
});
