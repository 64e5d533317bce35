/**
 * @module The request inspector: the last N finished requests in a ring (bounded memory: N entries, each holding
 * the request's strings and its two heads' names and values, themselves bounded by --max-header-size). Pure; no I/O.
 * Heads are redacted (redact.ts) only when rows leave the process.
 *
 * The ring is made once, in columns (numbers in one Float64Array, strings in arrays, each head's names and values in
 * one flat array per slot that is reused), and a recorded request is copied into it: what it keeps alive of the
 * request is its strings alone, not the record, the head lists and their [name, value] pairs. Every entry lives for
 * N requests, longer than V8's young generation holds garbage under load (the new space is capped at 16 MiB:
 * server/young-generation.ts), so each one was copied by one or two scavenges and often promoted; those copies were
 * three quarters of what each scavenge found alive (`--trace-gc-nvp` new_space_survived: 349 → 85 KB per scavenge
 * with the inspector off; docs/performance.md, fourth round).
 */
import type { HeaderList } from '../http/headers.ts';
import { redactHeaders, redactTarget } from './redact.ts';

export const DEFAULT_INSPECTOR_SIZE = 200;
export const MAX_INSPECTOR_SIZE = 10_000;

export interface InspectedRequest {
  /** Request id (X-Request-Id). */
  id: string;
  /** Wall clock at accept, ms since the epoch. */
  startedAt: number;
  method: string;
  /** The request-target as the client sent it. */
  target: string;
  httpVersion: string;
  /** 0: no response was sent. */
  status: number;
  durationMs: number;
  bytesIn: number;
  bytesOut: number;
  /** Upstream origin (`http://host:port`), '' when none was chosen (local answer). */
  upstream: string;
  /** Cache result (cache-status.ts cacheResultOf), '' without a cache. */
  cache: string;
  /** FerryError code when the request failed, else ''. */
  error: string;
  requestHeaders: HeaderList;
  /** null when no response head was sent. */
  responseHeaders: HeaderList | null;
}

/** One row as sent to the page: every field, heads redacted, plus a sequence number. */
export type InspectorRow = Omit<InspectedRequest, 'requestHeaders' | 'responseHeaders'> & {
  seq: number;
  requestHeaders: HeaderList;
  responseHeaders: HeaderList | null;
};

export interface Inspector {
  readonly size: number;
  record(r: InspectedRequest): void;
  /** Sequence number of the last recorded request (0 before any). */
  lastSeq(): number;
  /** Rows with seq > `after`, oldest first, at most `size`, redacted. */
  rowsSince(after: number): InspectorRow[];
}

export function createInspector(size: number, redact: ReadonlySet<string>): Inspector {
  if (!Number.isInteger(size) || size < 1 || size > MAX_INSPECTOR_SIZE) throw new RangeError(`inspector size must be 1..${MAX_INSPECTOR_SIZE}`);
  const ring = createRing(size);
  let seq = 0;
  return {
    size,
    record(r) {
      seq++;
      ring.put(seq % size, r);
    },
    lastSeq: () => seq,
    rowsSince(after) {
      const from = Math.max(after + 1, seq - size + 1, 1);
      const out: InspectorRow[] = [];
      for (let s = from; s <= seq; s++) out.push(ring.row(s % size, s, redact));
      return out;
    },
  };
}

/** Numbers per slot in the ring's Float64Array: startedAt, status, durationMs, bytesIn, bytesOut. */
const NUMBERS = 5;
const STRINGS = ['id', 'method', 'target', 'httpVersion', 'upstream', 'cache', 'error'] as const;

/** The inspector's storage (see the module comment): `put` copies a request in, `row` reads one back, redacted. */
function createRing(size: number): { put(slot: number, r: InspectedRequest): void; row(slot: number, seq: number, redact: ReadonlySet<string>): InspectorRow } {
  const numbers = new Float64Array(size * NUMBERS);
  const strings = new Array<string>(size * STRINGS.length).fill('');
  /** Per slot: the request head's names and values, flat; the response head's follow them (`split` is where). */
  const heads = Array.from({ length: size }, () => [] as string[]);
  const used = new Int32Array(size);
  /** Where the response head starts in the slot's flat array; -1: no response head was sent (null). */
  const split = new Int32Array(size);
  const copyHead = (flat: string[], at: number, head: HeaderList): number => {
    for (const h of head) { flat[at++] = h[0]; flat[at++] = h[1]; }
    return at;
  };
  const readHead = (flat: string[], from: number, to: number, redact: ReadonlySet<string>): HeaderList => {
    const list: Array<[string, string]> = [];
    for (let i = from; i < to; i += 2) list.push([flat[i]!, flat[i + 1]!]);
    return redactHeaders(list, redact);
  };
  return {
    put(slot, r) {
      const n = slot * NUMBERS;
      numbers[n] = r.startedAt; numbers[n + 1] = r.status; numbers[n + 2] = r.durationMs; numbers[n + 3] = r.bytesIn; numbers[n + 4] = r.bytesOut;
      const s = slot * STRINGS.length;
      strings[s] = r.id; strings[s + 1] = r.method; strings[s + 2] = r.target; strings[s + 3] = r.httpVersion;
      strings[s + 4] = r.upstream; strings[s + 5] = r.cache; strings[s + 6] = r.error;
      const flat = heads[slot]!;
      const mid = copyHead(flat, 0, r.requestHeaders);
      const end = r.responseHeaders === null ? mid : copyHead(flat, mid, r.responseHeaders);
      // the previous occupant's longer heads: not kept alive by this slot
      for (let i = end; i < used[slot]!; i++) flat[i] = '';
      used[slot] = end;
      split[slot] = r.responseHeaders === null ? -1 : mid;
    },
    row(slot, seq, redact) {
      const n = slot * NUMBERS;
      const s = slot * STRINGS.length;
      const flat = heads[slot]!;
      const mid = split[slot]!;
      // the fields in InspectedRequest's order, then seq (as the spread of a stored record gave them)
      return {
        id: strings[s]!, startedAt: numbers[n]!, method: strings[s + 1]!, target: redactTarget(strings[s + 2]!), httpVersion: strings[s + 3]!,
        status: numbers[n + 1]!, durationMs: numbers[n + 2]!, bytesIn: numbers[n + 3]!, bytesOut: numbers[n + 4]!,
        upstream: strings[s + 4]!, cache: strings[s + 5]!, error: strings[s + 6]!,
        requestHeaders: readHead(flat, 0, mid === -1 ? used[slot]! : mid, redact),
        responseHeaders: mid === -1 ? null : readHead(flat, mid, used[slot]!, redact),
        seq,
      };
    },
  };
}
