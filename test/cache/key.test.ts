import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { cacheKey, formatCacheUri, normalizeVaryValue, parseVary, varyKey, MAX_VARY_LENGTH } from '../../src/cache/key.ts';

test('C1: scheme + lower-cased host without default port + exact path and query', () => {
  assert.equal(cacheKey({ scheme: 'http', host: 'Example.COM:80', path: '/a/%2e%2E/b?x=1&y' }), 'GET http://example.com/a/%2e%2E/b?x=1&y');
  assert.equal(cacheKey({ scheme: 'https', host: 'example.com:443', path: '/' }), 'GET https://example.com/');
  assert.equal(cacheKey({ scheme: 'http', host: 'example.com:8080', path: '/' }), 'GET http://example.com:8080/');
  assert.equal(formatCacheUri({ scheme: 'https', host: 'h:80', path: '/p' }), 'https://h:80/p');
});

test('C1: keys differ whenever the forwarded path or query differ (no normalisation)', () => {
  fc.assert(fc.property(fc.string(), fc.string(), (a, b) => {
    fc.pre(a !== b);
    return cacheKey({ scheme: 'http', host: 'h', path: `/${a}` }) !== cacheKey({ scheme: 'http', host: 'h', path: `/${b}` });
  }));
});

test('Vary parsing: names lower-cased, sorted, deduplicated; * and over-long values are unstorable', () => {
  assert.deepEqual(parseVary(['Accept-Encoding, accept-language', 'ACCEPT-ENCODING']), { kind: 'fields', names: ['accept-encoding', 'accept-language'] });
  assert.deepEqual(parseVary([]), { kind: 'none' });
  assert.deepEqual(parseVary([' , ']), { kind: 'none' });
  assert.equal(parseVary(['accept, *']).kind, 'unstorable');
  assert.equal(parseVary(['x'.repeat(MAX_VARY_LENGTH + 1)]).kind, 'unstorable');
});

test('C5: Vary values are normalised; Accept-Encoding members sorted and lower-cased', () => {
  assert.equal(normalizeVaryValue('accept-encoding', [['accept-encoding', 'GZIP,  br ']]), 'br, gzip');
  assert.equal(normalizeVaryValue('accept-encoding', [['accept-encoding', 'br'], ['accept-encoding', 'gzip']]), 'br, gzip');
  assert.equal(normalizeVaryValue('accept-language', [['accept-language', 'en ,  fr']]), 'en, fr');
  // cache-tests vary-normalise-lang-case, -lang-order: tags are case-insensitive; ranges ordered by weight, then tag
  // (RFC 9110 §12.5.4: an order among equal weights "cannot be relied upon"); q=1 is the default weight
  assert.equal(normalizeVaryValue('accept-language', [['accept-language', 'eN, De ; q=0.5']]), 'en, de;q=0.5');
  assert.equal(normalizeVaryValue('accept-language', [['accept-language', 'en, de']]), 'de, en');
  assert.equal(normalizeVaryValue('accept-language', [['accept-language', 'fr;q=0.50, de;q=1.0, EN']]), 'de, en, fr;q=0.5');
  assert.equal(normalizeVaryValue('accept-language', [['accept-language', 'en;q=0.5, de']]), 'de, en;q=0.5');
  // an unreadable weight is kept as written, after the readable ones
  assert.equal(normalizeVaryValue('accept-language', [['accept-language', 'en;q=2, de']]), 'de, en;q=2');
  assert.equal(normalizeVaryValue('accept-language', []), undefined);
  assert.equal(normalizeVaryValue('x', [['x', '']]), '');
});

test('a one-line value of any field normalises as its members would, joined (fast-check: the one-member shortcut agrees)', () => {
  const chars = fc.constantFrom('a', 'B', ' ', '  ', '\t', ',', ';', '=', '"', '\u00a0', 'x/1.0');
  fc.assert(fc.property(fc.array(chars, { maxLength: 12 }).map((cs) => cs.join('')), (v) => {
    const members = v.split(',').map((m) => m.trim().replace(/\s+/g, ' ')).filter((m) => m.length > 0);
    assert.equal(normalizeVaryValue('user-agent', [['user-agent', v]]), members.join(', '));
  }), { numRuns: 2000 });
});

test('Accept-Language: any order of the same weighted ranges gives the same key (fast-check)', () => {
  const range = fc.record({ tag: fc.constantFrom('en', 'de', 'fr', 'en-US', 'pt-BR', '*'), q: fc.constantFrom(undefined, '1', '0.5', '0.8', '0') });
  fc.assert(fc.property(fc.uniqueArray(range, { minLength: 1, maxLength: 5, selector: (r) => r.tag }).chain((rs) => fc.tuple(fc.constant(rs), fc.shuffledSubarray(rs, { minLength: rs.length, maxLength: rs.length }))), ([a, b]) => {
    const text = (rs: Array<{ tag: string; q: string | undefined }>) => rs.map((r) => (r.q === undefined ? r.tag : `${r.tag};q=${r.q}`)).join(', ');
    assert.equal(varyKey(['accept-language'], [['accept-language', text(a)]]), varyKey(['accept-language'], [['accept-language', text(b)]]));
  }));
});

test('varyKey: an absent field differs from an empty one; equivalent encodings share a key', () => {
  assert.notEqual(varyKey(['x'], []), varyKey(['x'], [['x', '']]));
  assert.equal(varyKey(['accept-encoding'], [['accept-encoding', 'gzip, br']]), varyKey(['accept-encoding'], [['accept-encoding', 'br,gzip']]));
  assert.notEqual(varyKey(['accept-encoding'], [['accept-encoding', 'gzip']]), varyKey(['accept-encoding'], [['accept-encoding', 'br']]));
});

test('varyKey never confuses values that contain separators', () => {
  fc.assert(fc.property(fc.string(), fc.string(), (a, b) => {
    fc.pre(a.trim() !== b.trim() && !a.includes(',') && !b.includes(','));
    const ka = varyKey(['x-a', 'x-b'], [['x-a', a], ['x-b', b]]);
    const kb = varyKey(['x-a', 'x-b'], [['x-a', b], ['x-b', a]]);
    return normalizeVaryValue('x-a', [['x-a', a]]) === normalizeVaryValue('x-a', [['x-a', b]]) || ka !== kb;
  }));
});

test('keyPartsOf: origin-form uses Host and the forwarded path; absolute-form its authority; no Host → no key', async () => {
  const { keyPartsOf, hasRequestBody } = await import('../../src/cache/key.ts');
  const ctx = (path?: string, secure = false) => ({ secure, ...(path ? { upstream: { origin: 'http://up:1', path } } : {}) }) as never;
  const head = (target: string, headers: Array<[string, string]>) => ({ method: 'GET', target, httpVersion: '1.1', headers });
  assert.deepEqual(keyPartsOf(head('/a?range=0-9&b', [['host', 'Site.example']]), ctx('/a?b')), { scheme: 'http', host: 'Site.example', path: '/a?b' });
  assert.deepEqual(keyPartsOf(head('/a', [['host', 'h']]), ctx(undefined, true)), { scheme: 'https', host: 'h', path: '/a' });
  assert.deepEqual(keyPartsOf(head('http://Other.example:8080', [['host', 'ignored']]), ctx()), { scheme: 'http', host: 'Other.example:8080', path: '/' });
  assert.equal(keyPartsOf(head('/a', []), ctx()), null);
  assert.equal(keyPartsOf(head('*', [['host', 'h']]), ctx()), null);
  assert.equal(hasRequestBody([['content-length', '5']]), true);
  assert.equal(hasRequestBody([['transfer-encoding', 'chunked']]), true);
  assert.equal(hasRequestBody([['content-length', '0']]), false);
});
