/** JSON written as bytes (server/json-bytes.ts): numbers and strings come out as JSON.stringify writes them. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { putDigits, putNumber } from '../../src/server/json-bytes.ts';

const written = (put: (buf: Buffer, o: number) => number): string => {
  const buf = Buffer.alloc(64);
  return buf.toString('latin1', 3, put(buf, 3)); // (from an offset: the writers must honour it)
};

describe('json bytes', () => {
  it('putNumber writes what JSON.stringify does: millisecond figures, integers, any double, non-finite numbers', () => {
    const millis = fc.integer({ min: 0, max: 2e15 }).map((m) => m / 1000);
    fc.assert(fc.property(fc.oneof(millis, fc.nat(), fc.maxSafeNat(), fc.double(), fc.constantFrom(0.001, 0.01, 0.1, 0.5, 0.05, 0.005, 1.01, 1.001, -0, Number.NaN, Infinity)), (n) => {
      assert.equal(written((b, o) => putNumber(b, o, n)), JSON.stringify(n));
    }), { numRuns: 5000 });
  });

  it('putDigits writes a safe integer\'s digits, past 2^31 too', () => {
    fc.assert(fc.property(fc.oneof(fc.nat(), fc.maxSafeNat(), fc.constantFrom(0, 9, 10, 0x7fffffff, 0x80000000, Number.MAX_SAFE_INTEGER)), (n) => {
      assert.equal(written((b, o) => putDigits(b, o, n)), String(n));
    }));
  });
});
