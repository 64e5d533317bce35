import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { startRole } from '../helpers/cli.ts';
import { request, waitForLines } from '../origin/client.ts';

describe('graceful shutdown (ferry origin)', () => {
  it('on SIGTERM: stops accepting, finishes the in-flight request, exits 0', async () => {
    const o = await startRole(['origin', '--listen', '127.0.0.1:0']);
    try {
      // An upload that is still streaming when the signal arrives.
      const req = http.request(`${o.url}/echo`, { method: 'POST', agent: false, headers: { 'content-type': 'text/plain' } });
      req.write('before-signal;');
      const [res] = await once(req, 'response') as [http.IncomingMessage];
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => { body += c; });
      const exited = once(o.proc, 'exit');
      o.proc.kill('SIGTERM');
      await waitForLines(() => o.logs.filter((l) => l.event === 'shutdown'));
      await assert.rejects(request(`${o.url}/status/200`), /ECONNREFUSED|ECONNRESET|socket hang up/);
      req.end('after-signal');
      await once(res, 'end');
      assert.equal(body, 'before-signal;after-signal');
      const [code] = await exited as [number | null];
      assert.equal(code, 0);
      assert.ok(o.logs.some((l) => l.event === 'shutdown' && l.msg === 'stopped'));
    } finally {
      await o.stop();
    }
  });

  it('cuts what is still open when the grace period ends', async () => {
    const o = await startRole(['origin', '--listen', '127.0.0.1:0', '--shutdown-grace', '200ms']);
    try {
      const pending = request(`${o.url}/delay/60000`);
      await new Promise((r) => setTimeout(r, 100)); // let the request reach the server
      const exited = once(o.proc, 'exit');
      o.proc.kill('SIGINT');
      await assert.rejects(pending);
      const [code] = await exited as [number | null];
      assert.equal(code, 0);
    } finally {
      await o.stop();
    }
  });
});
