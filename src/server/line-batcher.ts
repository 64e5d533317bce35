/**
 * @module Log lines gathered into batches before they reach sonic-boom, like nginx's `access_log … buffer= flush=`.
 *
 * sonic-boom appends each write to its last pending string and measures that whole string with Buffer.byteLength
 * every time, so with lines arriving one by one each line cost a scan of up to 16 KiB (4.4 µs a line in a loop
 * against 2.0 µs batched; ~3 µs of a ~65 µs proxied request with the access log on). Here a line costs an array
 * push; sonic-boom sees one write per batch.
 *
 * When the destination stops taking data (a stalled pipe reader), sonic-boom's buffer is capped (its `maxLength`)
 * and what does not fit is dropped rather than held: memory stays bounded whatever the log consumer does. The
 * dropped lines are counted and reported once batches get through again.
 *
 * At process.exit the pending lines are written synchronously, but a batch already in sonic-boom's asynchronous
 * write (libuv's thread pool) cannot be waited for: it may land after them, or be lost if the process is gone first.
 * The CLI exits only once logger.flush has called back (every batch written); an event loop running late (a loaded
 * machine) makes that window wider: the flush timer and the exit then run in the same turn.
 */
import { writeSync } from 'node:fs';

/** The part of a sonic-boom destination used here. */
export interface LineSink {
  write(data: string): boolean;
  flushSync(): void;
  readonly destroyed?: boolean;
  /**
   * sonic-boom emits `drop` with the data it refused (over its maxLength), `write` with the bytes of each completed
   * write, `drain` once all it held is written.
   */
  on?(event: 'drop' | 'drain' | 'write', listener: (...args: any[]) => void): unknown;
}

export interface LineBatcherOptions {
  /** A batch goes out once this many characters are pending. */
  batchChars: number;
  /** No line waits longer than this. */
  flushMs: number;
  /** Where the last lines go if the sink was already closed when the process exits. */
  fd: number;
  /** The sink's own cap (sonic-boom's maxLength), in bytes. */
  capBytes: number;
  /**
   * Called with the number of lines the sink dropped, once there is room again: when the sink has written all it
   * held, or a batch got through with the sink less than half full (so the report is not dropped in turn).
   */
  reportDropped?: (lines: number) => void;
}

export interface LineBatcher {
  /** pino calls this once per line. */
  write(line: string): boolean;
  /** Hands the pending lines on at once and writes everything out synchronously (pino calls it on fatal). */
  flushSync(): void;
  /** Hands the pending lines to the sink (which writes them asynchronously). */
  drain(): void;
  /** Calls back once every line so far is written (pino's logger.flush; the CLI waits for it before exiting). */
  flush(cb: (err?: Error) => void): void;
}

/**
 * Lines still pending at exit. pino's own exit hook flushes sonic-boom synchronously, but it may run before or after
 * this one (it is registered with the process's first destination), so a sink already closed is bypassed. One
 * listener for all batchers: a process may create several loggers.
 */
const atExit = new Set<() => void>();
process.on('exit', () => { for (const flush of atExit) flush(); });

/** Run `flush` when the process exits (every log writer: this batcher and file-line-writer.ts). */
export function flushAtExit(flush: () => void): void {
  atExit.add(flush);
}

// About 80 lines: the batcher object (write, flush, drop accounting) over one buffer and one sink, kept private here.
export function createLineBatcher(sink: LineSink, options: LineBatcherOptions): LineBatcher {
  const { batchChars, flushMs, fd, capBytes, reportDropped } = options;
  let pending: string[] = [];
  let chars = 0;
  let timer: NodeJS.Timeout | null = null;
  let dropped = 0;
  /** Bytes handed to the sink and bytes it has written: equal when nothing waits. */
  let handed = 0;
  let written = 0;
  let waiters: Array<(err?: Error) => void> = [];
  const settle = (): void => {
    if (handed !== written || waiters.length === 0) return;
    const done = waiters;
    waiters = [];
    for (const cb of done) cb();
  };
  sink.on?.('write', (n: number) => { written += n; settle(); });
  sink.on?.('drop', (data: string) => {
    for (let i = data.indexOf('\n'); i !== -1; i = data.indexOf('\n', i + 1)) dropped++;
  });
  const report = (): void => {
    if (dropped === 0) return;
    const lines = dropped;
    dropped = 0;
    reportDropped?.(lines);
  };
  // the destination caught up: say what was lost meanwhile (the report itself is a line like any other)
  sink.on?.('drain', report);

  /** The pending lines as one string; nothing is pending afterwards. */
  const take = (): string => {
    const batch = pending.join('');
    pending = [];
    chars = 0;
    return batch;
  };

  const drain = (): void => {
    if (timer !== null) { clearTimeout(timer); timer = null; }
    if (chars === 0) return;
    const batch = take();
    const before = dropped;
    sink.write(batch);
    if (dropped === before) {
      handed += Buffer.byteLength(batch);
      if (handed - written < capBytes / 2) report();
    }
  };

  const exitFlush = (): void => {
    report();
    if (chars === 0) return;
    const batch = take();
    if (sink.destroyed) {
      try { writeSync(fd, batch); } catch { /* nowhere left to report it */ }
      return;
    }
    sink.write(batch);
    sink.flushSync();
  };
  flushAtExit(exitFlush);

  return {
    write(line) {
      pending.push(line);
      chars += line.length;
      if (chars >= batchChars) drain();
      else if (timer === null) timer = setTimeout(drain, flushMs).unref();
      return true;
    },
    flushSync() {
      drain();
      sink.flushSync();
    },
    drain,
    flush(cb) {
      drain();
      waiters.push(cb);
      settle();
    },
  };
}
