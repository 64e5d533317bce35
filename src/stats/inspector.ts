/**
 * @module The request inspector: the last N finished requests in a ring (bounded memory: N entries, each holding
 * references to the request and response heads, themselves bounded by --max-header-size). Pure; no I/O. Heads are
 * redacted (redact.ts) only when rows leave the process, so the per-request cost is one small object.
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
  const ring: Array<InspectedRequest | undefined> = new Array(size);
  let seq = 0;
  return {
    size,
    record(r) {
      seq++;
      ring[seq % size] = r;
    },
    lastSeq: () => seq,
    rowsSince(after) {
      const from = Math.max(after + 1, seq - size + 1, 1);
      const out: InspectorRow[] = [];
      for (let s = from; s <= seq; s++) {
        const r = ring[s % size]!;
        out.push({
          ...r,
          seq: s,
          target: redactTarget(r.target),
          requestHeaders: redactHeaders(r.requestHeaders, redact),
          responseHeaders: r.responseHeaders === null ? null : redactHeaders(r.responseHeaders, redact),
        });
      }
      return out;
    },
  };
}
