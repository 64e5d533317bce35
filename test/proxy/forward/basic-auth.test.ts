import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  createCredentialChecker, decideProxyAuth, formatBasicCredentials, parseBasicCredentials, parseCredentialsFile, parseUserPass,
  PROXY_AUTHENTICATE,
} from '../../../src/proxy/forward/basic-auth.ts';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

test('parseBasicCredentials', () => {
  assert.deepEqual(parseBasicCredentials(undefined), { kind: 'missing' });
  assert.deepEqual(parseBasicCredentials(`Basic ${b64('alice:s3cret')}`), { kind: 'credentials', user: 'alice', pass: 's3cret' });
  assert.deepEqual(parseBasicCredentials(`bAsIc   ${b64('a:b:c')}  `), { kind: 'credentials', user: 'a', pass: 'b:c' });
  assert.deepEqual(parseBasicCredentials(`Basic ${b64('ünï:cødé')}`), { kind: 'credentials', user: 'ünï', pass: 'cødé' });
  assert.deepEqual(parseBasicCredentials(`Basic ${b64(':')}`), { kind: 'credentials', user: '', pass: '' });
  for (const bad of ['', 'Basic', `Bearer ${b64('a:b')}`, `Basic ${b64('nocolon')}`, 'Basic !!!', `Basic ${b64('a:b')} extra`]) {
    assert.equal(parseBasicCredentials(bad).kind, 'invalid', bad);
  }
});

test('decideProxyAuth: allow, challenge on missing/wrong/malformed', () => {
  const checker = createCredentialChecker([{ user: 'alice', pass: 'pw1' }, { user: 'bob', pass: 'p:w:2' }]);
  assert.deepEqual(decideProxyAuth(formatBasicCredentials('alice', 'pw1'), checker), { kind: 'allow', user: 'alice' });
  assert.deepEqual(decideProxyAuth(formatBasicCredentials('bob', 'p:w:2'), checker), { kind: 'allow', user: 'bob' });
  for (const v of [undefined, formatBasicCredentials('alice', 'pw2'), formatBasicCredentials('alice', 'pw1 '), formatBasicCredentials('bob', 'pw1'),
    formatBasicCredentials('alic', 'epw1'), 'Basic ???', formatBasicCredentials('', '')]) {
    assert.equal(decideProxyAuth(v, checker).kind, 'challenge', String(v));
  }
  assert.deepEqual(decideProxyAuth(undefined, createCredentialChecker([])), { kind: 'allow' });
  assert.equal(PROXY_AUTHENTICATE, 'Basic realm="ferry"');
});

test('property: a pair is accepted iff it is configured', () => {
  const str = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !s.includes(':'));
  fc.assert(fc.property(str, fc.string({ maxLength: 12 }), str, fc.string({ maxLength: 12 }), (u1, p1, u2, p2) => {
    const checker = createCredentialChecker([{ user: u1, pass: p1 }]);
    assert.equal(decideProxyAuth(formatBasicCredentials(u2, p2), checker).kind, u1 === u2 && p1 === p2 ? 'allow' : 'challenge');
  }));
});

test('credentials files and USER:PASS', () => {
  assert.deepEqual(parseCredentialsFile('# users\nalice:pw\n\n  \nbob:a:b\r\n'), {
    kind: 'ok', credentials: [{ user: 'alice', pass: 'pw' }, { user: 'bob', pass: 'a:b' }],
  });
  assert.deepEqual(parseCredentialsFile('alice:pw\nnocolon\n'), { kind: 'invalid', line: 2, reason: 'expected USER:PASS' });
  assert.equal(parseUserPass(':pw'), undefined);
  assert.equal(parseUserPass('user:'), undefined);
  assert.equal(parseUserPass('user'), undefined);
});
