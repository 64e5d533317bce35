/**
 * Forward proxy over HTTP/2 for ordinary requests (issue 14 follow-up): a client using ferry as its proxy over h2
 * sends `:scheme http` and `:authority` of the target; in forward mode ferry routes it like an HTTP/1.1
 * absolute-form request (proxy auth, deny list), while a request whose authority is ferry itself stays local. Over
 * h2c and over the TLS listener (this machine's curl 7.88 has no --proxy-http2: node:http2 is the client).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { h2ForwardTarget } from '../../src/proxy/forward/h2-forward-target.ts';
import { resolveForwardOptions } from '../../src/proxy/forward/forward-options.ts';
import { listenTls, startProxy, type RunningProxy, type TlsListener } from '../fixtures/proxy.ts';
import { h2connect, h2request } from '../helpers/h2-client.ts';
import { localhostCert } from '../helpers/certs.ts';

const cert = localhostCert();
const seen: Array<{ url: string | undefined; host: string | undefined; auth: string | undefined }> = [];
let origin: http.Server;
let originPort: number;

before(async () => {
  origin = http.createServer((req, res) => {
    seen.push({ url: req.url, host: req.headers.host, auth: req.headers['proxy-authorization'] });
    res.writeHead(200, { 'content-type': 'text/plain' }).end('from origin');
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  originPort = (origin.address() as AddressInfo).port;
});
after(async () => { await new Promise<void>((resolve) => origin.close(() => resolve())); });

describe('h2ForwardTarget (pure)', () => {
  const self = { sni: 'proxy.example', names: ['127.0.0.1', '*.proxy.example'], port: 8443 };
  it('builds absolute-form for another authority and keeps origin-form for ferry\'s own names', () => {
    assert.equal(h2ForwardTarget('http', 'example.com', '/a?b', self), 'http://example.com/a?b');
    assert.equal(h2ForwardTarget('https', 'example.com:8443', '/', self), 'https://example.com:8443/');
    assert.equal(h2ForwardTarget('http', '127.0.0.1:9000', '/', self), 'http://127.0.0.1:9000/', 'own address, other port');
    assert.equal(h2ForwardTarget('https', 'proxy.example', '/stats', self), null, 'the SNI name, any port');
    assert.equal(h2ForwardTarget('https', '127.0.0.1:8443', '/stats', self), null, 'own address and port');
    assert.equal(h2ForwardTarget('https', 'a.proxy.example:8443', '/', self), null, 'a certificate wildcard and own port');
    assert.equal(h2ForwardTarget('ftp', 'example.com', '/', self), 'ftp://example.com/', 'left to the forward route (400)');
  });
});

describe('h2c in forward mode', () => {
  let proxy: RunningProxy;
  before(async () => {
    const forward = resolveForwardOptions({ forward: true, listenHost: '127.0.0.1', proxyAuth: 'u:p' })!;
    proxy = await startProxy({ forward, h2c: true });
  });
  after(async () => { await proxy.close(); });

  it('forwards a GET for another authority to it (path and query intact, Host from :authority), after proxy auth', async () => {
    const s = await h2connect(proxy.url);
    try {
      seen.length = 0;
      const denied = await h2request(s, { ':method': 'GET', ':scheme': 'http', ':authority': `127.0.0.1:${originPort}`, ':path': '/x?y=1' });
      assert.equal(denied.status, 407);
      assert.equal(seen.length, 0);
      const basic = `Basic ${Buffer.from('u:p').toString('base64')}`;
      const r = await h2request(s, { ':method': 'GET', ':scheme': 'http', ':authority': `127.0.0.1:${originPort}`, ':path': '/x?y=1', 'proxy-authorization': basic });
      assert.equal(r.status, 200);
      assert.equal(r.body.toString(), 'from origin');
      assert.deepEqual(seen, [{ url: '/x?y=1', host: `127.0.0.1:${originPort}`, auth: undefined }]);
    } finally { s.close(); }
  });

  it('a request whose :authority is ferry itself stays local: /stats answered by ferry, nothing forwarded', async () => {
    const s = await h2connect(proxy.url);
    try {
      seen.length = 0;
      const r = await h2request(s, { ':method': 'GET', ':scheme': 'http', ':authority': `127.0.0.1:${proxy.port}`, ':path': '/stats' });
      assert.equal(r.status, 200);
      assert.match(String(r.headers['content-type']), /json/);
      assert.equal(seen.length, 0);
    } finally { s.close(); }
  });
});

describe('TLS listener in forward mode, with a deny list', () => {
  let proxy: RunningProxy;
  let tls: TlsListener;
  let url: string;
  before(async () => {
    const forward = resolveForwardOptions({ forward: true, listenHost: '127.0.0.1', deny: ['10.0.0.0/8'] })!;
    proxy = await startProxy({ forward });
    tls = await listenTls(proxy.proxyServer.proxy, cert);
    url = tls.url;
  });
  after(async () => {
    await tls.close();
    await proxy.close();
  });

  it('forwards http:// targets sent over h2 to ferry as an HTTPS proxy, refuses a denied one 403, and keeps its own name local', async () => {
    const s = await h2connect(url, cert.cert);
    try {
      seen.length = 0;
      const r = await h2request(s, { ':method': 'GET', ':scheme': 'http', ':authority': `127.0.0.1:${originPort}`, ':path': '/via-tls' });
      assert.equal(r.status, 200);
      assert.deepEqual(seen.map((x) => x.url), ['/via-tls']);
      const denied = await h2request(s, { ':method': 'GET', ':scheme': 'http', ':authority': '10.1.2.3', ':path': '/' });
      assert.equal(denied.status, 403);
      const own = await h2request(s, { ':method': 'GET', ':scheme': 'https', ':authority': 'localhost', ':path': '/stats' });
      assert.equal(own.status, 200);
      assert.equal(seen.length, 1);
    } finally { s.close(); }
  });
});
