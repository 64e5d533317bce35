/** @module Reads the layers of a command's configuration: defaults < --config file < FERRY_* env < flags. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { UsageError } from '../errors.ts';
import { argvLayer, configLayer, envLayer, resolveFlags, type CommandSpec, type FlagValues } from './flags.ts';

/** The yaml package (288 KB of source, ~1 MiB of idle RSS), loaded only when a YAML config file is read. */
function parseYaml(text: string): unknown {
  return (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(text);
}

export function loadConfigFile(command: CommandSpec, file: string): ReturnType<typeof configLayer> {
  return configLayer(command, readConfigData(file), file);
}

/** The parsed content of a JSON or YAML config file; a UsageError naming the file when it cannot be read or parsed. */
export function readConfigData(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let data: unknown;
  try {
    data = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new UsageError(`config file ${file} is not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`);
  }
  return data;
}

/** Resolve every flag of `command` from argv and env (and the config file they name). */
export function resolveCommandFlags(command: CommandSpec, argv: readonly string[], env: NodeJS.ProcessEnv): FlagValues {
  const fromArgv = argvLayer(command, argv);
  // --help on the command line wins over any bad value elsewhere: a broken env or config must not hide the help.
  const help = fromArgv.entries.filter(([spec]) => spec.name === 'help').at(-1);
  if (help !== undefined && resolveFlags(command, [{ from: fromArgv.from, entries: [help] }]).help === true) return { help: true };
  const fromEnv = envLayer(command, env);
  const early = resolveFlags(command, [fromEnv, fromArgv]);
  if (early.help === true) return early;
  const layers = typeof early.config === 'string' ? [loadConfigFile(command, early.config), fromEnv, fromArgv] : [fromEnv, fromArgv];
  return resolveFlags(command, layers);
}
