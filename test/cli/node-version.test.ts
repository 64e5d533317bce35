/**
 * The CLI entry refuses a Node older than package.json `engines` with one line and exit code 1, before any
 * dependency loads (issue 12: Node 20 crashed inside undici). The packed CLI is checked in pack.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isAtLeast, minimumNodeVersion, nodeVersionProblem } from '../../src/cli/node-version.ts';
import { MAIN } from '../helpers/cli.ts';

const PRETEND = fileURLToPath(new URL('../fixtures/pretend-old-node.ts', import.meta.url));
const ENGINES = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { engines: { node: string } }).engines.node;

describe('node-version (pure)', () => {
  it("package.json engines has the form the entry understands, and this Node meets it", () => {
    const min = minimumNodeVersion(ENGINES);
    assert.match(min ?? '', /^\d+\.\d+\.\d+$/, `engines.node "${ENGINES}" must be ">=X.Y.Z"`);
    assert.equal(nodeVersionProblem(process.versions.node, ENGINES), undefined);
  });

  it('compares versions numerically', () => {
    assert.ok(isAtLeast('22.22.2', '22.22.2'));
    assert.ok(isAtLeast('22.22.10', '22.22.2'));
    assert.ok(isAtLeast('24.0.0', '22.22.2'));
    assert.ok(isAtLeast('v23.0.0-pre', '22.22.2'));
    assert.ok(!isAtLeast('22.22.1', '22.22.2'));
    assert.ok(!isAtLeast('22.9.99', '22.22.2'));
    assert.ok(!isAtLeast('20.20.2', '22.22.2'));
    assert.ok(!isAtLeast('9.99.99', '22.22.2'));
    assert.equal(minimumNodeVersion('^22.22.2 || >=24'), undefined, 'other forms: no check rather than a wrong one');
    assert.equal(nodeVersionProblem('20.20.2', '>=22.22.2'), 'Node.js 22.22.2 or newer is needed (package.json engines: ">=22.22.2"); this is Node.js 20.20.2');
  });
});

function ferry(args: string[], version: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', PRETEND, MAIN, ...args], {
    encoding: 'utf8', timeout: 30_000, env: { ...process.env, FERRY_TEST_NODE_VERSION: version },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('ferry on an older Node (source tree, version faked by a preload that also forbids loading dependencies)', () => {
  for (const args of [['--help'], ['proxy', '--upstream', 'http://127.0.0.1:9'], ['origin', '--bogus'], []]) {
    it(`ferry ${args.join(' ')}: one line naming both versions, exit 1`, () => {
      const r = ferry(args, '20.20.2');
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr, `ferry: Node.js ${minimumNodeVersion(ENGINES)} or newer is needed (package.json engines: "${ENGINES}"); this is Node.js 20.20.2\n`);
    });
  }

  it('the minimum itself passes the check (and the preload really forbids dependencies: --help loads them)', () => {
    const r = ferry(['--help'], minimumNodeVersion(ENGINES)!);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^ferry: unexpected error: Error: a dependency was loaded: /);
  });
});
