/** The access line built directly (server/access-line.ts) is byte for byte the line pino writes for the same record. */
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { pino } from 'pino';
import { accessRecordOf, registerDirectLines, writeAccessLine, writeProxyAccessLine, type ProxyAccessFields } from '../../src/server/access-line.ts';
import { createFileLineWriter } from '../../src/server/file-line-writer.ts';
import { logAccess, type AccessRecord } from '../../src/server/access-log.ts';
import { createLogger, isoTimeField, loggerOptions, type LogLevel } from '../../src/server/logger.ts';

const TIME = ',"time":"2026-12-07T04:00:00.000Z"';

/** A logger with ferry's options writing into an array; `direct` registers it for the direct line. */
function capture(level: LogLevel, direct: boolean): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = { write: (s: string) => { lines.push(s); return true; } };
  const log = pino({ ...loggerOptions('proxy', level), timestamp: () => TIME }, sink);
  if (direct) registerDirectLines(log, sink, () => TIME);
  return { log, lines };
}

const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary', maxLength: 130 }), fc.constantFrom('/a?b="c"\\d', 'x'.repeat(101), '\u0000\u001f', '\ud800'));
const num = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(Number.NaN, Infinity, -0));
const record = fc.record({
  requestId: text, method: text, path: text, status: fc.integer({ min: 0, max: 999 }), bytesIn: num, bytesOut: num, durationMs: num,
  clientAddress: fc.option(text, { nil: undefined }), upstreamMs: fc.option(num, { nil: undefined }),
  cacheStatus: fc.option(text, { nil: undefined }), error: fc.option(text, { nil: undefined }), extra: fc.option(fc.boolean(), { nil: undefined }),
  tries: fc.option(fc.array(fc.record({ target: text, outcome: text, status: fc.option(fc.integer(), { nil: undefined }), ms: num }, { requiredKeys: ['target', 'outcome', 'ms'] }), { maxLength: 3 }), { nil: undefined }),
  nested: fc.option(fc.oneof(fc.jsonValue(), fc.constant(null), fc.constant(() => 1), fc.constant([undefined, () => 1, Symbol('s')]),
    fc.constant({ a: undefined, b: Symbol('s'), c: [1, { d: '\u2028' }] }), fc.constant(new Date(0)), fc.constant({ toJSON: () => 'j' }),
    fc.constant(Object.assign(Object.create(null) as object, { x: 1 })), fc.constant({ a: { b: { c: { d: { e: 1 } } } } })), { nil: undefined }),
}, { requiredKeys: ['requestId', 'method', 'path', 'status', 'bytesIn', 'bytesOut', 'durationMs'] });

describe('direct access line', () => {
  it('equals what pino writes for any record (strings with quotes, control characters, lone surrogates; NaN, ±0, Infinity; optional fields absent; the tries list, nested objects, null, functions)', () => {
    fc.assert(fc.property(record, fc.constantFrom<LogLevel>('info', 'warn'), (r, level) => {
      const viaPino = capture(level, false);
      const direct = capture(level, true);
      logAccess(viaPino.log, r as AccessRecord);
      logAccess(direct.log, r as AccessRecord);
      assert.deepEqual(direct.lines, viaPino.lines);
    }), { numRuns: 2000 });
  });

  it('is taken for the loggers createLogger makes and records holding plain objects (the tries list), not for other pino loggers or what JSON.stringify refuses', () => {
    const file = join(tmpdir(), `ferry-access-line-${process.pid}.log`);
    const fd = openSync(file, 'w');
    try {
      const rec = { requestId: 'r', method: 'GET', path: '/', status: 200, bytesIn: 0, bytesOut: 1, durationMs: 1 };
      assert.equal(writeAccessLine(createLogger('proxy', 'info', fd), 'info', rec, 'GET / 200'), true);
      assert.equal(writeAccessLine(pino({ level: 'info' }, { write: () => true }), 'info', rec, 'GET / 200'), false);
      assert.equal(writeAccessLine(capture('info', true).log, 'info', { ...rec, tries: [{ target: 'http://a/', outcome: 'response', status: 200, ms: 1 }] }, 'GET / 200'), true);
      const cycle: Record<string, unknown> = {};
      cycle.self = cycle;
      assert.equal(writeAccessLine(capture('info', true).log, 'info', { ...rec, obj: cycle }, 'GET / 200'), false);
      assert.equal(writeAccessLine(capture('info', true).log, 'info', { ...rec, big: 1n }, 'GET / 200'), false);
    } finally { closeSync(fd); rmSync(file, { force: true }); }
  });

  it('the proxy line written into the file writer buffer equals what pino writes for the record the filter builds otherwise', () => {
    const file = join(tmpdir(), `ferry-proxy-line-${process.pid}.log`);
    const fd = openSync(file, 'w');
    try {
      // a small buffer: long fields take the string path (the line could exceed it), the others fill several batches
      const writer = createFileLineWriter(fd, { batchBytes: 2048, flushMs: 60_000 });
      const direct = pino({ ...loggerOptions('proxy', 'info'), timestamp: () => TIME }, writer);
      registerDirectLines(direct, writer, () => TIME);
      const viaPino = capture('info', false);
      const decimal = fc.integer({ min: 0, max: 2e12 }).map((m) => Math.round(m) / 1000);
      const fields = fc.record({
        requestId: text, method: text, path: text, status: fc.oneof(fc.integer({ min: 0, max: 999 }), num), bytesIn: num, bytesOut: fc.oneof(fc.nat(), num),
        durationMs: fc.oneof(decimal, num), clientAddress: text, httpVersion: fc.oneof(fc.constantFrom('1.1', '2.0', '1.0'), text),
        upstreamMs: fc.option(fc.oneof(decimal, num), { nil: undefined }), cacheStatus: fc.option(text, { nil: undefined }), error: fc.option(text, { nil: undefined }),
        // TryRecord's shape (written field by field), and others JSON.stringify writes differently: keys in another
        // order, an extra key, a nested value
        tries: fc.option(fc.array(fc.oneof(
          { arbitrary: fc.record({ target: text, outcome: text, status: fc.option(fc.integer(), { nil: undefined }), ms: num }, { requiredKeys: ['target', 'outcome', 'ms'] }), weight: 4 },
          fc.record({ ms: num, target: text, outcome: text }),
          fc.record({ target: text, outcome: text, ms: num, extra: fc.oneof(text, fc.constant(null), fc.array(num, { maxLength: 2 })) }),
        ), { maxLength: 3 }), { nil: undefined }),
      });
      let written = 0;
      fc.assert(fc.property(fields, (f: ProxyAccessFields) => {
        const record = accessRecordOf(f);
        if (writeProxyAccessLine(direct, f)) written++;
        else logAccess(direct, record);
        logAccess(viaPino.log, record);
      }), { numRuns: 2000 });
      writer.flushSync();
      // bytes: the file writer encodes each line to UTF-8 (a lone surrogate pino left as it is becomes U+FFFD)
      assert.ok(readFileSync(file).equals(Buffer.from(viaPino.lines.join(''))), 'the same bytes');
      assert.ok(written > 1500, `${written} of 2000 lines written byte by byte`);
      assert.equal(writeProxyAccessLine(capture('info', true).log, { requestId: 'r', method: 'GET', path: '/', status: 200, bytesIn: 0, bytesOut: 0,
        durationMs: 1, clientAddress: '', httpVersion: '1.1', upstreamMs: undefined, cacheStatus: undefined, tries: undefined, error: undefined }), false, 'a string sink: not taken');
    } finally { closeSync(fd); rmSync(file, { force: true }); }
  });

  it('time field: what pino.stdTimeFunctions.isoTime writes, for any sequence of times (the per-second prefix reused only within its second)', () => {
    const time = fc.oneof(fc.integer({ min: 0, max: 8.64e15 }), fc.integer({ min: 1.7e12, max: 1.7e12 + 5000 }), fc.constantFrom(0, 999, 1000, 59_999, 253402300799999, 253402300800000));
    fc.assert(fc.property(fc.array(time, { minLength: 1, maxLength: 20 }), (times) => {
      for (const t of times) assert.equal(isoTimeField(t), `,"time":"${new Date(t).toISOString()}"`);
    }), { numRuns: 2000 });
  });
});
