/**
 * The published shape: `npm pack` (which runs `prepare`, i.e. tsc → dist/) gives a tarball that
 * installs into an empty folder, whose `ferry` bin runs and whose library entry imports.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { isAtLeast, minimumNodeVersion } from '../../src/cli/node-version.ts';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../..', import.meta.url));
// Node 24 (the pinned devDependency) first, so `#!/usr/bin/env node` and npm's scripts use it.
const env = { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`, npm_config_update_notifier: 'false' };

const ENGINES = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
const MINIMUM = minimumNodeVersion(ENGINES)!;
/** The distribution's own Node (Debian/Ubuntu ship 20 or older as `nodejs`), the one `npx ferry` meets there. */
const SYSTEM_NODE = '/usr/bin/node';
const PRETEND = fileURLToPath(new URL('../fixtures/pretend-old-node.ts', import.meta.url));

/** The one line an older Node gets. */
const tooOld = (found: string) => `ferry: Node.js ${MINIMUM} or newer is needed (package.json engines: "${ENGINES}"); this is Node.js ${found}\n`;

let dir: string;
before(() => { dir = mkdtempSync(path.join(tmpdir(), 'ferry-pack-')); });
after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

describe('npm pack → npm install → ferry', () => {
  it('installs into an empty folder and runs; an older Node gets one line and exit 1', async (t) => {
    const packed = await run('npm', ['pack', '--pack-destination', dir, '--json', '--no-audit', '--no-fund'], { cwd: REPO, env, maxBuffer: 64 * 1024 * 1024 });
    const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    assert.ok(info, 'npm pack printed its result');
    const files = info.files.map((f) => f.path);
    assert.ok(files.includes('dist/cli/main.js'), 'the bin is in the package');
    assert.ok(files.includes('dist/index.js') && files.includes('dist/index.d.ts'), 'the library and its types are in the package');
    assert.ok(!files.some((f) => f.startsWith('src/') || f.startsWith('test/')), 'no sources or tests shipped');
    assert.ok(files.includes('dist/stats/dashboard/app.js') && files.includes('dist/stats/dashboard/app.css'), "the dashboard's assets are in the package");
    const tarball = path.join(dir, readdirSync(dir).find((f) => f.endsWith('.tgz'))!);

    const app = path.join(dir, 'app');
    mkdirSync(app);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, type: 'module' }));
    await run('npm', ['install', tarball, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd: app, env, maxBuffer: 64 * 1024 * 1024 });

    const bin = path.join(app, 'node_modules', '.bin', 'ferry');
    assert.ok(statSync(bin).mode & 0o111, 'bin is executable');
    const help = await run(bin, ['--help'], { cwd: app, env });
    assert.match(help.stdout, /Usage: ferry <command>/);
    const originHelp = await run(bin, ['origin', '--help'], { cwd: app, env });
    assert.match(originHelp.stdout, /--root DIR/);

    const lib = await run(process.execPath, ['--input-type=module', '-e',
      "import('ferry').then((m) => console.log(typeof m.createOrigin, typeof m.FerryError))"], { cwd: app, env });
    assert.equal(lib.stdout.trim(), 'function function');

    // An older Node (issue 12): one line naming both versions, exit 1, before any dependency loads. Faked by a
    // preload (which also makes loading a dependency throw), so this runs wherever the tests do...
    for (const args of [['--help'], ['origin', '--help'], ['proxy', '--upstream', 'http://127.0.0.1:9']]) {
      const faked = spawnSync(process.execPath, ['--import', PRETEND, bin, ...args], { cwd: app, env: { ...env, FERRY_TEST_NODE_VERSION: '20.20.2' }, encoding: 'utf8', timeout: 30_000 });
      assert.deepEqual([faked.status, faked.stdout, faked.stderr], [1, '', tooOld('20.20.2')], `faked Node 20: ferry ${args.join(' ')}`);
    }
    // ...and with the system's real old Node when there is one, run as `npx ferry --help` would: the bin's
    // `#!/usr/bin/env node` finding that Node first on the PATH.
    const system = existsSync(SYSTEM_NODE) ? spawnSync(SYSTEM_NODE, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim() : '';
    if (system !== '' && !isAtLeast(system, MINIMUM)) {
      const oldEnv = { ...env, PATH: `${path.dirname(SYSTEM_NODE)}${path.delimiter}${process.env.PATH ?? ''}` };
      for (const args of [['--help'], ['relay-client', '--help'], ['--version']]) {
        const real = spawnSync(bin, args, { cwd: app, env: oldEnv, encoding: 'utf8', timeout: 30_000 });
        assert.deepEqual([real.status, real.stdout, real.stderr], [1, '', tooOld(system)], `real Node ${system}: ferry ${args.join(' ')}`);
      }
    } else {
      t.diagnostic(`no Node older than ${MINIMUM} at ${SYSTEM_NODE} (found "${system}"): only the faked version was checked`);
    }
  });
});
