import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveCommandFlags } from '../../src/cli/config.ts';
import { originCommand } from '../../src/cli/commands/origin.ts';
import { startRole } from '../helpers/cli.ts';
import { request, waitForLines } from '../origin/client.ts';

let dir: string;
let root: string;
before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ferry-config-'));
  root = path.join(dir, 'www');
  mkdirSync(root);
  writeFileSync(path.join(root, 'f.txt'), '0123456789');
});
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('flag layers: defaults < config file < FERRY_* env < command line (pure resolution)', () => {
  const spec = originCommand.spec;
  it('defaults apply when nothing is given', () => {
    const f = resolveCommandFlags(spec, [], {});
    assert.deepEqual(f.listen, { host: '127.0.0.1', port: 8081 });
    assert.equal(f.maxRanges, 100);
    assert.equal(f.idleTimeout, 60_000);
    assert.equal(f.root, undefined);
  });
  it('YAML and JSON files (kebab-case or camelCase keys) override defaults; env overrides the file; flags override env', () => {
    const yaml = write('c.yaml', 'listen: 127.0.0.1:9001\nmax-ranges: 3\nidle-timeout: 5s\nroot: /srv\n');
    const json = write('c.json', JSON.stringify({ listen: '127.0.0.1:9002', maxRanges: 4, headersTimeout: '2s' }));
    const y = resolveCommandFlags(spec, ['--config', yaml], {});
    assert.deepEqual([y.listen, y.maxRanges, y.idleTimeout, y.root], [{ host: '127.0.0.1', port: 9001 }, 3, 5000, '/srv']);
    const j = resolveCommandFlags(spec, ['--config', json], {});
    assert.deepEqual([j.listen, j.maxRanges, j.headersTimeout], [{ host: '127.0.0.1', port: 9002 }, 4, 2000]);
    const e = resolveCommandFlags(spec, ['--config', yaml], { FERRY_MAX_RANGES: '7', FERRY_LISTEN: '127.0.0.1:9003' });
    assert.deepEqual([e.listen, e.maxRanges, e.idleTimeout], [{ host: '127.0.0.1', port: 9003 }, 7, 5000]);
    const a = resolveCommandFlags(spec, ['--config', yaml, '--max-ranges=9'], { FERRY_MAX_RANGES: '7' });
    assert.equal(a.maxRanges, 9);
    // The config file itself may be named by the environment.
    const viaEnv = resolveCommandFlags(spec, [], { FERRY_CONFIG: json });
    assert.equal(viaEnv.maxRanges, 4);
  });
});

describe('flag layers, end to end through a running ferry origin', () => {
  // max-ranges decides whether a two-range request is served as 206 (≥ 2) or ignored with 200 (< 2).
  const twoRanges = { range: 'bytes=0-1,5-6' };

  it('a YAML config file sets root and max-ranges', async () => {
    const yaml = write('e2e.yaml', `root: ${JSON.stringify(root)}\nmax-ranges: 1\nlisten: "127.0.0.1:0"\n`);
    const o = await startRole(['origin', '--config', yaml]);
    try {
      assert.equal((await request(`${o.url}/f.txt`)).body.toString(), '0123456789');
      assert.equal((await request(`${o.url}/f.txt`, { headers: twoRanges })).status, 200);
    } finally { await o.stop(); }
  });

  it('FERRY_* env beats the JSON config file, and a flag beats the env', async () => {
    const json = write('e2e.json', JSON.stringify({ root, maxRanges: 1, listen: '127.0.0.1:0' }));
    const envWins = await startRole(['origin', '--config', json], { env: { FERRY_MAX_RANGES: '5' } });
    try {
      assert.equal((await request(`${envWins.url}/f.txt`, { headers: twoRanges })).status, 206);
    } finally { await envWins.stop(); }
    const flagWins = await startRole(['origin', '--config', json, '--max-ranges', '1'], { env: { FERRY_MAX_RANGES: '5' } });
    try {
      assert.equal((await request(`${flagWins.url}/f.txt`, { headers: twoRanges })).status, 200);
    } finally { await flagWins.stop(); }
  });
});

describe('--log-level', () => {
  it('warn: still says where it listens, drops info access lines, keeps warn ones (5xx)', async () => {
    const o = await startRole(['origin', '--listen', '127.0.0.1:0', '--log-level', 'warn']);
    try {
      await request(`${o.url}/status/200`);
      await request(`${o.url}/status/500`);
      const warned = await waitForLines(() => o.logs.filter((l) => l.event === 'access' && l.path === '/status/500'));
      assert.equal(warned.length, 1);
      assert.equal(warned[0]!.level, 'warn');
      assert.equal(o.logs.filter((l) => l.event === 'access' && l.path === '/status/200').length, 0);
    } finally { await o.stop(); }
  });
});
