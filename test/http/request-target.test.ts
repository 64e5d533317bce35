import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseRequestTarget } from '../../src/http/request-target.ts';

describe('request-target forms (RFC 9112 §3.2)', () => {
  it('tells the four forms apart', () => {
    assert.deepEqual(parseRequestTarget('/a?b=%2F&', 'GET'), { kind: 'origin', path: '/a?b=%2F&' });
    assert.deepEqual(parseRequestTarget('http://h:8/x?y', 'GET'), { kind: 'absolute', scheme: 'http', authority: 'h:8', path: '/x?y' });
    assert.deepEqual(parseRequestTarget('http://h?q', 'GET'), { kind: 'absolute', scheme: 'http', authority: 'h', path: '/?q' });
    assert.deepEqual(parseRequestTarget('h.test:443', 'CONNECT'), { kind: 'authority', host: 'h.test', port: 443 });
    assert.deepEqual(parseRequestTarget('[::1]:8443', 'CONNECT'), { kind: 'authority', host: '::1', port: 8443 });
    assert.deepEqual(parseRequestTarget('*', 'OPTIONS'), { kind: 'asterisk' });
  });
  it('refuses the rest', () => {
    for (const [t, m] of [['*', 'GET'], ['a/b', 'GET'], ['/a b', 'GET'], ['/a#f', 'GET'], ['h.test', 'CONNECT'], ['h:0', 'CONNECT'], ['h:99999', 'CONNECT'], ['/\u00e9', 'GET']]) {
      assert.equal(parseRequestTarget(t!, m!).kind, 'invalid', `${t} ${m}`);
    }
  });
  it('property: an origin-form target is kept byte for byte', () => {
    fc.assert(fc.property(fc.stringMatching(/^\/[\x21-\x22\x24-\x7e]{0,30}$/), (t) => {
      assert.deepEqual(parseRequestTarget(t, 'GET'), { kind: 'origin', path: t });
    }), { numRuns: 1000 });
  });
});
