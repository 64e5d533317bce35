/** The CLI logger against a destination that stalls: memory stays bounded, every line is delivered or counted. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('./log-stall-fixture.ts', import.meta.url));
const MIB = 1024 * 1024;

describe('logger with a stalled destination', () => {
  it('holds at most its cap while stdout is not read, drops the rest, and reports the count once lines flow again', async () => {
    const LINES = 200_000; // ~60 MB of log lines
    const child = spawn(process.execPath, ['--expose-gc', FIXTURE], { env: { ...process.env, LINES: String(LINES) }, stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '';
    const report = new Promise<{ heapGrowth: number }>((resolve) => {
      child.stderr.setEncoding('utf8').on('data', (c: string) => {
        err += c;
        const m = /^(\{"heapGrowth".*\})$/m.exec(err);
        if (m) resolve(JSON.parse(m[1]!) as { heapGrowth: number });
      });
    });
    const { heapGrowth } = await report; // stdout untouched so far: the pipe filled long ago
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => { out += c; });
    child.stdin.write('go\n');
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    assert.equal(code, 0, err);
    const records = out.trim().split('\n').map((l) => JSON.parse(l) as { event?: string; n?: number; lines?: number });
    const delivered = records.filter((r) => r.event === 'access').length;
    const dropped = records.filter((r) => r.event === 'log-dropped').reduce((sum, r) => sum + r.lines!, 0);
    assert.ok(dropped > 0, 'lines were dropped while the destination stalled');
    assert.equal(delivered + dropped, LINES, 'every line is either delivered or counted as dropped');
    assert.ok(heapGrowth < 40 * MIB, `heap grew ${(heapGrowth / MIB).toFixed(1)} MiB holding ~60 MB of lines for a stalled stdout (cap 16 MiB)`);
    const ns = records.filter((r) => r.event === 'access').map((r) => r.n!);
    assert.ok(ns.every((n, k) => k === 0 || n > ns[k - 1]!), 'delivered lines keep their order');
  });
});
