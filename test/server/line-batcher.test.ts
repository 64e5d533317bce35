/** The access-log line batcher: lines reach the sink in batches, never later than the flush interval, none lost. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createLineBatcher, type LineSink } from '../../src/server/line-batcher.ts';

function recordingSink(): LineSink & { writes: string[]; syncFlushes: number } {
  return { writes: [], syncFlushes: 0, destroyed: false, write(s) { this.writes.push(s); return true; }, flushSync() { this.syncFlushes++; } };
}

describe('line batcher', () => {
  it('holds lines until the batch size is reached, then hands them on as one write, in order', () => {
    const sink = recordingSink();
    const b = createLineBatcher(sink, { batchChars: 100, flushMs: 60_000, fd: 1, capBytes: 1 << 20 });
    for (let i = 0; i < 9; i++) b.write(`line ${i} xxx\n`); // 11 characters each: 99, still below 100
    assert.equal(sink.writes.length, 0);
    b.write('line 9 xxx\n');
    b.write('line 10 xx\n');
    assert.equal(sink.writes.length, 1);
    assert.equal(sink.writes[0], Array.from({ length: 10 }, (_, i) => `line ${i} xxx\n`).join(''));
    b.drain();
    assert.deepEqual(sink.writes.slice(1), ['line 10 xx\n']);
    b.drain();
    assert.equal(sink.writes.length, 2, 'nothing pending: no empty write');
  });

  it('a lone line goes out after the flush interval', async () => {
    const sink = recordingSink();
    const b = createLineBatcher(sink, { batchChars: 8192, flushMs: 20, fd: 1, capBytes: 1 << 20 });
    b.write('only\n');
    assert.equal(sink.writes.length, 0);
    await new Promise((r) => setTimeout(r, 80));
    assert.deepEqual(sink.writes, ['only\n']);
  });

  it('flushSync hands on what is pending and flushes the sink synchronously (pino calls it on fatal)', () => {
    const sink = recordingSink();
    const b = createLineBatcher(sink, { batchChars: 8192, flushMs: 60_000, fd: 1, capBytes: 1 << 20 });
    b.write('a\n');
    b.flushSync();
    assert.deepEqual(sink.writes, ['a\n']);
    assert.equal(sink.syncFlushes, 1);
  });

  it('lines pending at process exit are written, from several loggers, with pino exiting or not', () => {
    const script = fileURLToPath(new URL('./line-batcher-exit-fixture.ts', import.meta.url));
    const r = spawnSync(process.execPath, [script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { role: string; msg: string });
    assert.deepEqual(lines.map((l) => `${l.role}:${l.msg}`), ['a:first', 'a:last', 'b:only']);
  });
});
