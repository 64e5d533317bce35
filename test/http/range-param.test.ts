import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decideRangeParam, parseRangeParam } from '../../src/http/range-param.ts';
import { parseRangeSet, type RangeSpec } from '../../src/http/range.ts';

const TARGETS: Array<[string, string, string]> = [
  // [target, forwarded target, Range header value]
  ['/f?range=20-345', '/f', 'bytes=20-345'],
  ['/f?range=0-9,20-29', '/f', 'bytes=0-9,20-29'],
  ['/f?range=100-', '/f', 'bytes=100-'],
  ['/f?range=-50', '/f', 'bytes=-50'],
  ['/f?a=1&range=0-9&b=2', '/f?a=1&b=2', 'bytes=0-9'],
  ['/f?b=%2F%20x&range=0-9', '/f?b=%2F%20x', 'bytes=0-9'],
  ['/f?range=0-9&z=%zz&a', '/f?z=%zz&a', 'bytes=0-9'],
  ['/f?&range=1-2', '/f?', 'bytes=1-2'],
  ['/f?range=1-2&', '/f?', 'bytes=1-2'],
  ['/f?range=0-9%2C20-29', '/f', 'bytes=0-9,20-29'],
  ['/f?range=0-9,+20-29', '/f', 'bytes=0-9,20-29'],
  ['/f?range=0-9&range=20-29', '/f', 'bytes=0-9,20-29'],
  ['/f?x=a+b&range=5-6&y=%41', '/f?x=a+b&y=%41', 'bytes=5-6'],
  ['/f?;=;&range=5-6', '/f?;=;', 'bytes=5-6'],
];

for (const [target, forwarded, header] of TARGETS) {
  test(`${target} is forwarded as ${forwarded} with ${header}`, () => {
    const r = parseRangeParam(target);
    assert.equal(r.kind, 'ranges');
    if (r.kind !== 'ranges') return;
    assert.equal(r.target, forwarded);
    assert.equal(`bytes=${r.specs.map((s) => s.kind === 'from-to' ? `${s.first}-${s.last}` : s.kind === 'from' ? `${s.first}-` : `-${s.length}`).join(',')}`, header);
  });
}

const ABSENT = ['/f', '/f?', '/f?a=1', '/f?ranges=1-2', '/f?Range=1-2', '/f?xrange=1-2', '/f?a=range=1-2', '/range=1-2'];
for (const target of ABSENT) {
  test(`${target} has no range parameter`, () => {
    assert.deepEqual(parseRangeParam(target), { kind: 'absent' });
  });
}

const INVALID = ['/f?range', '/f?range=', '/f?range=abc', '/f?range=9-1', '/f?range=%zz', '/f?range=1-2-3', '/f?range=bytes=1-2',
  `/f?range=${Array.from({ length: 101 }, (_, i) => `${i * 10}-${i * 10 + 1}`).join(',')}`];
for (const target of INVALID) {
  test(`${target.slice(0, 40)} is a bad range parameter with a message`, () => {
    const r = parseRangeParam(target);
    assert.equal(r.kind, 'invalid');
    if (r.kind === 'invalid') assert.match(r.reason, /range parameter/);
  });
}

test('removing the parameter keeps every other query byte and their order (property)', () => {
  const part = fc.stringMatching(/^[A-Za-z0-9%+;=~._*!-]{0,12}$/).filter((p) => p.split('=')[0] !== 'range');
  fc.assert(fc.property(fc.array(part, { minLength: 1, maxLength: 6 }), fc.nat({ max: 6 }), (parts, at) => {
    const i = Math.min(at, parts.length);
    const withRange = [...parts.slice(0, i), 'range=3-4', ...parts.slice(i)];
    const r = parseRangeParam(`/p?${withRange.join('&')}`);
    assert.equal(r.kind, 'ranges');
    if (r.kind === 'ranges') assert.equal(r.target, `/p?${parts.join('&')}`);
  }));
});

const specs = (text: string): RangeSpec[] => {
  const p = parseRangeSet(text);
  assert.equal(p.kind, 'ranges');
  return p.kind === 'ranges' ? p.specs : [];
};

test('no Range header: the parameter becomes the header', () => {
  assert.deepEqual(decideRangeParam(specs('20-345'), undefined), { kind: 'forward', range: 'bytes=20-345' });
});

test('an invalid Range header is ignored (RFC 9110 §14.2) and replaced by the parameter', () => {
  assert.deepEqual(decideRangeParam(specs('0-9'), 'pages=1-2'), { kind: 'forward', range: 'bytes=0-9' });
});

test('the same bytes written differently are forwarded once, header kept', () => {
  assert.deepEqual(decideRangeParam(specs('0-9,10-19'), 'bytes=0-19'), { kind: 'forward', range: null });
  assert.deepEqual(decideRangeParam(specs('10-20,1-40'), 'bytes=1-40'), { kind: 'forward', range: null });
});

test('different bytes need the size, then conflict', () => {
  assert.deepEqual(decideRangeParam(specs('20-345'), 'bytes=10-20'), { kind: 'need-size' });
  assert.deepEqual(decideRangeParam(specs('20-345'), 'bytes=10-20', 1000), { kind: 'conflict' });
});

test('sets that coincide only for the actual length are forwarded once that length is known', () => {
  assert.deepEqual(decideRangeParam(specs('0-'), 'bytes=0-99'), { kind: 'need-size' });
  assert.deepEqual(decideRangeParam(specs('0-'), 'bytes=0-99', 100), { kind: 'forward', range: null });
  assert.deepEqual(decideRangeParam(specs('0-'), 'bytes=0-99', 101), { kind: 'conflict' });
  assert.deepEqual(decideRangeParam(specs('-10'), 'bytes=90-99', 100), { kind: 'forward', range: null });
});
