/**
 * The proxy's queued access lines (server/access-line-queue.ts): once written, the file holds byte for byte what pino
 * writes for the same records, in the order they were logged among the logger's other lines, each with the time it
 * was logged at; nothing waits past the writer's flush interval; a full queue is written at once.
 */
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { pino } from 'pino';
import { accessRecordOf, registerDirectLines, type ProxyAccessFields } from '../../src/server/access-line.ts';
import { queueProxyAccessLine } from '../../src/server/access-line-queue.ts';
import { logAccess } from '../../src/server/access-log.ts';
import { createFileLineWriter } from '../../src/server/file-line-writer.ts';
import { loggerOptions } from '../../src/server/logger.ts';

/** A clock the test moves by hand: pino's time field for tick `now`. */
let now = 0;
const clock = (): string => `,"time":${now}`;

function tempFile(name: string): { file: string; fd: number; done: () => void } {
  const file = join(tmpdir(), `ferry-${name}-${process.pid}.log`);
  const fd = openSync(file, 'w');
  return { file, fd, done: () => { closeSync(fd); rmSync(file, { force: true }); } };
}

/** A logger with ferry's options on a file writer, registered for direct lines. */
function direct(fd: number, batchBytes: number, flushMs = 60_000): { log: pino.Logger; writer: ReturnType<typeof createFileLineWriter> } {
  const writer = createFileLineWriter(fd, { batchBytes, flushMs });
  const log = pino({ ...loggerOptions('proxy', 'info'), timestamp: clock }, writer);
  registerDirectLines(log, writer, clock);
  return { log, writer };
}

function viaPino(): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const log = pino({ ...loggerOptions('proxy', 'info'), timestamp: clock }, { write: (s: string) => { lines.push(s); return true; } });
  return { log, lines };
}

const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), fc.constantFrom('/a?b="c"\\d', 'x'.repeat(101), '\u0000\u001f', '\ud800'));
const ms = fc.integer({ min: 0, max: 2e9 }).map((m) => m / 1000);
const fields: fc.Arbitrary<ProxyAccessFields> = fc.record({
  requestId: text, method: fc.constantFrom('GET', 'POST', 'PURGE'), path: fc.oneof(text, fc.constant('/p'.repeat(3000))), status: fc.integer({ min: 100, max: 599 }),
  bytesIn: fc.nat(), bytesOut: fc.nat(), durationMs: ms, clientAddress: text, httpVersion: fc.constantFrom('1.1', '2.0', '1.0'),
  upstreamMs: fc.option(ms, { nil: undefined }), cacheStatus: fc.option(text, { nil: undefined }), error: fc.option(text, { nil: undefined }),
  tries: fc.option(fc.array(fc.record({ target: text, outcome: text, status: fc.option(fc.integer({ min: 100, max: 599 }), { nil: undefined }), ms }, { requiredKeys: ['target', 'outcome', 'ms'] }), { maxLength: 2 }), { nil: undefined }),
});
/** What happens next on the logger: an access line, another line (a warning through pino), or the clock moving. */
const step = fc.oneof(
  { arbitrary: fields.map((f) => ({ kind: 'access' as const, f })), weight: 6 },
  { arbitrary: text.map((msg) => ({ kind: 'other' as const, msg })), weight: 1 },
  { arbitrary: fc.constant({ kind: 'tick' as const }), weight: 2 },
);

describe('queued access lines', () => {
  it('are written as pino writes them, in logging order among other lines, each with the time it was logged at', () => {
    const { fd, file, done } = tempFile('queue-prop');
    try {
      // a small batch: lines cross batch boundaries, and the 6000-character path does not fit (written as a string)
      const { log, writer } = direct(fd, 2048);
      const ref = viaPino();
      fc.assert(fc.property(fc.array(step, { minLength: 30, maxLength: 150 }), (steps) => {
        for (const s of steps) {
          if (s.kind === 'tick') { now++; continue; }
          if (s.kind === 'other') { log.warn({ event: 'other' }, s.msg); ref.log.warn({ event: 'other' }, s.msg); continue; }
          assert.equal(queueProxyAccessLine(log, s.f), true);
          logAccess(ref.log, accessRecordOf(s.f));
        }
      }), { numRuns: 200 });
      now++;
      writer.flushSync();
      const written = readFileSync(file, 'utf8');
      assert.equal(written, Buffer.from(ref.lines.join('')).toString('utf8'));
      assert.ok(written.split('\n').length > 3000, `many lines (${written.split('\n').length})`);
    } finally { done(); }
  });

  const f: ProxyAccessFields = { requestId: 'r', method: 'GET', path: '/', status: 200, bytesIn: 0, bytesOut: 1, durationMs: 0.5, clientAddress: '127.0.0.1',
    httpVersion: '1.1', upstreamMs: undefined, cacheStatus: undefined, tries: undefined, error: undefined };

  it('go out within the writer flush interval', async () => {
    const { fd, file, done } = tempFile('queue-timer');
    try {
      const { log } = direct(fd, 1 << 20, 30);
      assert.equal(queueProxyAccessLine(log, f), true);
      assert.equal(readFileSync(file, 'utf8'), '', 'queued, not yet written');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(readFileSync(file, 'utf8').split('\n').length - 1, 1, 'written by the flush timer');
    } finally { done(); }
  });

  it('are serialised at once when 64 are queued (memory stays 64 records)', () => {
    const { fd, file, done } = tempFile('queue-full');
    try {
      // a 1 KiB batch: the 64 lines serialised fill several batches, which go out as they fill
      const { log } = direct(fd, 1024);
      for (let i = 0; i < 63; i++) queueProxyAccessLine(log, f);
      assert.equal(readFileSync(file, 'utf8'), '', '63 queued');
      queueProxyAccessLine(log, f);
      assert.ok(readFileSync(file, 'utf8').split('\n').length - 1 >= 50, 'the 64th line serialised the queue');
    } finally { done(); }
  });

  it('are not taken for a logger that does not write to the file writer', () => {
    const ref = viaPino();
    assert.equal(queueProxyAccessLine(ref.log, f), false);
    registerDirectLines(ref.log, { write: () => true }, clock); // a string sink: no line buffer
    assert.equal(queueProxyAccessLine(ref.log, f), false);
  });
});
