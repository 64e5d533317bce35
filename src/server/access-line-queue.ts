/**
 * @module The proxy's access lines queued as fields and serialised together, when the file writer's batch goes out
 * (issue 18: the access log, on by default, against `--log-level warn`).
 *
 * Serialising a line where it is logged runs the line builder once between two requests, with its code and
 * constants gone cold from the CPU's caches: `bench/ab.ts` read ~1.6 % of the CPU per small request less when the
 * same lines were built 64 at a time (docs/performance.md, sixth round). Per request the fields are copied into a
 * slot (their values: strings and the tries list by reference, held at most until the batch goes out); the file
 * writer (file-line-writer.ts `defer`) asks for the lines before it writes anything else and within its flush
 * interval, so the order of the log's lines and their bounded delay are unchanged. Each line keeps the time it was
 * logged at. A full queue is serialised at once: memory stays SLOTS records per logger.
 */
import type { Logger } from 'pino';
import { accessRecordOf, directLineBuffer, writeProxyAccessLine, type ProxyAccessFields } from './access-line.ts';
import { logAccess } from './access-log.ts';
import type { LineBuffer } from './file-line-writer.ts';

const SLOTS = 64;

interface QueuedLine extends ProxyAccessFields {
  /** pino's time field when the line was logged (`,"time":…`). */
  time: string;
}

interface LineQueue {
  readonly slots: QueuedLine[];
  n: number;
  /** The writer holds `produce` (given to `defer`) and will call it. */
  registered: boolean;
  readonly bytes: LineBuffer;
  readonly time: () => string;
  readonly produce: () => void;
}

const QUEUES = new WeakMap<Logger, LineQueue>();

/**
 * Queues the proxy's line for `f` (copied: `f` may be reused at once); false when `log` does not write to the file
 * writer (writeProxyAccessLine's condition): the caller then logs the record as it is. As for writeProxyAccessLine,
 * the caller has checked that the line's level is enabled.
 */
export function queueProxyAccessLine(log: Logger, f: Readonly<ProxyAccessFields>): boolean {
  let q = QUEUES.get(log);
  if (q === undefined) {
    const made = newQueue(log);
    if (made === undefined) return false;
    q = made;
    QUEUES.set(log, q);
  }
  const slot = q.slots[q.n++]!;
  slot.requestId = f.requestId;
  slot.method = f.method;
  slot.path = f.path;
  slot.status = f.status;
  slot.bytesIn = f.bytesIn;
  slot.bytesOut = f.bytesOut;
  slot.durationMs = f.durationMs;
  slot.clientAddress = f.clientAddress;
  slot.httpVersion = f.httpVersion;
  slot.upstreamMs = f.upstreamMs;
  slot.cacheStatus = f.cacheStatus;
  slot.tries = f.tries;
  slot.error = f.error;
  slot.time = q.time();
  if (q.n === SLOTS) serialize(log, q);
  else if (!q.registered) {
    q.registered = true;
    q.bytes.defer(q.produce);
  }
  return true;
}

function newQueue(log: Logger): LineQueue | undefined {
  const target = directLineBuffer(log);
  if (target === undefined) return undefined;
  const slots: QueuedLine[] = [];
  for (let i = 0; i < SLOTS; i++) {
    slots.push({
      requestId: '', method: '', path: '', status: 0, bytesIn: 0, bytesOut: 0, durationMs: 0, clientAddress: '', httpVersion: '',
      upstreamMs: undefined, cacheStatus: undefined, tries: undefined, error: undefined, time: '',
    });
  }
  const q: LineQueue = {
    slots, n: 0, registered: false, bytes: target.bytes, time: () => target.time(),
    produce: () => { q.registered = false; serialize(log, q); },
  };
  return q;
}

/**
 * The queued lines written in their order; the slots let go of what they referenced. The count is cleared first:
 * writing may ask the writer to produce its deferred lines (reserve, write), which may be this queue's own.
 */
function serialize(log: Logger, q: LineQueue): void {
  const n = q.n;
  q.n = 0;
  for (let i = 0; i < n; i++) {
    const s = q.slots[i]!;
    // a line that does not fit the writer's buffer, or tries the writer cannot take byte by byte: as a string
    if (!writeProxyAccessLine(log, s, s.time)) logAccess(log, accessRecordOf(s), s.time);
    s.tries = undefined;
    s.error = undefined;
  }
}
