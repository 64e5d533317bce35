/** The relay library leaves an embedding process's heap alone: pacing is the CLI's `onBodyBytes` hook (relay-gc.ts). */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

describe('the relay library leaves an embedding process alone', () => {
  for (const exposed of [false, true]) {
    it(`moves 64 MiB through createRelayServer + createRelayClient without asking for a collection or setting a V8 flag (embedder gc() ${exposed ? 'exposed' : 'not exposed'})`, async () => {
      const fixture = fileURLToPath(new URL('../fixtures/relay-embedder.ts', import.meta.url));
      const { stdout } = await run(process.execPath, [fixture], { env: { ...process.env, EMBEDDER_GC: exposed ? '1' : '0' }, timeout: 120_000 });
      const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as { bytes: number; status: number; serverHook: number; clientHook: number; gcCalls: number; flags: string[] };
      assert.equal(result.status, 200);
      assert.equal(result.bytes, 64 * 1024 * 1024, 'every byte arrived');
      assert.equal(result.serverHook, 64 * 1024 * 1024, 'the server told its onBodyBytes hook every body byte');
      assert.equal(result.clientHook, 64 * 1024 * 1024, 'the client told its onBodyBytes hook every body byte');
      assert.equal(result.gcCalls, 0, 'ferry called no gc()');
      assert.deepEqual(result.flags, [], 'ferry set no V8 flag');
    });
  }
});
