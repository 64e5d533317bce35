import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  coalesceRanges, formatContentRange, formatRangeHeader, formatUnsatisfiedRange, parseContentRange,
  parseRangeHeader, parseRangeSet, rangesLength, resolveRanges, sameByteSet, MAX_RANGES,
  type ByteRange, type RangeSpec,
} from '../../src/http/range.ts';

function specsOf(value: string): RangeSpec[] {
  const p = parseRangeHeader(value);
  assert.equal(p.kind, 'ranges', `${value} should parse`);
  return p.kind === 'ranges' ? p.specs : [];
}

describe('parseRangeHeader', () => {
  it('reads the three forms of range-spec (RFC 9110 §14.1.1)', () => {
    assert.deepEqual(specsOf('bytes=0-499'), [{ kind: 'from-to', first: 0, last: 499 }]);
    assert.deepEqual(specsOf('bytes=9500-'), [{ kind: 'from', first: 9500 }]);
    assert.deepEqual(specsOf('bytes=-500'), [{ kind: 'suffix', length: 500 }]);
    assert.deepEqual(specsOf('BYTES = 0-0 ,, -1 '), [{ kind: 'from-to', first: 0, last: 0 }, { kind: 'suffix', length: 1 }]);
  });

  it('tells absent from invalid', () => {
    assert.equal(parseRangeHeader(undefined).kind, 'absent');
    for (const bad of ['bytes', 'bytes=', 'bytes=,', 'bytes=5-1', 'bytes=a-b', 'bytes=-', 'bytes=1-2-3', 'bytes=--1',
      'items=0-1', 'bytes=0x1-2', '=0-1', 'bytes=1 - 2', 'bytes=+1-2', 'bytes=0-1;x', 'bytes=0-,5-0,5-1']) {
      assert.equal(parseRangeHeader(bad).kind, 'invalid', bad);
    }
  });

  it('compares huge positions without overflow', () => {
    assert.equal(parseRangeHeader('bytes=99999999999999999999-99999999999999999998').kind, 'invalid');
    const r = resolveRanges(specsOf('bytes=0-99999999999999999999'), 10);
    assert.deepEqual(r, { kind: 'satisfiable', ranges: [{ first: 0, last: 9 }] });
    assert.equal(resolveRanges(specsOf('bytes=99999999999999999999-'), 10).kind, 'unsatisfiable');
    assert.deepEqual(resolveRanges(specsOf('bytes=-99999999999999999999'), 10), { kind: 'satisfiable', ranges: [{ first: 0, last: 9 }] });
  });

  it('parses the set alone, as the ?range= query gives it', () => {
    assert.deepEqual(parseRangeSet('0-9,20-29'), { kind: 'ranges', specs: [{ kind: 'from-to', first: 0, last: 9 }, { kind: 'from-to', first: 20, last: 29 }] });
    assert.equal(parseRangeSet('bytes=0-9').kind, 'invalid');
  });
});

describe('resolveRanges', () => {
  it('clamps, picks satisfiable specs, answers unsatisfiable only when none is', () => {
    assert.deepEqual(resolveRanges(specsOf('bytes=5-100'), 10), { kind: 'satisfiable', ranges: [{ first: 5, last: 9 }] });
    assert.deepEqual(resolveRanges(specsOf('bytes=20-30,-3'), 10), { kind: 'satisfiable', ranges: [{ first: 7, last: 9 }] });
    assert.equal(resolveRanges(specsOf('bytes=10-'), 10).kind, 'unsatisfiable');
    assert.equal(resolveRanges(specsOf('bytes=-0'), 10).kind, 'unsatisfiable');
    assert.equal(resolveRanges(specsOf('bytes=0-'), 0).kind, 'unsatisfiable');
    assert.equal(resolveRanges(specsOf('bytes=-5'), 0).kind, 'unsatisfiable');
  });

  it('coalesces overlapping and adjacent ranges in ascending order (range-parser combine)', () => {
    assert.deepEqual(resolveRanges(specsOf('bytes=50-55,0-10,5-10,56-60'), 100),
      { kind: 'satisfiable', ranges: [{ first: 0, last: 10 }, { first: 50, last: 60 }] });
    assert.deepEqual(resolveRanges(specsOf('bytes=0-,0-,0-,0-'), 1000), { kind: 'satisfiable', ranges: [{ first: 0, last: 999 }] });
  });

  it('ignores more than MAX_RANGES specs (Apache Killer probe)', () => {
    const killer = `bytes=0-,${Array.from({ length: 1299 }, (_, i) => `5-${i + 5}`).join(',')}`;
    const r = resolveRanges(specsOf(killer), 10_000);
    assert.equal(r.kind, 'ignore');
    const hundred = `bytes=${Array.from({ length: MAX_RANGES }, (_, i) => `${i * 2}-${i * 2}`).join(',')}`;
    assert.equal(resolveRanges(specsOf(hundred), 10_000).kind, 'satisfiable');
    assert.equal(resolveRanges(specsOf(`${hundred},500-`), 10_000).kind, 'ignore');
    assert.equal(resolveRanges(specsOf('bytes=0-1,3-4,6-7'), 100, { maxRanges: 2 }).kind, 'ignore');
  });
});

const specArb: fc.Arbitrary<RangeSpec> = fc.oneof(
  fc.tuple(fc.nat(300), fc.nat(300)).map(([a, b]): RangeSpec => ({ kind: 'from-to', first: Math.min(a, b), last: Math.max(a, b) })),
  fc.nat(300).map((first): RangeSpec => ({ kind: 'from', first })),
  fc.nat(300).map((length): RangeSpec => ({ kind: 'suffix', length })),
);

/** The byte offsets a spec selects, computed the slow, obvious way. */
function naiveBytes(specs: readonly RangeSpec[], size: number): Set<number> {
  const out = new Set<number>();
  for (let i = 0; i < size; i++) {
    for (const s of specs) {
      const hit = s.kind === 'from-to' ? i >= s.first && i <= s.last
        : s.kind === 'from' ? i >= s.first : s.length > 0 && i >= size - s.length;
      if (hit) { out.add(i); break; }
    }
  }
  return out;
}

function bytesOf(ranges: readonly ByteRange[]): Set<number> {
  const out = new Set<number>();
  for (const r of ranges) for (let i = r.first; i <= r.last; i++) out.add(i);
  return out;
}

describe('range properties (fast-check)', () => {
  it('format → parse round-trips', () => {
    fc.assert(fc.property(fc.array(specArb, { minLength: 1, maxLength: 20 }), (specs) => {
      assert.deepEqual(parseRangeHeader(formatRangeHeader(specs)), { kind: 'ranges', specs });
    }));
  });

  it('resolved ranges select exactly the requested bytes, disjoint, ascending, within size', () => {
    fc.assert(fc.property(fc.array(specArb, { minLength: 1, maxLength: 30 }), fc.nat(400), (specs, size) => {
      const r = resolveRanges(specs, size);
      const want = naiveBytes(specs, size);
      if (want.size === 0) { assert.equal(r.kind, 'unsatisfiable'); return; }
      assert.equal(r.kind, 'satisfiable');
      if (r.kind !== 'satisfiable') return;
      assert.deepEqual(bytesOf(r.ranges), want);
      assert.equal(rangesLength(r.ranges), want.size);
      assert.ok(rangesLength(r.ranges) <= size, 'never more bytes than the representation');
      r.ranges.forEach((x, i) => {
        assert.ok(x.first <= x.last && x.last < size);
        const prev = r.ranges[i - 1];
        if (prev) assert.ok(prev.last + 1 < x.first, 'disjoint and not adjacent');
      });
    }));
  });

  it('never throws on arbitrary input', () => {
    fc.assert(fc.property(fc.string({ maxLength: 60 }), (s) => {
      const p = parseRangeHeader(s);
      assert.ok(['invalid', 'ranges'].includes(p.kind));
      const q = parseRangeHeader(`bytes=${s}`);
      if (q.kind === 'ranges') resolveRanges(q.specs, 100);
    }));
  });

  it('coalescing is idempotent', () => {
    const rangeArb = fc.tuple(fc.nat(500), fc.nat(50)).map(([first, len]) => ({ first, last: first + len }));
    fc.assert(fc.property(fc.array(rangeArb, { maxLength: 30 }), (ranges) => {
      const once = coalesceRanges(ranges);
      assert.deepEqual(coalesceRanges(once), once);
      assert.deepEqual(bytesOf(once), bytesOf(ranges));
    }));
  });
});

describe('sameByteSet', () => {
  it('with a size, compares the selected bytes', () => {
    assert.ok(sameByteSet(specsOf('bytes=0-9'), specsOf('bytes=-10'), 10));
    assert.ok(!sameByteSet(specsOf('bytes=0-9'), specsOf('bytes=-10'), 20));
    assert.ok(sameByteSet(specsOf('bytes=0-4,5-9'), specsOf('bytes=0-9'), 100));
    assert.ok(sameByteSet(specsOf('bytes=5-,0-4'), specsOf('bytes=0-'), 100));
  });

  it('without a size, true only when equal for every length', () => {
    assert.ok(sameByteSet(specsOf('bytes=0-9'), specsOf('bytes=0-9')));
    assert.ok(sameByteSet(specsOf('bytes=0-4,5-9'), specsOf('bytes=0-9')));
    assert.ok(sameByteSet(specsOf('bytes=0-,-5'), specsOf('bytes=0-')));
    assert.ok(sameByteSet(specsOf('bytes=-5,-3'), specsOf('bytes=-5')));
    assert.ok(!sameByteSet(specsOf('bytes=0-9'), specsOf('bytes=-10')));
    assert.ok(!sameByteSet(specsOf('bytes=0-9'), specsOf('bytes=0-10')));
    assert.ok(!sameByteSet(specsOf('bytes=100-'), specsOf('bytes=100-,-5')));
  });

  it('property: sizeless equality implies equality at every size, and vice versa', () => {
    const setArb = fc.array(specArb, { minLength: 1, maxLength: 4 });
    fc.assert(fc.property(setArb, setArb, (a, b) => {
      const everywhere = Array.from({ length: 700 }, (_, n) => n).every((n) => sameByteSet(a, b, n));
      assert.equal(sameByteSet(a, b), everywhere);
    }), { numRuns: 300 });
  });

  it('property: a set equals itself reordered, and its own resolution', () => {
    fc.assert(fc.property(fc.array(specArb, { minLength: 1, maxLength: 8 }), fc.nat(400), (a, size) => {
      assert.ok(sameByteSet(a, [...a].reverse()));
      const r = resolveRanges(a, size);
      if (r.kind === 'satisfiable') {
        assert.ok(sameByteSet(a, r.ranges.map((x): RangeSpec => ({ kind: 'from-to', ...x })), size));
      }
    }));
  });
});

describe('Content-Range', () => {
  it('formats and parses', () => {
    assert.equal(formatContentRange({ first: 0, last: 9 }, 100), 'bytes 0-9/100');
    assert.equal(formatContentRange({ first: 0, last: 9 }, undefined), 'bytes 0-9/*');
    assert.equal(formatUnsatisfiedRange(100), 'bytes */100');
    assert.deepEqual(parseContentRange('bytes 0-9/100'), { kind: 'range', range: { first: 0, last: 9 }, size: 100 });
    assert.deepEqual(parseContentRange('bytes 0-9/*'), { kind: 'range', range: { first: 0, last: 9 }, size: undefined });
    assert.deepEqual(parseContentRange('bytes */100'), { kind: 'unsatisfied', size: 100 });
    for (const bad of [undefined, 'bytes 9-0/100', 'bytes 0-100/100', 'bytes */*', 'items 0-1/2', 'bytes 0-1']) {
      assert.equal(parseContentRange(bad).kind, 'invalid', String(bad));
    }
  });
});
