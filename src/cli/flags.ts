/** @module Flag tables and their parsing: defaults < config file < FERRY_* env < command line. Pure; no I/O. */
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.ts';
import { parseDuration, parseHostPort, parseSize, type HostPort } from '../util/units.ts';

export type FlagType = 'string' | 'int' | 'bool' | 'duration' | 'size' | 'hostport' | 'url' | 'list' | 'path' | 'enum';
export type FlagValue = string | number | boolean | HostPort | URL | string[] | undefined;

export interface FlagSpec {
  /** kebab-case, without the leading `--` */
  name: string;
  type: FlagType;
  help: string;
  /** Written as on the command line (`'127.0.0.1:8080'`, `'30s'`, `'16KiB'`); parsed like a given value. */
  default?: string | boolean;
  /** May be given several times; the value is an array of parsed values. */
  repeatable?: boolean;
  choices?: readonly string[];
  /** Shown in --help instead of the type, e.g. `HOST:PORT`. */
  placeholder?: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  flags: readonly FlagSpec[];
  examples?: readonly string[];
  /** Config-file keys that are structured sections read by the command itself (not flags): `routes`, `pools`. */
  configSections?: readonly string[];
}

/** Flags every command has. */
export const COMMON_FLAGS: readonly FlagSpec[] = [
  { name: 'config', type: 'path', help: 'read flags from a JSON or YAML file (flags on the command line win)', placeholder: 'FILE' },
  { name: 'log-level', type: 'enum', help: 'log level', default: 'info', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
  { name: 'help', type: 'bool', help: 'show this help and exit', default: false },
];

export type FlagValues = Record<string, FlagValue | FlagValue[]>;

export function envName(flag: string): string {
  return `FERRY_${flag.toUpperCase().replace(/-/g, '_')}`;
}

export function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

/** Parse one textual value per the flag's type, or throw a UsageError naming the flag and where it came from. */
export function parseFlagValue(spec: FlagSpec, text: string, from: string): FlagValue {
  const fail = (why: string): never => {
    const where = from === 'environment' ? `environment variable ${envName(spec.name)}` : `${from} --${spec.name}`;
    throw new UsageError(`${where}: ${why}`);
  };
  switch (spec.type) {
    case 'string':
    case 'path':
      if (text === '' && spec.type === 'path') fail('expects a path');
      return text;
    case 'enum':
      if (!spec.choices?.includes(text)) fail(`"${text}" is not one of ${spec.choices?.join(', ')}`);
      return text;
    case 'int': {
      if (!/^\d+$/.test(text.trim())) fail(`"${text}" is not a whole number`);
      return Number(text.trim());
    }
    case 'bool': {
      const t = text.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on', ''].includes(t)) return true;
      if (['0', 'false', 'no', 'off'].includes(t)) return false;
      return fail(`"${text}" is not true or false`);
    }
    case 'duration': {
      const r = parseDuration(text);
      return r.ok ? r.value : fail(r.reason);
    }
    case 'size': {
      const r = parseSize(text);
      return r.ok ? r.value : fail(r.reason);
    }
    case 'hostport': {
      const r = parseHostPort(text);
      return r.ok ? r.value : fail(r.reason);
    }
    case 'url': {
      try {
        const u = new URL(text);
        if (!/^(https?|redis|rediss):$/.test(u.protocol)) fail(`unsupported URL scheme "${u.protocol}"`);
        return u;
      } catch (err) {
        if (err instanceof UsageError) throw err;
        return fail(`"${text}" is not a valid URL`);
      }
    }
    case 'list':
      return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  }
}

interface Layer { from: string; entries: Array<[FlagSpec, string]> }

function specsByName(flags: readonly FlagSpec[]): Map<string, FlagSpec> {
  const m = new Map<string, FlagSpec>();
  for (const f of [...flags, ...COMMON_FLAGS]) m.set(f.name, f);
  return m;
}

type ParseArgsOptions = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

/** parseArgs' option table for a command: every flag is a string but the booleans; `-h` is `--help`. */
function parseArgsOptions(specs: ReadonlyMap<string, FlagSpec>): ParseArgsOptions {
  const options: ParseArgsOptions = {};
  for (const spec of specs.values()) {
    options[spec.name] = {
      type: spec.type === 'bool' ? 'boolean' : 'string',
      ...(spec.repeatable ? { multiple: true } : {}),
      ...(spec.name === 'help' ? { short: 'h' } : {}),
    };
  }
  return options;
}

/**
 * `--forward=false` (a boolean with a value) was accepted before parseArgs, which refuses it: rewritten to
 * `--forward`/`--no-forward` here, the value checked like any other. Safe wherever it appears: a value starting
 * with `-` must be written inline (`--jwt-user=--forward=x`), so such an argument is never a flag's value.
 */
function inlineBooleans(specs: ReadonlyMap<string, FlagSpec>, argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^--([^=]+)=(.*)$/s.exec(arg);
    const spec = m ? specs.get(m[1]!) : undefined;
    if (m && spec?.type === 'bool') {
      out.push(parseFlagValue(spec, m[2]!, 'command line') === true ? `--${spec.name}` : `--no-${spec.name}`);
      continue;
    }
    // `--inspector false` (the form SPEC and the docs use): no command takes positional arguments, so a bare
    // true/false right after a boolean flag can only be its value
    const bare = arg.startsWith('--') ? specs.get(arg.slice(2)) : undefined;
    const next = argv[i + 1]?.toLowerCase();
    if (bare?.type === 'bool' && (next === 'true' || next === 'false')) {
      out.push(next === 'true' ? arg : `--no-${bare.name}`);
      i++;
      continue;
    }
    out.push(arg);
  }
  return out;
}

/**
 * Split argv into (flag, text) pairs, in order, with node:util's parseArgs in strict mode: unknown flags,
 * positional arguments (no command takes any) and a flag whose value is missing are refused. A value that
 * starts with `-` must be written `--flag=-value`, so `--jwt-user --forward` is an error instead of a JWT user
 * named "--forward" (issue 12). Booleans take `--no-X`, `--X=false` or `--X false`.
 */
export function argvLayer(command: CommandSpec, argv: readonly string[]): Layer {
  const specs = specsByName(command.flags);
  const options = parseArgsOptions(specs);
  const args = inlineBooleans(specs, argv);
  let tokens: ReturnType<typeof parseArgs>['tokens'];
  try {
    tokens = parseArgs({ args, options, strict: true, allowPositionals: false, allowNegative: true, tokens: true }).tokens;
  } catch (err) {
    if (!String((err as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS_')) throw err;
    throw new UsageError(`ferry ${command.name}: ${explainArgvError(command, specs, options, args, err as Error)}`);
  }
  const entries: Array<[FlagSpec, string]> = [];
  for (const token of tokens) {
    if (token.kind !== 'option') continue; // positionals were refused; `--` alone changes nothing
    const spec = specs.get(token.name)!;
    entries.push([spec, spec.type === 'bool' ? String(!token.rawName.startsWith('--no-')) : token.value ?? '']);
  }
  return { from: 'command line', entries };
}

/**
 * What strict parseArgs refused, in ferry's words, naming the flag: found again in the lenient token stream
 * (which takes `--jwt-user --forward` as a value) rather than read from Node's message text.
 */
function explainArgvError(command: CommandSpec, specs: ReadonlyMap<string, FlagSpec>, options: ParseArgsOptions, args: string[], err: Error): string {
  const { tokens } = parseArgs({ args, options, strict: false, allowPositionals: true, allowNegative: true, tokens: true });
  for (const token of tokens) {
    if (token.kind === 'positional') return `unexpected argument "${token.value}" (see --help)`;
    if (token.kind !== 'option') continue;
    const negated = token.rawName.startsWith('--no-') ? specs.get(token.rawName.slice(5)) : undefined;
    if (negated?.type === 'bool' && token.value !== undefined) return `${token.rawName} takes no value`;
    const spec = specs.get(token.name);
    // lenient parsing strips `no-` from any flag; only booleans have a negation
    if (!spec || (negated !== undefined && spec.type !== 'bool')) return `unknown flag ${token.rawName} (see ferry ${command.name} --help)`;
    if (spec.type === 'bool') {
      if (token.value !== undefined) return `${token.rawName} takes no value`;
      continue;
    }
    if (token.value === undefined) return `${token.rawName} needs a value`;
    if (!token.inlineValue && token.value.length > 1 && token.value.startsWith('-')) {
      return `${token.rawName} needs a value, but is followed by the flag "${token.value}" ` +
        `(a value starting with "-" is written ${token.rawName}=${token.value})`;
    }
  }
  return (err.message.split('\n')[0] ?? String(err)); // not expected: Node's own words, still one line
}

/** FERRY_<FLAG> variables for this command's flags. */
export function envLayer(command: CommandSpec, env: NodeJS.ProcessEnv): Layer {
  const entries: Array<[FlagSpec, string]> = [];
  for (const spec of [...command.flags, ...COMMON_FLAGS]) {
    if (spec.name === 'help') continue;
    const v = env[envName(spec.name)];
    if (v !== undefined) entries.push([spec, v]);
  }
  return { from: 'environment', entries };
}

/** A parsed config file (an object of flag names, kebab-case or camelCase, to values). */
export function configLayer(command: CommandSpec, data: unknown, file: string): Layer {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new UsageError(`config file ${file}: expected an object of flag names to values`);
  }
  const specs = specsByName(command.flags);
  const byCamel = new Map([...specs.values()].map((s) => [camel(s.name), s]));
  const entries: Array<[FlagSpec, string]> = [];
  for (const [key, value] of Object.entries(data)) {
    if (command.configSections?.includes(key)) continue;
    const spec = specs.get(key) ?? byCamel.get(key);
    if (!spec || spec.name === 'config' || spec.name === 'help') {
      throw new UsageError(`config file ${file}: unknown setting "${key}" for ferry ${command.name}`);
    }
    const values = Array.isArray(value) && (spec.repeatable || spec.type === 'list') ? (spec.repeatable ? value : [value.join(',')]) : [value];
    for (const v of values) {
      if (v === null || typeof v === 'object') throw new UsageError(`config file ${file}: "${key}" must be a string, number or boolean`);
      entries.push([spec, String(v)]);
    }
  }
  return { from: `config file ${file}`, entries };
}

/** Merge the layers (later layers win, per flag) over the defaults, parsing every value. */
export function resolveFlags(command: CommandSpec, layers: readonly Layer[]): FlagValues {
  const specs = specsByName(command.flags);
  const out: FlagValues = {};
  for (const spec of specs.values()) {
    if (spec.default === undefined) continue;
    const v = typeof spec.default === 'boolean' ? spec.default : parseFlagValue(spec, spec.default, 'default of');
    out[camel(spec.name)] = spec.repeatable ? [v] : v;
  }
  for (const layer of layers) {
    const seenRepeatable = new Set<string>();
    for (const [spec, text] of layer.entries) {
      const key = camel(spec.name);
      const v = parseFlagValue(spec, text, layer.from);
      if (spec.repeatable) {
        const prev = seenRepeatable.has(key) ? (out[key] as FlagValue[]) : [];
        seenRepeatable.add(key);
        out[key] = [...prev, v];
      } else {
        out[key] = v;
      }
    }
  }
  return out;
}

/** The --help text: usage, summary, every flag with its default and env var. */
export function formatHelp(command: CommandSpec): string {
  const rows = [...command.flags, ...COMMON_FLAGS].map((f) => {
    const ph = f.type === 'bool' ? '' : ` ${f.placeholder ?? f.type.toUpperCase()}`;
    const left = `  --${f.name}${ph}`;
    const def = f.default === undefined ? '' : ` (default: ${f.default === '' ? '""' : String(f.default)})`;
    const more = [f.repeatable ? 'repeatable' : '', f.choices && f.type === 'enum' ? `one of ${f.choices.join('|')}` : '']
      .filter(Boolean).join('; ');
    return `${left.padEnd(34)} ${f.help}${def}${more ? ` [${more}]` : ''}`;
  });
  const lines = [
    `Usage: ${command.usage}`,
    '',
    command.summary,
    '',
    'Flags (also from --config FILE and FERRY_<FLAG> env vars, e.g. FERRY_LOG_LEVEL; flags win):',
    ...rows,
  ];
  if (command.examples?.length) lines.push('', 'Examples:', ...command.examples.map((e) => `  ${e}`));
  return lines.join('\n') + '\n';
}
