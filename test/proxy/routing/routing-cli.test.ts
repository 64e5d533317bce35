import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli, startRole } from '../../helpers/cli.ts';
import { startRecordingUpstream } from '../../fixtures/recording-upstream.ts';

const dir = mkdtempSync(join(tmpdir(), 'ferry-routing-'));

describe('ferry proxy --config with routes and pools', () => {
  it('routes by the file\'s sections beside its flags; --upstream is pool "default"', async () => {
    const [api, rest] = await Promise.all([startRecordingUpstream(), startRecordingUpstream()]);
    after(async () => { await api.close(); await rest.close(); });
    const file = join(dir, 'ok.yaml');
    writeFileSync(file, [
      `upstream: ${rest.url}`,
      'routes:',
      '  - { path: /api, strip-prefix: true, pool: api }',
      'pools:',
      `  api: { targets: [${api.url}], retry: { tries: 2 } }`,
      '',
    ].join('\n'));
    const p = await startRole(['proxy', '--listen', '127.0.0.1:0', '--config', file]);
    try {
      assert.equal((await fetch(`${p.url}/api/a`)).status, 200);
      assert.equal(api.requests.at(-1)!.url, '/a');
      assert.equal((await fetch(`${p.url}/b`)).status, 200);
      assert.equal(rest.requests.at(-1)!.url, '/b');
    } finally {
      await p.stop();
    }
  });

  it('under --workers 2, /stats adds the workers\' per-route and per-target figures up', async () => {
    const api = await startRecordingUpstream();
    after(() => api.close());
    const file = join(dir, 'workers.yaml');
    writeFileSync(file, `routes:\n  - { name: api, path: /api, pool: api }\npools:\n  api: { targets: [${api.url}] }\n`);
    const p = await startRole(['proxy', '--listen', '127.0.0.1:0', '--config', file, '--workers', '2'], { listeningCount: 2 });
    try {
      const N = 20;
      // each on its own connection, so both workers take some
      for (let i = 0; i < N; i++) assert.equal((await fetch(`${p.url}/api/${i}`, { headers: { connection: 'close' } }).then(async (r) => { await r.text(); return r.status; })), 200);
      for (let i = 0; i < 3; i++) {
        const s = await (await fetch(`${p.url}/stats`, { headers: { connection: 'close' } })).json() as { workers: number; routes: Record<string, { requests: number }>; pools: Record<string, { targets: Array<{ requests: number }> }> };
        assert.equal(s.workers, 2);
        assert.equal(s.routes.api!.requests, N);
        assert.equal(s.pools.api!.targets[0]!.requests, N);
      }
    } finally {
      await p.stop();
    }
  });

  it('a bad pool option: exit 2 with one message naming the file, the key and the problem', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'pools:\n  api:\n    targets: [http://127.0.0.1:1]\n    balance: fastest\n');
    const r = await runCli(['proxy', '--listen', '127.0.0.1:0', '--config', file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr + r.stdout, new RegExp(`config file ${file.replace(/[/.]/g, '\\$&')}: pools\\.api\\.balance: "fastest" is not round-robin, least-requests or consistent-hash`));
  });
});
