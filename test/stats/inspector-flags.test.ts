/** `--inspector-size` and `--redact-headers` refuse bad values with one line and exit code 2 (README: common to every command). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.ts';

for (const [args, message] of [
  [['--inspector-size', '0'], /--inspector-size: 0 is not from 1 to 10000/],
  [['--inspector-size', '10001'], /--inspector-size: 10001 is not from 1 to 10000/],
  [['--redact-headers', 'x-ok,bad header'], /--redact-headers: "bad header" is not a header field name/],
] as const) {
  test(`ferry proxy ${args.join(' ')} → exit 2`, async () => {
    const r = await runCli(['proxy', '--listen', '127.0.0.1:0', ...args]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });
}
