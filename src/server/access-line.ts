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
import type { LineBuffer } from './file-line-writer.ts';
import type { AccessRecord } from './access-log.ts';
import { ascii, isDigits, jsonString, plainAscii, putAscii, putBytes, putNestedString, putNumber, putString, putText } from './json-bytes.ts';

interface LineTarget {
  write(line: string): boolean;
  time(): string;
  /** The regular-file writer's buffer, where the proxy's line is written byte by byte (writeProxyAccessLine). */
  bytes: LineBuffer | undefined;
  /** writeProxyAccessLine's line head, in three parts kept encoded (lineHead). */
  head: LineHead;
}

/**
 * The line's head `{"level":…` `,"time":…` `<bindings>,"event":"access","requestId":` encoded, with the strings
 * each part was made from: the level prefixes and the bindings encoded again only if pino's change (a level or
 * bindings set on the logger), the time once per millisecond at most, into the same bytes (it keeps its length).
 */
interface LineHead {
  prefixes: [string, string];
  prefixBytes: [Uint8Array, Uint8Array];
  time: string;
  timeBytes: Uint8Array;
  bindings: string;
  tailBytes: Uint8Array;
}

/** The loggers whose lines may be written directly: the ones createLogger made, with their sink and clock. */
const DIRECT = new WeakMap<Logger, LineTarget>();

/** The file writer's buffer and the clock of a registered logger whose destination is that writer; else undefined. */
export function directLineBuffer(log: Logger): { bytes: LineBuffer; time(): string } | undefined {
  const target = DIRECT.get(log);
  return target?.bytes === undefined ? undefined : target as { bytes: LineBuffer; time(): string };
}

export function registerDirectLines(log: Logger, sink: { write(line: string): boolean; lineBuffer?: LineBuffer }, time: () => string): void {
  const none = new Uint8Array(0);
  const head: LineHead = { prefixes: ['', ''], prefixBytes: [none, none], time: '', timeBytes: none, bindings: '', tailBytes: none };
  DIRECT.set(log, { write: (line) => sink.write(line), time, bytes: sink.lineBuffer, head });
}

const { lsCacheSym, chindingsSym } = pino.symbols as unknown as { lsCacheSym: symbol; chindingsSym: symbol };
const LEVEL_VALUES = { info: 30, warn: 40 } as const;

/**
 * Writes `record` as pino would (fields with an undefined value skipped, non-finite numbers as null, `msg` last);
 * false when `log` is not a registered logger or a field holds what JSON.stringify cannot serialise (a cycle, a BigInt,
 * a symbol) (the caller then logs through pino).
 */
export function writeAccessLine(log: Logger, level: 'info' | 'warn', record: Readonly<Record<string, unknown>>, msg: string, time?: string): boolean {
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
  target.write(`${prefix}${time ?? target.time()}${bindings},"event":"access"${fields},"msg":${jsonString(msg)}}\n`);
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
  return plainAscii(str) ? `"${str}"` : JSON.stringify(str);
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
 * The proxy's access record (proxy/filters/access-log.ts) with a fixed shape, so that one object can be reused for
 * every request. Its line has the fields of the AccessRecord the filter builds otherwise, in the same order:
 * requestId, method, path, status, bytesIn, bytesOut, durationMs, clientAddress, protocol (`HTTP/` + httpVersion),
 * then upstreamMs, cacheStatus, tries and error when defined.
 */
export interface ProxyAccessFields extends Pick<AccessRecord, 'requestId' | 'method' | 'path' | 'status' | 'bytesIn' | 'bytesOut' | 'durationMs'> {
  clientAddress: string;
  httpVersion: string;
  upstreamMs: number | undefined;
  cacheStatus: string | undefined;
  tries: readonly object[] | undefined;
  error: string | undefined;
}

/**
 * The proxy's access line written byte by byte into the regular-file writer's buffer (file-line-writer.ts): the
 * same bytes writeAccessLine's string would encode to, without the record object, the line string, its pieces and
 * its UTF-8 encoding per request (issue 18: those and the scavenges their garbage costs were most of the access
 * log's ~47 k instructions a request). Printable ASCII strings are copied as they are (what pino's escaping leaves
 * alone); any other string goes through jsonString and Buffer#write. False when `log` is not registered, its
 * destination is not the file writer, or the line could exceed the writer's buffer: the caller then logs the
 * record through logAccess. The caller has checked that the line's level (warn for a status of 500 or more or an
 * error, else info) is enabled: the filter does, before it gathers the fields (pino's isLevelEnabled is ~300
 * instructions, not to be paid twice a request).
 */
export function writeProxyAccessLine(log: Logger, f: Readonly<ProxyAccessFields>, time?: string): boolean {
  const target = DIRECT.get(log);
  if (target === undefined || target.bytes === undefined) return false;
  const level = f.status >= 500 || f.error !== undefined ? 'warn' : 'info';
  let tries: string | undefined;
  // The routing tries (upstream-tries.ts TryRecord) are written field by field when they have that shape; the
  // bound on their bytes, -1 otherwise (then as JSON text, below)
  const triesMax = f.tries === undefined ? 0 : tryRecordsBound(f.tries);
  if (f.tries !== undefined && triesMax < 0) {
    tries = plainJson(f.tries, 0);
    if (tries === undefined) {
      try { tries = JSON.stringify(f.tries); } catch { return false; } // as writeAccessLine: pino's stringify
    }
  }
  const head = lineHead(log, target, level === 'info' ? 0 : 1, time ?? target.time());
  // UTF-8 takes at most 3 bytes per UTF-16 unit, an escape (\u001f) 6 characters; method and path are also in msg
  const strings = f.requestId.length + 2 * (f.method.length + f.path.length) + f.clientAddress.length + f.httpVersion.length
    + (f.cacheStatus?.length ?? 0) + (f.error?.length ?? 0);
  const prefix = head.prefixBytes[level === 'info' ? 0 : 1];
  const max = prefix.length + head.timeBytes.length + head.tailBytes.length + 3 * (tries?.length ?? 0) + Math.max(triesMax, 0) + 6 * strings + 512;
  const bytes = target.bytes;
  let o = bytes.reserve(max);
  if (o < 0) return false;
  const buf = bytes.buf;
  // constant parts copied whole (TypedArray#set: ~380 instructions for 30 bytes, a per-character loop ~1 200)
  o = putBytes(buf, o, prefix);
  o = putBytes(buf, o, head.timeBytes);
  o = putBytes(buf, o, head.tailBytes);
  o = putString(buf, o, f.requestId);
  o = putBytes(buf, o, K_METHOD);
  const method = o;
  o = putString(buf, o, f.method);
  const methodEnd = o;
  o = putBytes(buf, o, K_PATH);
  const path = o;
  o = putString(buf, o, f.path);
  const pathEnd = o;
  o = putBytes(buf, o, K_STATUS);
  o = putNumber(buf, o, f.status);
  o = putBytes(buf, o, K_BYTES_IN);
  o = putNumber(buf, o, f.bytesIn);
  o = putBytes(buf, o, K_BYTES_OUT);
  o = putNumber(buf, o, f.bytesOut);
  o = putBytes(buf, o, K_DURATION);
  o = putNumber(buf, o, f.durationMs);
  o = putBytes(buf, o, K_CLIENT);
  o = putString(buf, o, f.clientAddress);
  if (f.httpVersion === '1.1') {
    o = putBytes(buf, o, K_PROTOCOL_11);
  } else if (plainAscii(f.httpVersion)) {
    o = putBytes(buf, o, K_PROTOCOL_HTTP);
    o = putAscii(buf, o, f.httpVersion);
    buf[o++] = 0x22; // "
  } else {
    o = putBytes(buf, o, K_PROTOCOL);
    o = putString(buf, o, `HTTP/${f.httpVersion}`);
  }
  if (f.upstreamMs !== undefined) { o = putBytes(buf, o, K_UPSTREAM); o = putNumber(buf, o, f.upstreamMs); }
  if (f.cacheStatus !== undefined) { o = putBytes(buf, o, K_CACHE); o = putString(buf, o, f.cacheStatus); }
  if (tries !== undefined) { o = putBytes(buf, o, K_TRIES); o = putText(buf, o, tries); }
  else if (triesMax > 0) { o = putBytes(buf, o, K_TRIES); o = putTryRecords(buf, o, f.tries as readonly TryFields[]); }
  if (f.error !== undefined) { o = putBytes(buf, o, K_ERROR); o = putString(buf, o, f.error); }
  o = putBytes(buf, o, K_MSG);
  o = putMsg(buf, o, f, method, methodEnd, path, pathEnd);
  buf[o++] = 0x7d; // }
  buf[o++] = 0x0a; // \n
  bytes.commit(o);
  return true;
}

/**
 * The AccessRecord for these fields, for a logger whose line is not written here (writeProxyAccessLine answered
 * false): the same fields in the same order, optional ones only when present.
 */
export function accessRecordOf(f: Readonly<ProxyAccessFields>): AccessRecord {
  const record: AccessRecord = {
    requestId: f.requestId, method: f.method, path: f.path, status: f.status, bytesIn: f.bytesIn, bytesOut: f.bytesOut,
    durationMs: f.durationMs, clientAddress: f.clientAddress, protocol: `HTTP/${f.httpVersion}`,
  };
  if (f.upstreamMs !== undefined) record.upstreamMs = f.upstreamMs;
  if (f.cacheStatus !== undefined) record.cacheStatus = f.cacheStatus;
  if (f.tries !== undefined) record.tries = f.tries;
  if (f.error !== undefined) record.error = f.error;
  return record;
}

/**
 * msg, `${method} ${path} ${status}` escaped as one string: plain when both are (status: digits), and then their
 * bytes are already in the buffer, between their quotes at [method, methodEnd) and [path, pathEnd) (one byte per
 * character: nothing was escaped), so they are copied from there.
 */
function putMsg(buf: Buffer, o: number, f: Readonly<ProxyAccessFields>, method: number, methodEnd: number, path: number, pathEnd: number): number {
  if (methodEnd - method !== f.method.length + 2 || pathEnd - path !== f.path.length + 2 || !isDigits(f.status)) {
    return putString(buf, o, `${f.method} ${f.path} ${f.status}`);
  }
  buf.copyWithin(o, method, methodEnd - 1); // `"GET`
  o += methodEnd - 1 - method;
  buf[o++] = 0x20;
  buf.copyWithin(o, path + 1, pathEnd - 1);
  o += pathEnd - 2 - path;
  buf[o++] = 0x20;
  o = putNumber(buf, o, f.status);
  buf[o++] = 0x22;
  return o;
}

/** A routing try as upstream-tries.ts records it, in its key order; `status` absent or undefined without an answer. */
interface TryFields { target: string; outcome: string; status?: number | undefined; ms: number }

const TRY_KEYS = ['target', 'outcome', 'status', 'ms'] as const;

/**
 * The most bytes `putTryRecords` writes for `tries`, or -1 when one is not a plain object with TryFields' keys in
 * their order and types (JSON.stringify would then write something else). JSON.stringify of a one-try list through
 * plainJson and putText was about a tenth of the line's cost in the server's profile (perf, 999 Hz).
 */
function tryRecordsBound(tries: readonly object[]): number {
  if (!Array.isArray(tries)) return -1;
  let bound = 2;
  for (const t of tries) {
    if (typeof t !== 'object' || t === null || Object.getPrototypeOf(t) !== Object.prototype) return -1;
    let k = 0;
    for (const key in t) {
      while (k < TRY_KEYS.length && TRY_KEYS[k] !== key) k++;
      if (k === TRY_KEYS.length) return -1; // unknown key, or out of order
      k++;
    }
    const r = t as Partial<TryFields>;
    if (typeof r.target !== 'string' || typeof r.outcome !== 'string' || typeof r.ms !== 'number') return -1;
    if (r.status !== undefined && typeof r.status !== 'number') return -1;
    bound += 6 * (r.target.length + r.outcome.length) + 96;
  }
  return bound;
}

function putTryRecords(buf: Buffer, o: number, tries: readonly TryFields[]): number {
  buf[o++] = 0x5b; // [
  for (let i = 0; i < tries.length; i++) {
    const t = tries[i]!;
    if (i > 0) buf[o++] = 0x2c; // ,
    o = putBytes(buf, o, K_TRY_TARGET);
    o = putNestedString(buf, o, t.target);
    o = putBytes(buf, o, K_TRY_OUTCOME);
    o = putNestedString(buf, o, t.outcome);
    if (t.status !== undefined) { o = putBytes(buf, o, K_TRY_STATUS); o = putNumber(buf, o, t.status); }
    o = putBytes(buf, o, K_TRY_MS);
    o = putNumber(buf, o, t.ms);
    buf[o++] = 0x7d; // }
  }
  buf[o++] = 0x5d; // ]
  return o;
}

const K_TRY_TARGET = ascii('{"target":');
const K_TRY_OUTCOME = ascii(',"outcome":');
const K_TRY_STATUS = ascii(',"status":');
const K_TRY_MS = ascii(',"ms":');
const K_METHOD = ascii(',"method":');
const K_PATH = ascii(',"path":');
const K_STATUS = ascii(',"status":');
const K_BYTES_IN = ascii(',"bytesIn":');
const K_BYTES_OUT = ascii(',"bytesOut":');
const K_DURATION = ascii(',"durationMs":');
const K_CLIENT = ascii(',"clientAddress":');
const K_PROTOCOL = ascii(',"protocol":');
const K_PROTOCOL_HTTP = ascii(',"protocol":"HTTP/');
const K_PROTOCOL_11 = ascii(',"protocol":"HTTP/1.1"');
const K_UPSTREAM = ascii(',"upstreamMs":');
const K_CACHE = ascii(',"cacheStatus":');
const K_TRIES = ascii(',"tries":');
const K_ERROR = ascii(',"error":');
const K_MSG = ascii(',"msg":');

/**
 * The head's parts for the current level prefix, time and bindings (read from pino as writeAccessLine does),
 * re-encoded only where the string changed. Encoding the whole head anew each millisecond (Buffer.from, a copy)
 * cost ~8 000 instructions: a line each millisecond or slower (a proxy under light load, or under callgrind)
 * paid it every time.
 */
function lineHead(log: Logger, target: LineTarget, levelIndex: 0 | 1, time: string): LineHead {
  const head = target.head;
  const prefix = (log as unknown as Record<symbol, Record<number, string>>)[lsCacheSym]![levelIndex === 0 ? LEVEL_VALUES.info : LEVEL_VALUES.warn]!;
  if (head.prefixes[levelIndex] !== prefix) {
    head.prefixes[levelIndex] = prefix;
    head.prefixBytes[levelIndex] = new Uint8Array(Buffer.from(prefix));
  }
  const bindings = (log as unknown as Record<symbol, string>)[chindingsSym]!;
  if (head.bindings !== bindings) {
    head.bindings = bindings;
    head.tailBytes = new Uint8Array(Buffer.from(`${bindings},"event":"access","requestId":`));
  }
  if (head.time !== time) {
    head.time = time;
    // ASCII (pino's ISO time) of the same length from one millisecond to the next: written into the same bytes
    if (head.timeBytes.length !== time.length) head.timeBytes = new Uint8Array(time.length);
    const t = head.timeBytes;
    for (let i = 0; i < time.length; i++) {
      const c = time.charCodeAt(i);
      if (c > 0x7f) { head.timeBytes = new Uint8Array(Buffer.from(time)); break; } // another time function's text
      t[i] = c;
    }
  }
  return head;
}
