import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { bypassesProxy, parseNoProxy, proxyFor, readEnvProxy } from '../../../src/proxy/env-proxy.ts';
import { UsageError } from '../../../src/errors.ts';
import { startRole } from '../../helpers/cli.ts';
import { startProxy } from '../../fixtures/proxy.ts';
import { startRecordingUpstream } from '../../fixtures/recording-upstream.ts';

describe('--upstream-proxy env: HTTP_PROXY / HTTPS_PROXY / NO_PROXY', () => {
  it('reads the variables as undici and curl do: lower case first, HTTPS_PROXY falling back to HTTP_PROXY', () => {
    const e = readEnvProxy({ HTTP_PROXY: 'http://upper:1', http_proxy: 'http://lower:2', NO_PROXY: 'a.test' });
    assert.equal(e.http!.href, 'http://lower:2/');
    assert.equal(e.https!.href, 'http://lower:2/', 'no HTTPS_PROXY: the http proxy');
    assert.equal(readEnvProxy({ HTTPS_PROXY: 'https://s:3' }).http, null);
    assert.equal(proxyFor(readEnvProxy({ HTTPS_PROXY: 'https://s:3' }), 'https:', 'x.test')!.host, 's:3');
    assert.equal(proxyFor(readEnvProxy({ HTTPS_PROXY: 'https://s:3' }), 'http:', 'x.test'), null, 'http targets go direct without HTTP_PROXY');
    assert.throws(() => readEnvProxy({ HTTP_PROXY: 'ftp://x' }), UsageError);
  });

  it('NO_PROXY: *, exact names, .domain and domain (apex and below), *.domain (below only), :port, IPv6', () => {
    const e = parseNoProxy('exact.test, .dot.test,plain.test *.wild.test other.test:8080 [::1]:443');
    const by = (h: string, p = 80) => bypassesProxy(e, h, p);
    assert.deepEqual([by('exact.test'), by('sub.exact.test'), by('notexact.test')], [true, true, false]);
    assert.deepEqual([by('dot.test'), by('a.dot.test'), by('plain.test'), by('a.plain.test')], [true, true, true, true]);
    assert.deepEqual([by('wild.test'), by('a.wild.test')], [false, true]);
    assert.deepEqual([by('other.test', 8080), by('other.test', 80)], [true, false]);
    assert.deepEqual([by('[::1]', 443), by('::1', 80)], [true, false]);
    assert.equal(bypassesProxy(parseNoProxy('*'), 'any.where', 1), true);
    assert.equal(bypassesProxy(parseNoProxy('EXACT.test.'), 'exact.TEST.', 1), true);
  });

  it('requests go through HTTP_PROXY in absolute-form, or directly when NO_PROXY names the target (library and CLI)', async () => {
    const [origin, fakeProxy] = await Promise.all([startRecordingUpstream(), startRecordingUpstream()]);
    after(async () => { await origin.close(); await fakeProxy.close(); });
    const via = await startProxy({ upstream: origin.url, upstreamProxy: readEnvProxy({ HTTP_PROXY: fakeProxy.url }) });
    const direct = await startProxy({ upstream: origin.url, upstreamProxy: readEnvProxy({ HTTP_PROXY: fakeProxy.url, NO_PROXY: `localhost,127.0.0.1:${origin.port}` }) });
    try {
      assert.equal((await fetch(`${via.url}/through`)).status, 200);
      assert.equal(fakeProxy.requests.at(-1)!.url, `${origin.url}/through`);
      assert.equal((await fetch(`${direct.url}/around`)).status, 200);
      assert.equal(origin.requests.at(-1)!.url, '/around');
      assert.ok(!fakeProxy.requests.some((r) => r.url.endsWith('/around')));
    } finally {
      await via.close();
      await direct.close();
    }
    const cli = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', origin.url, '--upstream-proxy', 'env'], { env: { HTTP_PROXY: fakeProxy.url, http_proxy: fakeProxy.url, NO_PROXY: '', no_proxy: '' } });
    try {
      assert.equal((await fetch(`${cli.url}/cli`)).status, 200);
      assert.equal(fakeProxy.requests.at(-1)!.url, `${origin.url}/cli`);
    } finally {
      await cli.stop();
    }
  });
});
