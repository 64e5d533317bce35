/**
 * `--upstream-h2`: ferry offers HTTP/2 by ALPN to an https:// upstream (undici allowH2), off by default. The origin is
 * a node:http2 secure server that also takes HTTP/1.1, so it reports which protocol each request came over.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http2 from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { startRole, type RunningRole } from '../helpers/cli.ts';
import { localhostCert } from '../helpers/certs.ts';
import { portOf } from './forward/helpers.ts';

describe('--upstream-h2', () => {
  let origin: http2.Http2SecureServer;
  const roles: RunningRole[] = [];

  before(async () => {
    const { key, cert } = localhostCert();
    origin = http2.createSecureServer({ key, cert, allowHTTP1: true }, (req, res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      req.on('data', (c: Buffer) => { hash.update(c); bytes += c.length; });
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.setHeader('set-cookie', ['a=1', 'b=2']);
        res.end(JSON.stringify({ httpVersion: req.httpVersion, url: req.url, bytes, sha256: hash.digest('hex'), via: req.headers.via }));
      });
    });
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  });
  after(async () => {
    for (const r of roles) await r.stop();
    origin?.close();
  });

  async function proxyWith(extra: string[]): Promise<RunningRole> {
    const r = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', `https://localhost:${portOf(origin)}`, ...extra],
      { env: { NODE_EXTRA_CA_CERTS: localhostCert().certFile } });
    roles.push(r);
    return r;
  }

  test('with the flag the upstream request goes over HTTP/2; bodies with and without Content-Length arrive intact', async () => {
    const p = await proxyWith(['--upstream-h2']);
    const res = await fetch(`${p.url}/a?b=1`);
    // the h2 response's header block reaches the client (undici hands it over as an object, not raw pairs)
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.deepEqual(res.headers.getSetCookie(), ['a=1', 'b=2']);
    const get = await res.json() as { httpVersion: string; url: string; via: string };
    assert.equal(get.httpVersion, '2.0');
    assert.equal(get.url, '/a?b=1');
    assert.equal(get.via, '1.1 ferry');
    const body = randomBytes(1024 * 1024);
    const sized = await (await fetch(`${p.url}/up`, { method: 'POST', body })).json() as { bytes: number; sha256: string };
    assert.equal(sized.bytes, body.length);
    assert.equal(sized.sha256, createHash('sha256').update(body).digest('hex'));
    // a streamed body (chunked from the client): no Transfer-Encoding may reach an h2 upstream
    const streamed = await (await fetch(`${p.url}/up`, { method: 'POST', body: new Blob([body]).stream(), duplex: 'half' } as RequestInit)).json() as { bytes: number; sha256: string };
    assert.equal(streamed.bytes, body.length);
    assert.equal(streamed.sha256, createHash('sha256').update(body).digest('hex'));
  });

  test('without it (the default) the upstream request stays HTTP/1.1', async () => {
    const p = await proxyWith([]);
    const get = await (await fetch(`${p.url}/a`)).json() as { httpVersion: string };
    assert.equal(get.httpVersion, '1.1');
  });
});
