/** HeaderList from a parsed head object: the same list as from the raw pairs, or null where the object lost order. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { fromHeaderObject, fromParsedHeaders, fromRawHeaders, getHeader, hasHeader, withoutHeaders } from '../../src/http/headers.ts';

/** What undici's parseHeaders builds from raw pairs (lowercase names; a repeated name's values in an array). */
function parsedLikeUndici(raw: readonly string[]): Record<string, string | string[]> {
  const obj: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const prev = Object.hasOwn(obj, name) ? obj[name] : undefined; // (`constructor`, `toString`: as undici does)
    if (prev === undefined) Object.defineProperty(obj, name, { value: raw[i + 1]!, enumerable: true, writable: true, configurable: true });
    else if (typeof prev === 'string') obj[name] = [prev, raw[i + 1]!];
    else prev.push(raw[i + 1]!);
  }
  return obj;
}

const name = fc.stringMatching(/^[A-Za-z0-9-]{1,12}$/);
const value = fc.stringMatching(/^[ -~]{0,20}$/);

test('fromParsedHeaders gives the raw pairs\' list whenever it gives one, and null when a name repeats or looks like an index', () => {
  fc.assert(fc.property(fc.array(fc.tuple(name, value), { maxLength: 12 }), (pairs) => {
    const raw = pairs.flat();
    const fast = fromParsedHeaders(parsedLikeUndici(raw), pairs.length);
    const names = pairs.map(([n]) => n.toLowerCase());
    const ordered = new Set(names).size === names.length && !names.some((n) => /^[0-9]/.test(n));
    if (ordered) assert.deepEqual(fast, fromRawHeaders(raw));
    else assert.equal(fast, null);
  }), { seed: 18, numRuns: 2000 });
});

test('fromParsedHeaders: a repeated field among others (its values joined in an array) is left to the raw pairs', () => {
  const raw = ['Set-Cookie', 'a=1', 'Date', 'x', 'Set-Cookie', 'b=2'];
  assert.equal(fromParsedHeaders(parsedLikeUndici(raw), 3), null);
  assert.equal(fromParsedHeaders({ '1x': 'a', b: 'c' }, 2), null); // integer-like names are enumerated first
  assert.equal(fromParsedHeaders({ a: 'b' }, 2), null); // fewer fields than raw pairs
});

test('fromHeaderObject: an HTTP/2 header object, repeated fields expanded, pseudo-headers left out', () => {
  assert.deepEqual(fromHeaderObject({ ':status': '200', 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'], x: undefined }),
    [['content-type', 'text/plain'], ['set-cookie', 'a=1'], ['set-cookie', 'b=2']]);
});

test('withoutHeaders drops exactly the named fields, named by a list of any length or a set; hasHeader agrees with getHeader', () => {
  const name = fc.constantFrom('a', 'b', 'expect', 'x-jwt', 'via');
  fc.assert(fc.property(fc.array(fc.tuple(name, fc.string())), fc.array(name, { maxLength: 3 }), fc.boolean(), (headers, names, asSet) => {
    const out = withoutHeaders(headers, asSet ? new Set(names) : names);
    assert.deepEqual(out, headers.filter(([n]) => !names.includes(n)));
    for (const n of ['a', 'b', 'expect', 'x-jwt', 'via']) assert.equal(hasHeader(headers, n), getHeader(headers, n) !== undefined && headers.some(([m]) => m === n));
  }));
});
