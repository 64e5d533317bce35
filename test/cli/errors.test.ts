import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli.ts';

function usageError(r: { code: number | null; stderr: string }, pattern: RegExp): void {
  assert.equal(r.code, 2, `exit 2, got ${r.code}: ${r.stderr}`);
  assert.match(r.stderr, pattern);
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

describe('ferry: usage errors exit 2 with a clear message', () => {
  it('unknown command and unknown flag', async () => {
    usageError(await runCli(['frobnicate']), /unknown command "frobnicate"/);
    usageError(await runCli(['origin', '--bogus']), /unknown flag --bogus/);
    usageError(await runCli(['origin', 'stray']), /unexpected argument "stray"/);
    usageError(await runCli(['origin', '--listen']), /--listen needs a value/);
  });

  it('bad values, from flags and from the environment', async () => {
    usageError(await runCli(['origin', '--listen', '127.0.0.1:70000']), /invalid port "70000"/);
    usageError(await runCli(['origin', '--listen', 'nohost']), /--listen.*invalid address/);
    usageError(await runCli(['origin', '--max-ranges', 'ten']), /--max-ranges.*not a whole number/);
    usageError(await runCli(['origin', '--idle-timeout', '5']), /needs a unit/);
    usageError(await runCli(['origin', '--log-level', 'loud']), /not one of/);
    usageError(await runCli(['origin'], { FERRY_LISTEN: 'x:y' }), /environment variable FERRY_LISTEN/);
  });

  it('missing or unusable --root', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ferry-cli-'));
    try {
      usageError(await runCli(['origin', '--root', path.join(dir, 'missing'), '--listen', '127.0.0.1:0']), /--root .*no such directory/);
      const file = path.join(dir, 'file.txt');
      writeFileSync(file, 'x');
      usageError(await runCli(['origin', '--root', file, '--listen', '127.0.0.1:0']), /--root .*not a directory/);
      usageError(await runCli(['origin', '--root', '', '--listen', '127.0.0.1:0']), /--root: expects a path/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('unreadable or invalid config files', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ferry-cli-'));
    try {
      usageError(await runCli(['origin', '--config', path.join(dir, 'nope.yaml')]), /cannot read config file .*ENOENT/);
      usageError(await runCli(['origin', '--config', dir]), /cannot read config file .*EISDIR/);
      const badYaml = path.join(dir, 'bad.yaml');
      writeFileSync(badYaml, 'listen: [unclosed\n');
      usageError(await runCli(['origin', '--config', badYaml]), /not valid YAML/);
      const badJson = path.join(dir, 'bad.json');
      writeFileSync(badJson, '{"listen": ');
      usageError(await runCli(['origin', '--config', badJson]), /not valid JSON/);
      const unknown = path.join(dir, 'unknown.json');
      writeFileSync(unknown, '{"colour": "blue"}');
      usageError(await runCli(['origin', '--config', unknown]), /unknown setting "colour"/);
      const badValue = path.join(dir, 'bad-value.yaml');
      writeFileSync(badValue, 'listen: 127.0.0.1:99999\n');
      usageError(await runCli(['origin', '--config', badValue]), /config file .*--listen.*invalid port/);
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
