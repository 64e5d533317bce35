/** @module Graceful shutdown on SIGINT/SIGTERM: stop accepting, let in-flight requests finish (bounded), then exit. */
import { armExitWatchdog } from './exit-watchdog.ts';
import type { Logger } from './logger.ts';

export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

export interface Closable {
  /** Stop accepting and resolve when in-flight work has finished. */
  close(): Promise<void>;
  /** Cut whatever is still open (called when the grace period ends). */
  destroy(): void;
}

/** Install the signal handlers once; a second signal exits at once. */
export function onShutdownSignal(log: Logger, target: Closable, graceMs = DEFAULT_SHUTDOWN_GRACE_MS): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ event: 'shutdown', signal }, 'second signal: exiting now');
      exitAfterFlush(log, 1);
    }
    stopping = true;
    log.info({ event: 'shutdown', signal, graceMs }, 'shutting down: no new connections, finishing in-flight requests');
    const timer = setTimeout(() => {
      log.warn({ event: 'shutdown', graceMs }, 'grace period over: closing remaining connections');
      target.destroy();
    }, graceMs);
    timer.unref();
    target.close().then(
      () => { log.info({ event: 'shutdown' }, 'stopped'); exitAfterFlush(log, 0); },
      (err: unknown) => { log.error({ event: 'shutdown', err }, 'error while stopping'); exitAfterFlush(log, 1); },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

/**
 * The log destination is asynchronous and batched (server/logger): wait until what is buffered or in flight has
 * been written, so the last lines come out complete and in order; exit anyway after FLUSH_WAIT_MS.
 */
const FLUSH_WAIT_MS = 1_000;

function exitAfterFlush(log: Logger, code: number): void {
  const exit = () => { armExitWatchdog(); process.exit(code); };
  setTimeout(exit, FLUSH_WAIT_MS).unref();
  try {
    log.flush((err?: Error) => { if (err) exit(); else setImmediate(exit); });
  } catch {
    exit();
  }
}
