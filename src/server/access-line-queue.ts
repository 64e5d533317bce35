/**
 * @module The proxy's access lines queued as fields and serialised together, when the file writer's batch goes out
 * (issue 18: the access log, on by default, against `--log-level warn`).
 *
 * Serialising a line where it is logged runs the line builder once between two requests, with its code and
 * constants gone cold from the CPU's caches: `bench/ab.ts` read 0.966 of the CPU per small request when the same
 * lines were built up to 64 at a time (docs/performance.md, sixth round). Per request the filter's record (a new one
 * each time; its strings and the tries list by reference) is held until the batch goes out; the file writer
 * (file-line-writer.ts `defer`) asks for the lines before it writes anything else and within its flush interval,
 * so the order of the log's lines and their bounded delay are unchanged. Each line keeps the time it was logged at.
 * A full queue is serialised at once: memory stays SLOTS records per logger.
 */
import type { Logger } from 'pino';
import { accessRecordOf, directLineBuffer, writeProxyAccessLine, type ProxyAccessFields } from './access-line.ts';
import { logAccess } from './access-log.ts';
import type { LineBuffer } from './file-line-writer.ts';

const SLOTS = 64;

interface QueuedLine {
  readonly fields: Readonly<ProxyAccessFields>;
  /** pino's time field when the line was logged (`,"time":…`). */
  readonly time: string;
}

interface LineQueue {
  /** A new array per batch: young like the records it holds (no write barrier per line; see the module comment). */
  lines: QueuedLine[];
  /** The writer holds `produce` (given to `defer`) and will call it. */
  registered: boolean;
  /** The file writer's buffer and the logger's clock (access-line.ts directLineBuffer). */
  readonly target: { readonly bytes: LineBuffer; time(): string };
  readonly produce: () => void;
}

const QUEUES = new WeakMap<Logger, LineQueue>();

/**
 * Queues the proxy's line for `f`, which must not change afterwards (the caller makes a record per request); false
 * when `log` does not write to the file writer (writeProxyAccessLine's condition): the caller then logs the record
 * as it is. As for writeProxyAccessLine, the caller has checked that the line's level is enabled.
 */
export function queueProxyAccessLine(log: Logger, f: Readonly<ProxyAccessFields>): boolean {
  let q = QUEUES.get(log);
  if (q === undefined) {
    const made = newQueue(log);
    if (made === undefined) return false;
    q = made;
    QUEUES.set(log, q);
  }
  const n = q.lines.push({ fields: f, time: q.target.time() });
  if (n === SLOTS) serialize(log, q);
  else if (!q.registered) {
    q.registered = true;
    q.target.bytes.defer(q.produce);
  }
  return true;
}

function newQueue(log: Logger): LineQueue | undefined {
  const target = directLineBuffer(log);
  if (target === undefined) return undefined;
  const q: LineQueue = {
    lines: [], registered: false, target,
    produce: () => { q.registered = false; serialize(log, q); },
  };
  return q;
}

/**
 * The queued lines written in their order. The batch is taken first: writing may ask the writer to produce its
 * deferred lines (reserve, write), which may be this queue's own.
 */
function serialize(log: Logger, q: LineQueue): void {
  const lines = q.lines;
  if (lines.length === 0) return;
  q.lines = [];
  for (let i = 0; i < lines.length; i++) {
    const { fields, time } = lines[i]!;
    // a line that does not fit the writer's buffer, or tries the writer cannot take byte by byte: as a string
    if (!writeProxyAccessLine(log, fields, time)) logAccess(log, accessRecordOf(fields), time);
  }
}
