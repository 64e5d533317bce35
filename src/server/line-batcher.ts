/**
 * @module Log lines gathered into batches before they reach sonic-boom, like nginx's `access_log … buffer= flush=`.
 *
 * sonic-boom appends each write to its last pending string and measures that whole string with Buffer.byteLength
 * every time, so with lines arriving one by one each line cost a scan of up to 16 KiB (~5 µs of a ~60 µs proxied
 * request with the access log on). Here a line costs an array push; sonic-boom sees one write per batch.
 */
import { writeSync } from 'node:fs';

/** The part of a sonic-boom destination used here. */
export interface LineSink {
  write(data: string): boolean;
  flushSync(): void;
  readonly destroyed?: boolean;
}

export interface LineBatcher {
  /** pino calls this once per line. */
  write(line: string): boolean;
  /** Hands the pending lines on at once and writes everything out synchronously (pino calls it on fatal). */
  flushSync(): void;
  /** Hands the pending lines to the sink (which writes them asynchronously). */
  drain(): void;
}

/**
 * `batchChars`: a batch goes out once this many characters are pending; `flushMs`: no line waits longer than this.
 * `fd`: where the last lines go if the sink was already closed when the process exits.
 */
/**
 * Lines still pending at exit. pino's own exit hook flushes sonic-boom synchronously, but it may run before or after
 * this one (it is registered with the process's first destination), so a sink already closed is bypassed. One
 * listener for all batchers: a process may create several loggers.
 */
const atExit = new Set<() => void>();
process.on('exit', () => { for (const flush of atExit) flush(); });

export function createLineBatcher(sink: LineSink, batchChars: number, flushMs: number, fd: number): LineBatcher {
  let pending: string[] = [];
  let chars = 0;
  let timer: NodeJS.Timeout | null = null;

  const drain = (): void => {
    if (timer !== null) { clearTimeout(timer); timer = null; }
    if (chars === 0) return;
    const batch = pending.join('');
    pending = [];
    chars = 0;
    sink.write(batch);
  };

  const exitFlush = (): void => {
    if (chars === 0) return;
    const batch = pending.join('');
    pending = [];
    chars = 0;
    if (sink.destroyed) {
      try { writeSync(fd, batch); } catch { /* nowhere left to report it */ }
      return;
    }
    sink.write(batch);
    sink.flushSync();
  };
  atExit.add(exitFlush);

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
  };
}
