/**
 * Command-line parsing (node:util parseArgs, strict): a flag missing its value must not swallow the next flag
 * (issue 12: `ferry proxy --jwt-user --forward` used to start with the JWT user "--forward" and the forward proxy
 * off). The cases are generated from the command specs, so a new flag or command is covered without a new test.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CliCommand } from '../../src/cli/command.ts';
import { resolveCommandFlags } from '../../src/cli/config.ts';
import { argvLayer, COMMON_FLAGS, type FlagSpec } from '../../src/cli/flags.ts';
import { COMMANDS } from '../../src/cli/registry.ts';
import { UsageError } from '../../src/errors.ts';
import { runCli } from '../helpers/cli.ts';

function refused(fn: () => unknown, pattern: RegExp, label: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UsageError, `${label}: a UsageError, got ${String(e)}`);
    assert.match(e.message, pattern, label);
    assert.ok(!e.message.includes('\n'), `${label}: one line`);
    return true;
  });
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const allFlags = (c: CliCommand): FlagSpec[] => [...c.spec.flags, ...COMMON_FLAGS];

let commands: CliCommand[] = [];
before(async () => { commands = await Promise.all(COMMANDS.map((c) => c.load())); });

describe('a value-taking flag followed by another flag (every flag of every command, pure parser)', () => {
  it('is a usage error naming the flag, and --flag=--value is accepted', () => {
    let cases = 0;
    for (const command of commands) {
      const flags = allFlags(command);
      const valued = flags.filter((f) => f.type !== 'bool');
      assert.ok(valued.length > 0, command.spec.name);
      for (const flag of valued) {
        // every other flag of the command as the follower: booleans, value-taking ones, and -h
        const followers = [...flags.filter((f) => f !== flag).map((f) => `--${f.name}`), '-h'];
        for (const next of followers) {
          const label = `ferry ${command.spec.name} --${flag.name} ${next}`;
          const message = new RegExp(`^ferry ${command.spec.name}: --${flag.name} needs a value, but is followed by the flag "${escape(next)}" \\(a value starting with "-" is written --${flag.name}=${escape(next)}\\)$`);
          refused(() => argvLayer(command.spec, [`--${flag.name}`, next]), message, label);
          // through every layer, as the CLI resolves it: also with a value after the follower, and a good flag before
          refused(() => resolveCommandFlags(command.spec, [`--${flag.name}`, next, 'x'], {}), message, label);
          refused(() => resolveCommandFlags(command.spec, ['--log-level', 'warn', `--${flag.name}`, next], {}), message, label);
          const inline = argvLayer(command.spec, [`--${flag.name}=${next}`]).entries;
          assert.deepEqual(inline.map(([s, t]) => [s.name, t]), [[flag.name, next]], `${label}: written inline it is the value`);
          cases++;
        }
      }
    }
    assert.ok(cases > 200, `${cases} cases`);
  });

  it('a flag at the end without its value is a usage error naming it', () => {
    for (const command of commands) {
      for (const flag of allFlags(command).filter((f) => f.type !== 'bool')) {
        refused(() => argvLayer(command.spec, ['--help', `--${flag.name}`]), new RegExp(`--${flag.name} needs a value$`), `${command.spec.name} --${flag.name}`);
      }
    }
  });
});

describe("parseArgs keeps ferry's conventions", () => {
  const proxy = () => commands.find((c) => c.spec.name === 'proxy')!.spec;
  const entries = (argv: string[]) => argvLayer(proxy(), argv).entries.map(([s, t]) => [s.name, t]);

  it('--no-X for booleans, -h for --help, --flag=value and --flag value, booleans written --flag=false', () => {
    assert.deepEqual(entries(['--forward', '--no-forward', '-h', '--jwt-user=a', '--jwt-user', 'b', '--forward=off', '--forwarded=yes']),
      [['forward', 'true'], ['forward', 'false'], ['help', 'true'], ['jwt-user', 'a'], ['jwt-user', 'b'], ['forward', 'false'], ['forwarded', 'true']]);
    const f = resolveCommandFlags(proxy(), ['--forward', '--no-forward', '--jwt-user', 'b', '--stats-path', ''], {});
    assert.deepEqual([f.forward, f.jwtUser, f.statsPath], [false, 'b', '']);
    assert.deepEqual(resolveCommandFlags(proxy(), ['-h'], {}), { help: true });
  });

  it('a boolean flag followed by a bare true/false takes it as its value (--inspector false); other words stay refused', () => {
    assert.deepEqual(entries(['--forward', 'false', '--forwarded', 'TRUE', '--inspector', 'false', '--jwt-user', 'u']),
      [['forward', 'false'], ['forwarded', 'true'], ['inspector', 'false'], ['jwt-user', 'u']]);
    assert.equal(resolveCommandFlags(proxy(), ['--inspector', 'false'], {}).inspector, false);
    refused(() => entries(['--forward', 'off']), /^ferry proxy: unexpected argument "off"/, '--forward off');
    refused(() => entries(['--jwt-user', 'u', 'false']), /^ferry proxy: unexpected argument "false"/, 'a stray false after a value');
  });

  it('repeatable flags keep every value in order; a single-value flag given twice: the last wins', () => {
    const f = resolveCommandFlags(proxy(), ['--upstream', 'http://a:1', '--upstream=http://b:2', '--jwt-user', 'x', '--jwt-user', 'y'], {});
    assert.deepEqual((f.upstream as URL[]).map(String), ['http://a:1/', 'http://b:2/']);
    assert.equal(f.jwtUser, 'y');
  });

  it('layers: defaults < environment < command line; a bad value names where it came from', () => {
    assert.equal(resolveCommandFlags(proxy(), [], {}).jwtUser, 'username');
    assert.equal(resolveCommandFlags(proxy(), [], { FERRY_JWT_USER: 'env' }).jwtUser, 'env');
    assert.equal(resolveCommandFlags(proxy(), ['--jwt-user', 'cli'], { FERRY_JWT_USER: 'env' }).jwtUser, 'cli');
    assert.equal(resolveCommandFlags(proxy(), ['--no-forward'], { FERRY_FORWARD: 'true' }).forward, false);
    refused(() => resolveCommandFlags(proxy(), ['--max-headers-count', 'ten'], {}), /^command line --max-headers-count: "ten" is not a whole number$/, 'argv');
    refused(() => resolveCommandFlags(proxy(), [], { FERRY_MAX_HEADERS_COUNT: 'ten' }), /^environment variable FERRY_MAX_HEADERS_COUNT: /, 'env');
    refused(() => resolveCommandFlags(proxy(), ['--forward=maybe'], {}), /^command line --forward: "maybe" is not true or false$/, 'bool');
  });

  it('unknown flags, negated non-booleans, values on negations and positional arguments are refused', () => {
    refused(() => entries(['--bogus']), /^ferry proxy: unknown flag --bogus \(see ferry proxy --help\)$/, '--bogus');
    refused(() => entries(['-x']), /^ferry proxy: unknown flag -x /, '-x');
    refused(() => entries(['--no-upstream']), /^ferry proxy: unknown flag --no-upstream /, '--no-upstream');
    refused(() => entries(['--no-forward=1']), /^ferry proxy: --no-forward takes no value$/, '--no-forward=1');
    refused(() => entries(['stray']), /^ferry proxy: unexpected argument "stray"/, 'stray');
    refused(() => entries(['--', '--forward']), /^ferry proxy: unexpected argument "--forward"/, '-- --forward');
  });
});

describe('a flag missing its value, through the real CLI', () => {
  function usageError(r: { code: number | null; stderr: string }, pattern: RegExp): void {
    assert.equal(r.code, 2, `exit 2, got ${r.code}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  }
  // --listen 127.0.0.1:0 first, so that a regression starts on a free port (and runCli's timeout fails the test).
  const cases: Array<[args: string[], flag: string, next: string]> = [
    [['proxy', '--listen', '127.0.0.1:0', '--jwt-user', '--forward', '--upstream', 'http://127.0.0.1:9'], '--jwt-user', '--forward'],
    [['origin', '--root', '--listen', '127.0.0.1:0'], '--root', '--listen'],
    [['relay-client', '--listen', '127.0.0.1:0', '--gateway', '--sigv4'], '--gateway', '--sigv4'],
    [['relay-server', '--listen', '127.0.0.1:0', '--store', '--insecure-gateway-auth-only'], '--store', '--insecure-gateway-auth-only'],
    [['demo', '--listen', '127.0.0.1:0', '--sample-size', '--help'], '--sample-size', '--help'],
  ];
  for (const [args, flag, next] of cases) {
    it(`ferry ${args.join(' ')} exits 2 naming ${flag}`, async () => {
      usageError(await runCli(args), new RegExp(`^ferry: ferry ${args[0]}: ${flag} needs a value, but is followed by the flag "${next}"`));
    });
  }

  it('--jwt-user=--forward is a value', async () => {
    const r = await runCli(['proxy', '--jwt-user=--forward', '--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Usage: ferry proxy/);
  });
});
