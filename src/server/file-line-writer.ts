/**
 * @module The log destination when stdout is a regular file (`ferry proxy … > access.log`, how users run it): lines
 * encoded once into one buffer and written with one synchronous write(2) per batch, like nginx's
 * `access_log … buffer= flush=`.
 *
 * Why not sonic-boom there (issue 18, measured with callgrind, docs/performance.md): its asynchronous write goes
 * through libuv's thread pool (a futex wake, a context switch to a pool thread and back, an eventfd and an epoll
 * wake-up per batch: 2.8 futex calls per batch under strace, on the proxy's own core when it is pinned), and each
 * batch's bytes are scanned or encoded four times (Buffer.byteLength in the batcher and in sonic-boom, the string's
 * encoding in fs.write, Buffer.from again after the write). Here a line costs one UTF-8 encoding into the buffer,
 * and a batch one write(2) from the main thread. A write to a regular file takes the page cache and does not wait
 * for a reader: unlike a pipe, nothing can leave it pending, so there is no queue and memory stays one buffer
 * whatever happens. The trade-off (nginx's too): a disk that stalls the write(2) itself (a hung network mount)
 * stalls the event loop. A failed write (ENOSPC, EIO) drops that batch's lines; they are counted and reported once a
 * write succeeds again. Pipes, terminals and sockets keep the asynchronous path (line-batcher.ts), where a reader
 * that stops is answered with a bounded buffer and dropped lines.
 */
import { fstatSync, writeSync } from 'node:fs';
import { flushAtExit, type LineBatcher } from './line-batcher.ts';

/**
 * A line written straight into the writer's buffer (server/access-line.ts: the access line, issue 18), without a
 * string built for it and then encoded: `reserve`, write the bytes into `buf` from the offset it returned, `commit`.
 * Nothing else may write to the writer in between (all of it is synchronous).
 */
export interface LineBuffer {
  /** The buffer lines are written into (the same one for the writer's life). */
  readonly buf: Buffer;
  /**
   * The offset to write a line of at most `maxBytes` bytes at (the pending batch written first when it would not
   * fit), or -1 when no line that large fits in the buffer: the caller then writes it as a string.
   */
  reserve(maxBytes: number): number;
  /** The line written from reserve's offset ends at `end` (its newline included). */
  commit(end: number): void;
  /**
   * Lines held elsewhere (server/access-line-queue.ts: the proxy's lines queued as fields): `produce` is called
   * once, to write them through reserve and commit, before any other line is written and before the pending batch
   * goes out, which is within flushMs. Lines stay in the order they were logged in.
   */
  defer(produce: () => void): void;
}

export type FileLineWriter = LineBatcher & { readonly lineBuffer: LineBuffer };

export interface FileLineWriterOptions {
  /** A batch is written once this many bytes are pending. */
  batchBytes: number;
  /** No line waits longer than this. */
  flushMs: number;
  /** Called with the number of lines a failed write lost, after the next write that succeeded. */
  reportDropped?: (lines: number) => void;
}

/** True when `fd` is a regular file (where this writer is used). */
export function isRegularFile(fd: number): boolean {
  try { return fstatSync(fd).isFile(); } catch { return false; }
}

/** Room kept in the buffer beyond the batch size, so a line of up to this many bytes never needs a second write. */
const HEADROOM = 16 * 1024;

// Long by design: one writer object (write, reserve and commit, defer, drain, the drop accounting) over one buffer
// and its state, kept private here.
export function createFileLineWriter(fd: number, options: FileLineWriterOptions): FileLineWriter {
  const { batchBytes, flushMs, reportDropped } = options;
  const buf = Buffer.allocUnsafeSlow(batchBytes + HEADROOM);
  let used = 0;
  let lines = 0;
  let dropped = 0;
  let timer: NodeJS.Timeout | null = null;
  /** What `defer` was given since the last time lines were produced (swapped out before they run: no re-entry). */
  let deferred: Array<() => void> = [];
  const produceDeferred = (): void => {
    if (deferred.length === 0) return;
    const producers = deferred;
    deferred = [];
    for (const produce of producers) produce();
  };

  /** Writes `data` whole (a short write is continued); false when the file refused it. */
  const writeAll = (data: Buffer, length: number): boolean => {
    try {
      for (let off = 0; off < length;) off += writeSync(fd, data, off, length - off);
      return true;
    } catch {
      return false;
    }
  };

  const drain = (): void => {
    if (timer !== null) { clearTimeout(timer); timer = null; }
    produceDeferred();
    if (used === 0) return;
    const ok = writeAll(buf, used);
    const n = lines;
    used = 0;
    lines = 0;
    if (!ok) { dropped += n; return; }
    if (dropped > 0) {
      const lost = dropped;
      dropped = 0;
      reportDropped?.(lost); // a line like any other: it lands in the next batch
    }
  };

  /** A line is in the buffer up to `end`: the batch goes out once full, else within flushMs (one timer per batch). */
  const added = (end: number): void => {
    used = end;
    lines++;
    if (used >= batchBytes) drain();
    else if (timer === null) timer = setTimeout(drain, flushMs).unref();
  };

  const writer: FileLineWriter = {
    write(line) {
      produceDeferred();
      // a UTF-16 code unit takes at most 3 bytes in UTF-8
      if (used + line.length * 3 > buf.length) {
        drain();
        if (line.length * 3 > buf.length) { // a line larger than the buffer: written on its own
          const big = Buffer.from(line);
          if (!writeAll(big, big.length)) dropped++;
          return true;
        }
      }
      added(used + buf.write(line, used));
      return true;
    },
    lineBuffer: {
      buf,
      reserve(maxBytes) {
        produceDeferred();
        if (used + maxBytes <= buf.length) return used;
        drain();
        return used + maxBytes <= buf.length ? used : -1; // (drain may have added a log-dropped line: `used` read after it)
      },
      commit: added,
      defer(produce) {
        deferred.push(produce);
        if (timer === null) timer = setTimeout(drain, flushMs).unref();
      },
    },
    flushSync: drain,
    drain,
    flush(cb) {
      drain();
      cb();
    },
  };
  flushAtExit(drain); // lines still pending at exit
  return writer;
}
