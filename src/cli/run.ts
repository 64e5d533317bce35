/**
 * @module The `ferry` command: picks the role, resolves its flags, runs it. Usage errors exit 2, runtime failures 1.
 * Loaded by main.ts once the Node version is known to be good enough; importing it runs the command line.
 */
import { FerryError, UsageError } from '../errors.ts';
import { resolveCommandFlags } from './config.ts';
import { formatHelp } from './flags.ts';
import { COMMANDS } from './registry.ts';
import { tuneHeapForStreaming } from '../server/heap-tuning.ts';
import { releaseYoungGeneration } from './startup-heap.ts';

async function topHelp(): Promise<string> {
  const commands = await Promise.all(COMMANDS.map((c) => c.load()));
  const rows = commands.map((c) => `  ${c.spec.name.padEnd(14)} ${c.spec.summary.split('\n')[0]}`);
  return ['Usage: ferry <command> [flags]', '', 'ferry is a streaming HTTP proxy suite.', '', 'Commands:', ...rows, '',
    'Run `ferry <command> --help` for the flags of a command.', ''].join('\n');
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number | undefined> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(await topHelp());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    const { readFileSync } = await import('node:fs');
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) throw new UsageError(`unknown command "${name}" (commands: ${COMMANDS.map((c) => c.name).join(', ')})`);
  const command = await entry.load();
  const flags = resolveCommandFlags(command.spec, rest, env);
  if (flags.help === true) {
    process.stdout.write(formatHelp(command.spec));
    return 0;
  }
  tuneHeapForStreaming(process.execArgv, env.NODE_OPTIONS); // see server/heap-tuning.ts
  await command.run(flags, env, rest);
  releaseYoungGeneration(); // the role is up: the new space may grow again (startup-heap.ts)
  return undefined; // the role keeps running until a signal stops it
}

function fail(err: unknown): void {
  if (err instanceof UsageError) {
    process.stderr.write(`ferry: ${err.message}\n`);
    process.exitCode = 2;
  } else if (err instanceof FerryError && err.source === 'config') {
    process.stderr.write(`ferry: ${err.message}\n`);
    process.exitCode = err.code === 'FERRY_ERR_LISTEN' ? 1 : 2;
  } else {
    process.stderr.write(`ferry: unexpected error: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
  // Servers may already be listening when a later step fails: do not linger.
  setImmediate(() => process.exit());
}

main(process.argv.slice(2), process.env).then((code) => {
  if (code !== undefined) process.exitCode = code;
}, fail);
