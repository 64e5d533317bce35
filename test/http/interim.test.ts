/** Which 1xx responses are relayed, and their HTTP/1.1 form (src/http/interim.ts). Pure. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatInterimHead, interimToRelay, MAX_RELAYED_INTERIM } from '../../src/http/interim.ts';

test('relayed: 102, 103 and other 1xx to HTTP/1.1 clients (RFC 9110 §15.2); not 100/101, not to HTTP/1.0', () => {
  assert.deepEqual(interimToRelay(103, [['link', '</a.css>; rel=preload']], '1.1'), { status: 103, headers: [['link', '</a.css>; rel=preload']] });
  assert.deepEqual(interimToRelay(102, [], '1.1'), { status: 102, headers: [] });
  assert.notEqual(interimToRelay(104, [], '1.1'), null);
  assert.equal(interimToRelay(100, [], '1.1'), null);
  assert.equal(interimToRelay(101, [['upgrade', 'websocket']], '1.1'), null);
  assert.equal(interimToRelay(200, [], '1.1'), null);
  assert.equal(interimToRelay(103, [['link', '</a>']], '1.0'), null);
  // bounded per request: an origin may send any number
  assert.notEqual(interimToRelay(102, [], '1.1', MAX_RELAYED_INTERIM - 1), null);
  assert.equal(interimToRelay(102, [], '1.1', MAX_RELAYED_INTERIM), null);
});

test('hop-by-hop fields and the ones Connection names are removed (RFC 9110 §7.6.1)', () => {
  const r = interimToRelay(103, [['link', '</a>'], ['connection', 'x-hop'], ['x-hop', '1'], ['keep-alive', 'timeout=5'], ['x-my-header', 'test']], '1.1');
  assert.deepEqual(r?.headers, [['link', '</a>'], ['x-my-header', 'test']]);
});

test('wire form: status line with the standard reason, fields, empty line; a line that could break framing is left out', () => {
  assert.equal(formatInterimHead({ status: 103, headers: [['link', '</a>'], ['x-a', '1']] }), 'HTTP/1.1 103 Early Hints\r\nlink: </a>\r\nx-a: 1\r\n\r\n');
  assert.equal(formatInterimHead({ status: 102, headers: [] }), 'HTTP/1.1 102 Processing\r\n\r\n');
  assert.equal(formatInterimHead({ status: 103, headers: [['x-bad', 'a\r\nb'], ['bad name', 'v'], ['ok', 'v']] }), 'HTTP/1.1 103 Early Hints\r\nok: v\r\n\r\n');
});
