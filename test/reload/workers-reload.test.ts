import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRole, type RunningRole } from '../helpers/cli.ts';
import { request } from '../origin/client.ts';
import { eventually, startNamedOrigin, type NamedOrigin } from './named-origin.ts';

describe('hot reload under --workers 2', () => {
  let a: NamedOrigin;
  let b: NamedOrigin;
  let proxy: RunningRole;
  const file = join(mkdtempSync(join(tmpdir(), 'ferry-reload-w-')), 'ferry.json');
  const lines = (event: string) => proxy.logs.filter((l) => l.event === event);

  before(async () => {
    a = await startNamedOrigin('A');
    b = await startNamedOrigin('B');
    writeFileSync(file, JSON.stringify({ upstream: a.url }));
    proxy = await startRole(['proxy', '--listen', '127.0.0.1:0', '--config', file, '--workers', '2'], { listeningCount: 2 });
  });
  after(async () => {
    await proxy.stop();
    await a.close();
    await b.close();
  });

  it('SIGHUP to the primary: every worker loads the new file, and /stats shows each worker\'s generation', async () => {
    const pids = new Set(proxy.logs.filter((l) => l.event === 'listening').map((l) => l.pid));
    assert.equal(pids.size, 2);
    writeFileSync(file, JSON.stringify({ upstream: b.url }));
    proxy.proc.kill('SIGHUP');
    assert.ok(await eventually(() => lines('config-reloaded').length === 2), 'both workers reloaded');
    assert.deepEqual(new Set(lines('config-reloaded').map((l) => l.pid)), pids);
    // fresh connections are spread over both workers: every one now goes to B
    const answers = await Promise.all(Array.from({ length: 20 }, () => request(`${proxy.url}/x`)));
    assert.deepEqual([...new Set(answers.map((r) => r.body.toString()))], ['B']);
    const stats = JSON.parse((await request(`${proxy.url}/stats?format=json`)).body.toString()) as { configs: Array<{ generation: number; pid: number }> };
    assert.deepEqual(stats.configs.map((c) => c.generation), [2, 2]);
    assert.deepEqual(new Set(stats.configs.map((c) => c.pid)), pids);
  });

  it('a file no worker can load: each worker reports it and keeps its configuration', async () => {
    writeFileSync(file, '{"upstream": ');
    proxy.proc.kill('SIGHUP');
    assert.ok(await eventually(() => lines('config-reload-refused').length === 2), 'both workers refused');
    assert.equal(new Set(lines('config-reload-refused').map((l) => l.pid)).size, 2);
    assert.match(String(lines('config-reload-refused')[0]!.reason), /not valid JSON/);
    const answers = await Promise.all(Array.from({ length: 10 }, () => request(`${proxy.url}/x`)));
    assert.deepEqual([...new Set(answers.map((r) => r.body.toString()))], ['B']);
  });
});
