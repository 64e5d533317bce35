import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CliCommand } from '../../src/cli/command.ts';
import { COMMON_FLAGS } from '../../src/cli/flags.ts';
import { demoCommand } from '../../src/cli/commands/demo.ts';
import { originCommand } from '../../src/cli/commands/origin.ts';
import { proxyCommand } from '../../src/cli/commands/proxy.ts';
import { relayClientCommand } from '../../src/cli/commands/relay-client.ts';
import { relayServerCommand } from '../../src/cli/commands/relay-server.ts';
import { runCli } from '../helpers/cli.ts';

const COMMANDS: CliCommand[] = [proxyCommand, originCommand, relayClientCommand, relayServerCommand, demoCommand];

describe('ferry --help', () => {
  it('the top-level help names every command; no command at all is a usage error', async () => {
    const r = await runCli(['--help']);
    assert.equal(r.code, 0);
    for (const c of COMMANDS) assert.match(r.stdout, new RegExp(`^  ${c.spec.name} `, 'm'));
    const none = await runCli([]);
    assert.equal(none.code, 2);
    assert.match(none.stdout, /Usage: ferry <command>/);
  });

  for (const command of COMMANDS) {
    it(`ferry ${command.spec.name} --help lists every flag with its default`, async () => {
      const r = await runCli([command.spec.name, '--help']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.match(r.stdout, new RegExp(`^Usage: ferry ${command.spec.name}`));
      const lines = r.stdout.split('\n');
      for (const flag of [...command.spec.flags, ...COMMON_FLAGS]) {
        const line = lines.find((l) => new RegExp(`^\\s+--${flag.name}(\\s|$)`).test(l));
        assert.ok(line, `--${flag.name} is listed`);
        if (flag.default !== undefined) {
          const shown = flag.default === '' ? '""' : String(flag.default);
          assert.ok(line.includes(`(default: ${shown})`), `--${flag.name} shows its default ${shown}: ${line}`);
        }
      }
    });
  }

  it('-h works like --help, and --help wins over bad values', async () => {
    const r = await runCli(['origin', '-h']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--max-ranges/);
    const bad = await runCli(['origin', '--help'], { FERRY_LISTEN: 'not-an-address' });
    assert.equal(bad.code, 0);
  });

  it('--version prints the package version', async () => {
    const r = await runCli(['--version']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^\d+\.\d+\.\d+/);
  });
});
