import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { HeaderList } from '../../src/http/headers.ts';
import { HOP_BY_HOP_HEADERS, hasCloseOption, parseConnectionTokens, stripHopByHop } from '../../src/http/hop-by-hop.ts';

describe('hop-by-hop (RFC 9110 §7.6.1)', () => {
  it('parses Connection options across lines, case-insensitively, ignoring empty list elements', () => {
    assert.deepEqual(parseConnectionTokens([['connection', 'Keep-Alive, X-Foo ,,'], ['x', 'y'], ['connection', 'close']]), ['keep-alive', 'x-foo', 'close']);
    assert.equal(hasCloseOption([['connection', 'Close']]), true);
    assert.equal(hasCloseOption([['connection', 'keep-alive']]), false);
  });

  it('removes every listed hop-by-hop field and every field named by Connection, keeping order and duplicates', () => {
    const h: HeaderList = [['a', '1'], ['connection', 'x-b, keep-alive'], ['x-b', '2'], ['keep-alive', '5'], ['te', 'trailers'], ['set-cookie', 'a'],
      ['transfer-encoding', 'chunked'], ['upgrade', 'ws'], ['proxy-authorization', 'x'], ['proxy-authenticate', 'x'], ['trailer', 't'], ['proxy-connection', 'keep-alive'], ['set-cookie', 'b']];
    assert.deepEqual(stripHopByHop(h), [['a', '1'], ['set-cookie', 'a'], ['set-cookie', 'b']]);
  });

  it('returns the same list when there is nothing to remove (no copy on the hot path)', () => {
    const h: HeaderList = [['host', 'a'], ['accept', '*/*']];
    assert.equal(stripHopByHop(h), h);
  });

  it('keeps Upgrade when relaying an upgrade', () => {
    assert.deepEqual(stripHopByHop([['connection', 'Upgrade'], ['upgrade', 'websocket'], ['a', '1']], { keepUpgrade: true }),
      [['upgrade', 'websocket'], ['a', '1'], ['connection', 'upgrade']]);
  });

  it('property: the result has no hop-by-hop or Connection-named field, and keeps all others in order', () => {
    const name = fc.oneof(fc.constantFrom(...HOP_BY_HOP_HEADERS, 'x-a', 'x-b', 'host', 'accept'), fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/));
    fc.assert(fc.property(fc.array(fc.tuple(name, fc.stringMatching(/^[a-zA-Z0-9 ,-]{0,12}$/)), { maxLength: 20 }), (list) => {
      const headers = list as HeaderList;
      const named = new Set(parseConnectionTokens(headers));
      const out = stripHopByHop(headers);
      for (const [n] of out) {
        assert.ok(!HOP_BY_HOP_HEADERS.has(n));
        assert.ok(!named.has(n));
      }
      assert.deepEqual(out, headers.filter(([n]) => !HOP_BY_HOP_HEADERS.has(n) && !named.has(n)));
    }), { numRuns: 500 });
  });

  it('property: plain keep-alive / close options (the fast path) give what the general rule gives', () => {
    const name = fc.constantFrom('connection', 'proxy-connection', 'keep-alive', 'close', 'x-a', 'host', 'te');
    const value = fc.constantFrom('keep-alive', 'close', 'Keep-Alive', 'CLOSE', ' close ', 'keep-alive, x-a', 'x-a', 'close, host', '');
    fc.assert(fc.property(fc.array(fc.tuple(name, value), { maxLength: 12 }), (list) => {
      const headers = list as HeaderList;
      const named = new Set(parseConnectionTokens(headers));
      assert.deepEqual(stripHopByHop(headers), headers.filter(([n]) => !HOP_BY_HOP_HEADERS.has(n) && !named.has(n)));
    }), { numRuns: 1000 });
  });
});
