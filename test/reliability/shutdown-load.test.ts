/**
 * Shutdown under load (README "SIGINT/SIGTERM stop gracefully", docs/reliability.md): SIGTERM while 200 requests
 * are in flight through `ferry proxy --workers 2 --cache memory` (half plain, half cache fills, every one a seeded
 * body checked by SHA-256), and while 20 relay sessions are in flight through relay-client → gateway → relay-server:
 * every in-flight request completes, within `--shutdown-grace`; a connection attempted after the signal is not
 * served; each process exits with code 0.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import { startRole } from '../helpers/cli.ts';
import { startRandomOrigin, type RandomOrigin } from '../fixtures/random-origin.ts';
import { transferSeeded, type Outcome } from '../helpers/transfer.ts';
import { waitFor } from '../helpers/wait.ts';
import { startRelayPair } from '../relay/harness.ts';

const GRACE_MS = 8000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


/** A new request after the signal: must not be answered with a response (refused, or closed unanswered). */
function served(port: number, origin: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ port, host: '127.0.0.1', path: `/random/1/10`, agent: false, headers: { host: origin }, timeout: 3000 }, (res) => { res.resume(); resolve(true); });
    req.on('error', () => resolve(false));
    req.on('timeout', () => { req.destroy(); resolve(false); });
  });
}

async function exitCode(proc: ChildProcess): Promise<{ code: number | null; ms: number }> {
  const t0 = Date.now();
  if (proc.exitCode !== null) return { code: proc.exitCode, ms: 0 };
  const [code] = await once(proc, 'exit') as [number | null];
  return { code, ms: Date.now() - t0 };
}

describe('SIGTERM under load: in-flight requests finish, nothing new is accepted, exit 0', () => {
  let origin: RandomOrigin;
  before(async () => { origin = await startRandomOrigin(); });
  after(async () => { await origin.close(); });

  test('proxy --workers 2 --cache memory with 200 requests in flight (plain and cache fills)', async (t) => {
    const proxy = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', origin.url, '--workers', '2', '--cache', 'memory:64MiB',
      '--shutdown-grace', `${GRACE_MS}ms`, '--log-level', 'warn'], { listeningCount: 1 });
    const before = origin.counts.requests;
    const jobs: Array<Promise<Outcome>> = [];
    for (let i = 0; i < 200; i++) {
      // headers only after 1.5 s: all 200 are surely in flight when the signal comes
      jobs.push(transferSeeded({ kind: 'download', seed: 10_000 + i, size: 100_000 + i, port: proxy.port, origin: origin.host, query: i % 2 === 0 ? '?delay=1500' : '?delay=1500&cache=60' }));
    }
    await waitFor(() => origin.counts.requests - before >= 200, '200 requests at the origin', 10_000);
    const signalled = Date.now();
    proxy.proc.kill('SIGTERM');
    await sleep(200);
    const exited = exitCode(proxy.proc);
    assert.equal(await served(proxy.port, origin.host), false, 'a connection after SIGTERM is not served');
    const outcomes = await Promise.all(jobs);
    const failed = outcomes.map((o, i) => (o.kind === 'ok' ? null : `${i}: ${o.why}`)).filter((x) => x !== null);
    assert.deepEqual(failed, [], 'every in-flight request completed, byte-exact');
    const { code } = await exited;
    const ms = Date.now() - signalled;
    t.diagnostic(`200 requests completed; exit ${code} ${ms} ms after SIGTERM (grace ${GRACE_MS} ms)`);
    assert.equal(code, 0);
    assert.ok(ms < GRACE_MS + 2000, `exited ${ms} ms after SIGTERM`);
  });

  test('relay-client and relay-server with 20 sessions in flight', async (t) => {
    const pair = await startRelayPair({ clientArgs: ['--shutdown-grace', `${GRACE_MS}ms`], serverArgs: ['--shutdown-grace', `${GRACE_MS}ms`] });
    try {
      const before = origin.counts.requests;
      const jobs: Array<Promise<Outcome>> = [];
      for (let i = 0; i < 20; i++) {
        jobs.push(transferSeeded({ kind: i % 2 ? 'upload' : 'download', seed: 20_000 + i, size: 200_000, port: pair.client.port, origin: origin.host, absolute: true, query: '?delay=1500' }));
      }
      await waitFor(() => origin.counts.requests - before >= 20, '20 relay sessions at the origin', 10_000);
      const signalled = Date.now();
      pair.client.proc.kill('SIGTERM');
      pair.servers[0]!.proc.kill('SIGTERM');
      await sleep(200);
      const exits = [exitCode(pair.client.proc), exitCode(pair.servers[0]!.proc)];
      assert.equal(await served(pair.client.port, origin.host), false, 'the relay-client accepts no new connection after SIGTERM');
      const outcomes = await Promise.all(jobs);
      const failed = outcomes.map((o, i) => (o.kind === 'ok' ? null : `${i}: ${o.why}`)).filter((x) => x !== null);
      assert.deepEqual(failed, [], 'every in-flight relay session completed, byte-exact');
      const codes = await Promise.all(exits);
      t.diagnostic(`20 sessions completed; exits ${codes.map((c) => c.code).join(', ')} ${Date.now() - signalled} ms after SIGTERM`);
      assert.deepEqual(codes.map((c) => c.code), [0, 0]);
      assert.ok(Date.now() - signalled < GRACE_MS + 2000);
    } finally { await pair.close(); }
  });
});
