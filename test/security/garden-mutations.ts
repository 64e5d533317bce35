/**
 * @module HTTP Garden-style mutations (narfindustries/http-garden tools/mutations.py, RELIABILITY 1.3) as fast-check
 * arbitraries: byte delete/replace/insert, "meaningful" byte insert, header delete/insert/replace/duplicate, method
 * replacement, case changes, whitespace around the colon, CR/LF variants, chunk-size edits, and request concatenation
 * (boundary shifts) over the Garden's three seed requests. Pure.
 */
import fc from 'fast-check';

export const SEEDS = [
  'GET / HTTP/1.1\r\nHost: a\r\n\r\n',
  'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello',
  'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
] as const;

/** Bytes that mean something to an HTTP/1 parser. */
const MEANINGFUL = ['\r', '\n', '\r\n', '\t', ' ', '\x00', ':', ',', ';', '"', '=', '\x0b', '\x0c', '\x85', '\xa0', '\xff', '0', '1', 'f', 'x', '-', '+', '_', '\\', '/', '?', '#'];
/** Garden's seed header lines plus framing and hop-by-hop variants. */
const HEADERS = [
  'Content-Length: 0', 'Content-Length: 5', 'Content-Length: 05', 'Content-Length: ', 'Transfer-Encoding: chunked',
  'Transfer-Encoding: identity', 'Transfer-Encoding: Chunked', 'Transfer-Encoding: chunked, chunked', ': x', 'Connection: close',
  'Connection: keep-alive', 'Connection: Content-Length', 'Connection: x-a', 'X-A: 1', 'Host: b', 'Expect: 100-continue',
  'TE: trailers', 'Keep-Alive: timeout=5', 'Trailer: x-t', 'Upgrade: h2c', 'Content-Type: text/plain',
];
const METHODS = ['GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'PATCH', 'PURGE', 'get', 'G ET', 'CONNECT', 'TRACE', ''];
const LINE_ENDINGS = ['\n', '\r', '\r\r\n', '\n\r', ' \r\n', '\r\n ', '\r\n\t', ''];

export type Mutation =
  | { op: 'delete' | 'replace' | 'insert' | 'insert-meaningful' | 'case'; pos: number; pick: number }
  | { op: 'delete-header' | 'insert-header' | 'replace-header' | 'duplicate-header' | 'whitespace' | 'line-ending' | 'chunk-size'; pos: number; pick: number }
  | { op: 'replace-method'; pos: number; pick: number };

const OPS = ['delete', 'replace', 'insert', 'insert-meaningful', 'case', 'delete-header', 'insert-header', 'replace-header',
  'duplicate-header', 'whitespace', 'line-ending', 'chunk-size', 'replace-method'] as const;

export const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom(...OPS),
  pos: fc.nat({ max: 1 << 16 }),
  pick: fc.nat({ max: 1 << 16 }),
}) as fc.Arbitrary<Mutation>;

export interface FuzzCase { seed: number; mutations: Mutation[]; then: number | null }

export const caseArb: fc.Arbitrary<FuzzCase> = fc.record({
  seed: fc.nat({ max: SEEDS.length - 1 }),
  mutations: fc.array(mutationArb, { minLength: 1, maxLength: 3 }),
  // a second request behind the first shows boundary shifts (Garden's concatenate / shift-boundary operators)
  then: fc.option(fc.nat({ max: SEEDS.length - 1 }), { nil: null, freq: 3 }),
});

export function payloadOf(c: FuzzCase): string {
  let s: string = SEEDS[c.seed]!;
  for (const m of c.mutations) s = mutate(s, m);
  return c.then === null ? s : s + SEEDS[c.then]!;
}

function headerLines(s: string): { start: number; end: number; lines: string[] } | null {
  const start = s.indexOf('\r\n');
  const end = s.indexOf('\r\n\r\n');
  if (start < 0 || end < start) return null;
  return { start: start + 2, end, lines: end === start ? [] : s.slice(start + 2, end).split('\r\n') };
}

function withHeaders(s: string, h: { start: number; end: number }, lines: string[]): string {
  return s.slice(0, h.start) + lines.join('\r\n') + s.slice(h.end);
}

export function mutate(s: string, m: Mutation): string {
  const at = s.length === 0 ? 0 : m.pos % (s.length + 1);
  switch (m.op) {
    case 'delete': return s.slice(0, at) + s.slice(at + 1);
    case 'replace': return s.slice(0, at) + String.fromCharCode(m.pick % 256) + s.slice(at + 1);
    case 'insert': return s.slice(0, at) + String.fromCharCode(m.pick % 256) + s.slice(at);
    case 'insert-meaningful': return s.slice(0, at) + MEANINGFUL[m.pick % MEANINGFUL.length]! + s.slice(at);
    case 'case': {
      const seg = s.slice(at, at + 1 + (m.pick % 12));
      const flipped = [...seg].map((ch) => (ch === ch.toUpperCase() ? ch.toLowerCase() : ch.toUpperCase())).join('');
      return s.slice(0, at) + flipped + s.slice(at + seg.length);
    }
    case 'replace-method': {
      const sp = s.indexOf(' ');
      return METHODS[m.pick % METHODS.length]! + (sp < 0 ? s : s.slice(sp));
    }
    case 'line-ending': {
      const ends = [...s.matchAll(/\r\n/g)].map((x) => x.index);
      if (ends.length === 0) return s;
      const i = ends[m.pos % ends.length]!;
      return s.slice(0, i) + LINE_ENDINGS[m.pick % LINE_ENDINGS.length]! + s.slice(i + 2);
    }
    case 'chunk-size': {
      const head = s.indexOf('\r\n\r\n');
      if (head < 0) return s;
      const sizes = [...s.slice(head + 4).matchAll(/(?:^|\r\n)([0-9a-fA-F]+)\r\n/g)];
      if (sizes.length === 0) return s;
      const x = sizes[m.pos % sizes.length]!;
      const size = x[1]!;
      const i = head + 4 + x.index + x[0].indexOf(size);
      const n = Number.parseInt(size, 16);
      const variants = [`0${size}`, `${size} `, ` ${size}`, `0x${size}`, `+${size}`, size.toUpperCase(), (n + 1).toString(16), `-${size}`, `${size};x`,
        `${size};x="y"`, `${size}\t`, '', `${size}_0`, (n > 0 ? n - 1 : 0).toString(16), `${'0'.repeat(16)}${size}`, `${size};x=\r`];
      return s.slice(0, i) + variants[m.pick % variants.length]! + s.slice(i + size.length);
    }
  }
  const h = headerLines(s);
  if (h === null) return s;
  const lines = [...h.lines];
  const k = lines.length === 0 ? 0 : m.pos % lines.length;
  const header = HEADERS[m.pick % HEADERS.length]!;
  switch (m.op) {
    case 'delete-header': if (lines.length > 0) lines.splice(k, 1); break;
    case 'insert-header': lines.splice(lines.length === 0 ? 0 : m.pos % (lines.length + 1), 0, header); break;
    case 'replace-header': if (lines.length > 0) lines[k] = header; else lines.push(header); break;
    case 'duplicate-header': if (lines.length > 0) lines.splice(k, 0, lines[k]!); break;
    case 'whitespace': {
      if (lines.length === 0) break;
      const l = lines[k]!;
      const c = l.indexOf(':');
      const ws = [' ', '\t', '  ', '\x0b', '\x0c'][m.pick % 5]!;
      lines[k] = c < 0 ? ws + l : m.pick % 2 === 0 ? l.slice(0, c) + ws + l.slice(c) : l.slice(0, c + 1) + ws + l.slice(c + 1) + ws;
      break;
    }
  }
  return withHeaders(s, h, lines);
}
