import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decidePurgeAuth, parsePurgeRequest } from '../../src/cache/purge.ts';

test('PURGE <path> uses the Host; PURGE <absolute URL> its authority; byte-exact path', () => {
  assert.deepEqual(parsePurgeRequest('PURGE', '/a%2Fb?q', [['host', 'h:8080']], false), { kind: 'purge', parts: { scheme: 'http', host: 'h:8080', path: '/a%2Fb?q' } });
  assert.deepEqual(parsePurgeRequest('PURGE', 'https://x.example/p', [], false), { kind: 'purge', parts: { scheme: 'https', host: 'x.example', path: '/p' } });
  assert.equal(parsePurgeRequest('PURGE', '/p', [], false).kind, 'invalid');
});

test('/cache/purge?url= needs POST or DELETE and a url', () => {
  assert.deepEqual(parsePurgeRequest('POST', '/cache/purge?url=%2Fx%3Fy', [['host', 'h']], false), { kind: 'purge', parts: { scheme: 'http', host: 'h', path: '/x?y' } });
  assert.deepEqual(parsePurgeRequest('GET', '/cache/purge?url=/x', [['host', 'h']], false), { kind: 'invalid', status: 405, reason: 'use POST or DELETE on /cache/purge' });
  assert.equal(parsePurgeRequest('POST', '/cache/purge', [['host', 'h']], false).kind, 'invalid');
  assert.equal(parsePurgeRequest('GET', '/cache/purgex', [], false).kind, 'none');
  assert.equal(parsePurgeRequest('GET', '/other', [], false).kind, 'none');
});

test('without a token only loopback may purge; with one, the bearer token must match', () => {
  assert.equal(decidePurgeAuth(null, [], '127.0.0.1').kind, 'allow');
  assert.equal(decidePurgeAuth(null, [], '::1').kind, 'allow');
  assert.deepEqual(decidePurgeAuth(null, [], '10.0.0.1').kind, 'deny');
  const token = 'a-long-enough-token';
  assert.equal(decidePurgeAuth(token, [['authorization', `Bearer ${token}`]], '10.0.0.1').kind, 'allow');
  assert.equal(decidePurgeAuth(token, [['authorization', 'Bearer wrong']], '127.0.0.1').kind, 'deny');
  assert.equal(decidePurgeAuth(token, [], '127.0.0.1').kind, 'deny');
});
