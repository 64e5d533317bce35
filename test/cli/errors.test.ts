import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveCommandFlags } from '../../src/cli/config.ts';
import { originCommand } from '../../src/cli/commands/origin.ts';
import { UsageError } from '../../src/errors.ts';
import { checkRootDirectory } from '../../src/origin/create-origin.ts';
import { runCli } from '../helpers/cli.ts';

function usageError(r: { code: number | null; stderr: string }, pattern: RegExp): void {
  assert.equal(r.code, 2, `exit 2, got ${r.code}: ${r.stderr}`);
  assert.match(r.stderr, pattern);
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

/** The same checks without a process: the message a UsageError carries. */
function refused(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof UsageError && pattern.test(e.message));
}

describe('ferry: usage errors exit 2 with a one-line message (spawned CLI)', () => {
  it('unknown command, unknown flag, bad port, bad env value', async () => {
    usageError(await runCli(['frobnicate']), /unknown command "frobnicate"/);
    usageError(await runCli(['origin', '--bogus']), /unknown flag --bogus/);
    usageError(await runCli(['origin', '--listen', '127.0.0.1:70000']), /invalid port "70000"/);
    usageError(await runCli(['origin'], { FERRY_LISTEN: 'x:y' }), /environment variable FERRY_LISTEN/);
  });

  it('missing --root, unreadable and invalid config files', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ferry-cli-'));
    try {
      usageError(await runCli(['origin', '--root', path.join(dir, 'missing'), '--listen', '127.0.0.1:0']), /--root .*no such directory/);
      usageError(await runCli(['origin', '--config', path.join(dir, 'nope.yaml')]), /cannot read config file .*ENOENT/);
      const badYaml = path.join(dir, 'bad.yaml');
      writeFileSync(badYaml, 'listen: [unclosed\n');
      usageError(await runCli(['origin', '--config', badYaml]), /not valid YAML/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('flag and config validation (in process)', () => {
  const spec = originCommand.spec;
  it('flags', () => {
    refused(() => resolveCommandFlags(spec, ['stray'], {}), /unexpected argument "stray"/);
    refused(() => resolveCommandFlags(spec, ['--listen'], {}), /--listen needs a value/);
    refused(() => resolveCommandFlags(spec, ['--listen', 'nohost'], {}), /--listen.*invalid address/);
    refused(() => resolveCommandFlags(spec, ['--max-ranges', 'ten'], {}), /--max-ranges.*not a whole number/);
    refused(() => resolveCommandFlags(spec, ['--idle-timeout', '5'], {}), /needs a unit/);
    refused(() => resolveCommandFlags(spec, ['--log-level', 'loud'], {}), /not one of/);
    refused(() => resolveCommandFlags(spec, ['--root', ''], {}), /--root: expects a path/);
  });

  it('roots and config files', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ferry-cli-'));
    try {
      const file = path.join(dir, 'file.txt');
      writeFileSync(file, 'x');
      refused(() => checkRootDirectory(file), /--root .*not a directory/);
      refused(() => checkRootDirectory(path.join(dir, 'missing')), /no such directory/);
      assert.equal(checkRootDirectory(dir), dir);
      refused(() => resolveCommandFlags(spec, ['--config', dir], {}), /cannot read config file .*EISDIR/);
      const badJson = path.join(dir, 'bad.json');
      writeFileSync(badJson, '{"listen": ');
      refused(() => resolveCommandFlags(spec, ['--config', badJson], {}), /not valid JSON/);
      const list = path.join(dir, 'list.json');
      writeFileSync(list, '[1, 2]');
      refused(() => resolveCommandFlags(spec, ['--config', list], {}), /expected an object/);
      const unknown = path.join(dir, 'unknown.json');
      writeFileSync(unknown, '{"colour": "blue"}');
      refused(() => resolveCommandFlags(spec, ['--config', unknown], {}), /unknown setting "colour"/);
      const badValue = path.join(dir, 'bad-value.yaml');
      writeFileSync(badValue, 'listen: 127.0.0.1:99999\n');
      refused(() => resolveCommandFlags(spec, ['--config', badValue], {}), /config file .*--listen.*invalid port/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ferry: a port already in use', () => {
  it('is a one-line error with exit code 1, no stack trace', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const r = await runCli(['origin', '--listen', `127.0.0.1:${port}`]);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stderr, `ferry: cannot listen on 127.0.0.1:${port}: address already in use\n`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
