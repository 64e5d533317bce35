/**
 * @module The access-log line serialised directly from the record, byte for byte what pino writes for it, for the
 * loggers ferry creates itself (issue 18: the access log, on by default, cost ~13 µs of a ~60 µs proxied request).
 *
 * pino's generic path per line: the level method's argument handling, the mixin/hook checks, the diagnostics
 * channel, a serializer and a stringifier lookup per field, and a child logger looked up per call to bind
 * `event: "access"`. A logger made by createLogger has none of those configured, so the line is the level prefix,
 * the time, the bindings (all serialised once, by pino, and read from it here), `"event":"access"`, the record's
 * fields in their order and the message: one string built from those parts, handed to the same line batcher.
 * Loggers from anywhere else (a library user's pino with hooks, redaction, serializers) are not registered and keep
 * going through pino (server/access-log.ts).
 */
import { pino, type Logger } from 'pino';

interface LineTarget {
  write(line: string): boolean;
  time(): string;
}

/** The loggers whose lines may be written directly: the ones createLogger made, with their sink and clock. */
const DIRECT = new WeakMap<Logger, LineTarget>();

export function registerDirectLines(log: Logger, sink: { write(line: string): boolean }, time: () => string): void {
  DIRECT.set(log, { write: (line) => sink.write(line), time });
}

const { lsCacheSym, chindingsSym } = pino.symbols as unknown as { lsCacheSym: symbol; chindingsSym: symbol };
const LEVEL_VALUES = { info: 30, warn: 40 } as const;

/**
 * Writes `record` as pino would (fields with an undefined value skipped, non-finite numbers as null, `msg` last);
 * false when `log` is not a registered logger or a field holds what JSON.stringify cannot serialise (a cycle, a BigInt,
 * a symbol) (the caller then logs through pino).
 */
export function writeAccessLine(log: Logger, level: 'info' | 'warn', record: Readonly<Record<string, unknown>>, msg: string): boolean {
  const target = DIRECT.get(log);
  if (target === undefined) return false;
  if (!log.isLevelEnabled(level)) return true;
  let fields = '';
  for (const key in record) {
    const value = record[key];
    switch (typeof value) {
      case 'undefined': continue;
      case 'string': fields += `${keyJson(key)}${jsonString(value)}`; break;
      case 'number': fields += `${keyJson(key)}${Number.isFinite(value) ? value : 'null'}`; break;
      case 'boolean': fields += `${keyJson(key)}${value}`; break;
      case 'function': continue;
      case 'object': {
        // the proxy's `tries` list on every pool-routed request: pino's stringify is JSON.stringify first
        // (lib/tools.js `stringify`); what that cannot serialise (a cycle, a BigInt) is left to pino's fallback
        let json = plainJson(value, 0);
        if (json === undefined) {
          try { json = JSON.stringify(value); } catch { return false; }
        }
        fields += `${keyJson(key)}${json}`;
        break;
      }
      default: return false;
    }
  }
  const prefix = (log as unknown as Record<symbol, Record<number, string>>)[lsCacheSym]![LEVEL_VALUES[level]]!;
  const bindings = (log as unknown as Record<symbol, string>)[chindingsSym]!;
  target.write(`${prefix}${target.time()}${bindings},"event":"access"${fields},"msg":${jsonString(msg)}}\n`);
  return true;
}

/**
 * JSON.stringify's text for the plain values a record carries (the `tries` list: an array of flat records of
 * strings and numbers), built here: JSON.stringify of that list cost about 3 900 instructions a line, most of it
 * V8's generic serialiser setting up. undefined for anything else (a toJSON method, a class instance, deeper than 4
 * levels, a cycle): the caller then uses JSON.stringify itself. Same rules: undefined, functions and symbols left
 * out of objects and null in arrays, non-finite numbers as null, own enumerable string keys in their order.
 */
function plainJson(value: unknown, depth: number): string | undefined {
  switch (typeof value) {
    case 'string': return plainString(value);
    case 'number': return Number.isFinite(value) ? `${value}` : 'null';
    case 'boolean': return value ? 'true' : 'false';
    case 'object': break;
    default: return undefined;
  }
  if (value === null) return 'null';
  if (depth >= 4) return undefined;
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const t = typeof item;
      const json = t === 'undefined' || t === 'function' || t === 'symbol' ? 'null' : plainJson(item, depth + 1);
      if (json === undefined) return undefined;
      out += i === 0 ? json : `,${json}`;
    }
    return `${out}]`;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return undefined; // a class instance, a Date, a Map …
  const obj = value as Record<string, unknown>;
  if (typeof obj.toJSON === 'function') return undefined;
  let out = '{';
  for (const key of Object.keys(obj)) {
    const item = obj[key];
    const t = typeof item;
    if (t === 'undefined' || t === 'function' || t === 'symbol') continue;
    const json = plainJson(item, depth + 1);
    if (json === undefined) return undefined;
    out += `${out.length === 1 ? '' : ','}${plainString(key)}:${json}`;
  }
  return `${out}}`;
}

/** JSON.stringify of a string: printable ASCII without `"` or `\\` as is, anything else through JSON.stringify. */
function plainString(str: string): string {
  for (let i = 0; i < str.length; i++) {
    const c = str.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return JSON.stringify(str);
  }
  return `"${str}"`;
}

/** `,"key":` for a record field: the same dozen names on every line, escaped once (bounded: extra names past 64 are not kept). */
const KEYS = new Map<string, string>();
function keyJson(key: string): string {
  let k = KEYS.get(key);
  if (k === undefined) {
    k = `,${jsonString(key)}:`;
    if (KEYS.size < 64) KEYS.set(key, k);
  }
  return k;
}

/**
 * pino's string escaping (lib/tools.js `asString`), kept identical so that the line is too: strings over 100
 * characters, or with a control character, through JSON.stringify; otherwise only `"` and `\` escaped.
 */
function jsonString(str: string): string {
  const l = str.length;
  if (l > 100) return JSON.stringify(str);
  let result = '';
  let last = 0;
  let found = false;
  let point = 255;
  for (let i = 0; i < l && point >= 32; i++) {
    point = str.charCodeAt(i);
    if (point === 34 || point === 92) {
      result += `${str.slice(last, i)}\\`;
      last = i;
      found = true;
    }
  }
  result = found ? result + str.slice(last) : str;
  return point < 32 ? JSON.stringify(str) : `"${result}"`;
}
