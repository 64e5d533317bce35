import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideOpenProxy, isLoopbackHost } from '../../../src/proxy/forward/open-proxy.ts';
import { resolveForwardOptions } from '../../../src/proxy/forward/forward-options.ts';
import { UsageError } from '../../../src/errors.ts';

test('isLoopbackHost', () => {
  for (const h of ['127.0.0.1', '127.9.9.9', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) assert.equal(isLoopbackHost(h), true, h);
  for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.1', 'example.com', '::ffff:10.0.0.1', '128.0.0.1']) assert.equal(isLoopbackHost(h), false, h);
});

test('decideOpenProxy', () => {
  assert.equal(decideOpenProxy({ listenHost: '0.0.0.0', forward: false, hasAuth: false, allowOpen: false }).kind, 'ok');
  assert.equal(decideOpenProxy({ listenHost: '127.0.0.1', forward: true, hasAuth: false, allowOpen: false }).kind, 'ok');
  assert.equal(decideOpenProxy({ listenHost: '0.0.0.0', forward: true, hasAuth: true, allowOpen: false }).kind, 'ok');
  assert.equal(decideOpenProxy({ listenHost: '0.0.0.0', forward: true, hasAuth: false, allowOpen: true }).kind, 'open-allowed');
  const r = decideOpenProxy({ listenHost: '0.0.0.0', forward: true, hasAuth: false, allowOpen: false });
  assert.equal(r.kind, 'refuse');
  assert.match(r.kind === 'refuse' ? r.reason : '', /--proxy-auth-file.*--allow-open/);
});

test('resolveForwardOptions', () => {
  const files: Record<string, string> = { '/users': 'alice:pw\nbob:x\n', '/bad': 'alice\n', '/empty': '# none\n' };
  const read = (p: string) => { const t = files[p]; if (t === undefined) throw new Error('ENOENT'); return t; };
  assert.equal(resolveForwardOptions({ forward: false, listenHost: '0.0.0.0' }, read), null);
  assert.deepEqual(resolveForwardOptions({ forward: true, listenHost: '127.0.0.1' }, read),
    { connectPorts: [443], credentials: [], deny: [], allowOpen: false });
  assert.deepEqual(resolveForwardOptions({ forward: true, listenHost: '0.0.0.0', proxyAuth: 'u:p', proxyAuthFile: '/users',
    connectPorts: ['443', '8443'], deny: ['10.0.0.0/8', '::1'] }, read),
  { connectPorts: [443, 8443], credentials: [{ user: 'u', pass: 'p' }, { user: 'alice', pass: 'pw' }, { user: 'bob', pass: 'x' }],
    deny: ['10.0.0.0/8', '::1/128'], allowOpen: false });
  const bad: Array<Parameters<typeof resolveForwardOptions>[0]> = [
    { forward: true, listenHost: '0.0.0.0' },
    { forward: true, listenHost: '127.0.0.1', proxyAuth: 'nopass' },
    { forward: true, listenHost: '127.0.0.1', proxyAuthFile: '/bad' },
    { forward: true, listenHost: '127.0.0.1', proxyAuthFile: '/empty' },
    { forward: true, listenHost: '127.0.0.1', proxyAuthFile: '/missing' },
    { forward: true, listenHost: '127.0.0.1', connectPorts: ['0'] },
    { forward: true, listenHost: '127.0.0.1', connectPorts: ['https'] },
    { forward: true, listenHost: '127.0.0.1', deny: ['10.0.0.0/40'] },
  ];
  for (const flags of bad) assert.throws(() => resolveForwardOptions(flags, read), UsageError, JSON.stringify(flags));
});
