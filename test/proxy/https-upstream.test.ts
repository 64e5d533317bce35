/** An https:// upstream: plain requests (undici) and Expect: 100-continue (ferry's node:https handshake path). */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { after, before, describe, test } from 'node:test';
import { startRole, type RunningRole } from '../helpers/cli.ts';
import { localhostCert } from '../helpers/certs.ts';
import { portOf } from './forward/helpers.ts';

function post(port: number, path: string, body: Buffer, headers: http.OutgoingHttpHeaders): Promise<{ status: number; body: Buffer; continued: boolean }> {
  return new Promise((resolve, reject) => {
    let continued = false;
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', headers: { ...headers, 'content-length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), continued }));
    });
    req.on('error', reject);
    if (headers.expect) req.on('continue', () => { continued = true; req.end(body); });
    else req.end(body);
  });
}

describe('reverse proxy to an https:// upstream', () => {
  let origin: https.Server;
  let proxy: RunningRole;
  let caFile: string;
  const seen: string[] = [];

  before(async () => {
    const { key, cert, certFile } = localhostCert();
    caFile = certFile;
    origin = https.createServer({ key, cert }, (req, res) => {
      seen.push(`${req.method} ${req.url} ${req.socket.constructor.name}`);
      const hash = createHash('sha256');
      req.on('data', (c: Buffer) => hash.update(c));
      req.on('end', () => res.end(JSON.stringify({ url: req.url, sha256: hash.digest('hex'), via: req.headers.via })));
    });
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    proxy = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', `https://localhost:${portOf(origin)}`],
      { env: { NODE_EXTRA_CA_CERTS: caFile } });
  });
  after(async () => {
    await proxy?.stop();
    origin?.close();
  });

  test('a GET reaches the origin over TLS', async () => {
    const res = await fetch(`http://127.0.0.1:${proxy.port}/plain?q=1`);
    assert.equal(res.status, 200);
    const body = await res.json() as { url: string; via: string };
    assert.equal(body.url, '/plain?q=1');
    assert.equal(body.via, '1.1 ferry');
  });

  test('Expect: 100-continue is carried over TLS too (never plaintext to the https port)', async () => {
    const payload = Buffer.alloc(256 * 1024, 7);
    const r = await post(proxy.port, '/upload', payload, { expect: '100-continue' });
    assert.equal(r.status, 200, r.body.toString());
    assert.equal(r.continued, true);
    const body = JSON.parse(r.body.toString()) as { url: string; sha256: string };
    assert.equal(body.url, '/upload');
    assert.equal(body.sha256, createHash('sha256').update(payload).digest('hex'));
    assert.ok(seen.some((s) => s.startsWith('POST /upload')), seen.join('; '));
  });
});
