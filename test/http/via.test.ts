import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addVia, formatViaEntry } from '../../src/http/via.ts';

describe('Via (RFC 9110 §7.6.3)', () => {
  it('formats the received protocol version and pseudonym', () => {
    assert.equal(formatViaEntry('1.1', 'ferry'), '1.1 ferry');
    assert.equal(formatViaEntry('1.0', 'ferry'), '1.0 ferry');
  });
  it('writes HTTP/2 as `2` (Node reports the version as 2.0)', () => {
    assert.equal(formatViaEntry('2.0', 'ferry'), '2 ferry');
  });
  it('appends to the end of an existing chain, joining lines in order', () => {
    assert.deepEqual(addVia([['via', '1.0 a'], ['x', '1'], ['via', '1.1 b']], '1.1', 'ferry'), [['x', '1'], ['via', '1.0 a, 1.1 b, 1.1 ferry']]);
    assert.deepEqual(addVia([], '1.0', 'ferry'), [['via', '1.0 ferry']]);
  });
});
