import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { runCli, startRole } from '../helpers/cli.ts';

describe('ferry proxy (CLI)', () => {
  let origin: http.Server;
  let up = '';
  before(async () => {
    origin = http.createServer((req, res) => { req.resume(); res.writeHead(200, { 'content-length': 2 }); res.end('ok'); });
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    up = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
  });
  after(async () => { origin.closeAllConnections(); await new Promise<void>((r) => origin.close(() => r())); });

  it('--help lists every flag with its default', async () => {
    const r = await runCli(['proxy', '--help']);
    assert.equal(r.code, 0);
    for (const flag of ['--upstream', '--upstream-timeout', '--max-body', '--headers-timeout', '--idle-timeout', '--max-connections', '--workers', '--forwarded']) {
      assert.ok(r.stdout.includes(flag), flag);
    }
    assert.match(r.stdout, /--upstream-timeout DURATION\s+.*\(default: 30s\)/);
  });

  it('bad values exit 2 with a clear message', async () => {
    const r = await runCli(['proxy', '--upstream', 'ftp://x']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /ftp/);
    const r2 = await runCli(['proxy', '--upstream', up, '--max-body', 'lots']);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /--max-body/);
  });

  it('proxies, writes one JSON access line per request on stdout, and stops gracefully on SIGTERM', async () => {
    const p = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', up]);
    try {
      const res = await fetch(`${p.url}/hello?x=1`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'ok');
      await new Promise((r) => setTimeout(r, 100));
      const access = p.logs.filter((l) => l.event === 'access');
      assert.equal(access.length, 1);
      assert.equal(access[0]!.path, '/hello?x=1');
      assert.equal(access[0]!.requestId, res.headers.get('x-request-id'));
    } finally {
      assert.equal(await p.stop(), 0);
    }
  });

  it('--workers 2 runs two processes sharing the port', async () => {
    const p = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', up, '--workers', '2'], { listeningCount: 2 });
    try {
      const listening = p.logs.filter((l) => l.event === 'listening');
      assert.equal(new Set(listening.map((l) => l.pid)).size, 2);
      assert.equal(new Set(listening.map((l) => l.port)).size, 1, 'one shared port');
      const statuses = await Promise.all(Array.from({ length: 40 }, async () => (await fetch(p.url)).status));
      assert.ok(statuses.every((s) => s === 200));
    } finally {
      assert.equal(await p.stop(), 0);
    }
  });
});
