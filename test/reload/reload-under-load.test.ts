import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, startRole, type RunningRole } from '../helpers/cli.ts';
import { request } from '../origin/client.ts';
import { eventually, startNamedOrigin, type NamedOrigin } from './named-origin.ts';

/** Write the config file as config managers do: a new file renamed over the old one. */
function writeConfig(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

const reloads = (p: RunningRole, event: string) => p.logs.filter((l) => l.event === event);

describe('hot reload under load (--watch-config, SIGHUP)', () => {
  let a: NamedOrigin;
  let b: NamedOrigin;
  let proxy: RunningRole;
  let admin: string;
  const file = join(mkdtempSync(join(tmpdir(), 'ferry-reload-')), 'ferry.yaml');

  before(async () => {
    a = await startNamedOrigin('A');
    b = await startNamedOrigin('B');
    writeConfig(file, `upstream: ${a.url}\nmax-body: 1KiB\n`);
    proxy = await startRole(['proxy', '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--config', file, '--watch-config'], {
      listeningCount: 2,
      // the broken file and the restart-only key are refused/reported on purpose (warn level)
    });
    admin = String(proxy.logs.find((l) => l.event === 'listening' && l.admin === true)!.url);
  });
  after(async () => {
    await proxy.stop();
    await a.close();
    await b.close();
  });

  it('200 requests in flight while the file changes (upstream and a limit): none fails; new requests follow the new file', async () => {
    assert.equal((await request(`${proxy.url}/echo`, { method: 'POST', body: 'x'.repeat(100) })).body.toString(), 'A:100');
    const inFlight = Array.from({ length: 200 }, (_, i) => request(`${proxy.url}/hold/${i}`));
    assert.ok(await eventually(() => a.held() === 200), `all 200 requests reach A before the reload (held: ${a.held()})`);
    writeConfig(file, `upstream: ${b.url}\nmax-body: 10\n`);
    assert.ok(await eventually(() => reloads(proxy, 'config-reloaded').length === 1), 'the change is picked up by the watcher');
    // new requests: the new upstream and the new limit, while the 200 are still held on A
    const next = await request(`${proxy.url}/hello`);
    assert.equal(next.body.toString(), 'B');
    assert.equal((await request(`${proxy.url}/echo`, { method: 'POST', body: 'x'.repeat(100) })).status, 413);
    assert.equal((await request(`${proxy.url}/echo`, { method: 'POST', body: 'x'.repeat(5) })).body.toString(), 'B:5');
    assert.equal(a.held(), 200, 'the old requests are still in flight on A');
    a.release();
    const done = await Promise.all(inFlight);
    assert.deepEqual([...new Set(done.map((r) => `${r.status} ${r.body.toString()}`))], ['200 A'], 'every request in flight finished on the configuration it started with');
    // the old generation is drained: its pool to A is closed (A, removed from the config, keeps no connection from ferry)
    assert.ok(await eventually(async () => (await a.connections()) === 0), 'pooled connections to the removed upstream are closed');
    const stats = JSON.parse((await request(`${admin}/stats`, { headers: { accept: 'application/json' } })).body.toString()) as { config: { generation: number; file: string; loadedAt: string } };
    assert.equal(stats.config.generation, 2);
    assert.equal(stats.config.file, file);
    assert.ok(Date.parse(stats.config.loadedAt) > 0);
  });

  it('a broken file changes nothing: one log line names the problem, the running configuration stays', async () => {
    writeConfig(file, `upstream: ${b.url}\nmax-body: ten bytes\n`);
    assert.ok(await eventually(() => reloads(proxy, 'config-reload-refused').length === 1));
    const refused = reloads(proxy, 'config-reload-refused')[0]!;
    assert.match(String(refused.reason), /max-body/);
    assert.match(String(refused.reason), /ferry\.yaml/);
    assert.equal(refused.generation, 2);
    writeConfig(file, 'upstream: [\n');
    assert.ok(await eventually(() => reloads(proxy, 'config-reload-refused').length === 2));
    assert.match(String(reloads(proxy, 'config-reload-refused')[1]!.reason), /not valid YAML/);
    assert.equal((await request(`${proxy.url}/x`)).body.toString(), 'B');
    assert.equal((await request(`${proxy.url}/echo`, { method: 'POST', body: 'x'.repeat(100) })).status, 413);
    const stats = JSON.parse((await request(`${admin}/stats?format=json`)).body.toString()) as { config: { generation: number } };
    assert.equal(stats.config.generation, 2);
  });

  it('SIGHUP reloads too, and a key that needs a restart is named in the log line, not ignored', async () => {
    writeFileSync(file, `upstream: ${a.url}\nworkers: 2\nmax-header-size: 32KiB\n`); // written in place, then signalled
    assert.ok(await eventually(() => reloads(proxy, 'config-reloaded').length === 2), 'reloaded (by the watcher or the signal)');
    proxy.proc.kill('SIGHUP');
    assert.ok(await eventually(() => reloads(proxy, 'config-reloaded').some((l) => l.trigger === 'SIGHUP')));
    const line = reloads(proxy, 'config-reloaded').at(-1)!;
    assert.deepEqual(line.restartNeeded, ['workers', 'max-header-size']);
    assert.match(String(line.msg), /--workers, --max-header-size/);
    assert.equal((await request(`${proxy.url}/x`)).body.toString(), 'A', 'the new upstream serves, in this one process');
    const stats = JSON.parse((await request(`${admin}/stats?format=json`)).body.toString()) as { config: { generation: number } };
    assert.ok(stats.config.generation >= 3);
  });
});

describe('--watch-config without a file', () => {
  it('is a usage error (exit 2) naming what is missing', async () => {
    const r = await runCli(['proxy', '--listen', '127.0.0.1:0', '--watch-config']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--watch-config needs --config FILE/);
  });
});
