/**
 * @module The key file on disk: read it (noting loose permissions), and watch it for replacement. The directory is
 * watched, not the file: an atomic replace (write + rename, what editors and `mv` do) gives the path a new inode that
 * a watch on the old one would never report. Every event in the directory counts, not only those naming the file: a
 * Kubernetes secret volume updates `key.pem -> ..data/key.pem` by swapping the `..data` symlink, and the events
 * name `..data`. The caller skips a reload when the bytes did not change.
 */
import { readFileSync, statSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from '../../server/logger.ts';
import type { Checked } from './jwt-key.ts';

export interface KeyFileBytes {
  bytes: Uint8Array;
  /** Octal mode when group or others may read the file (warn, as OpenSSH refuses), else undefined. */
  looseMode?: string;
}

export function readKeyFile(file: string): Checked<KeyFileBytes> {
  try {
    const bytes = readFileSync(file);
    const mode = statSync(file).mode;
    return { ok: true, value: { bytes, ...((mode & 0o077) !== 0 ? { looseMode: (mode & 0o777).toString(8) } : {}) } };
  } catch (err) {
    return { ok: false, reason: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}` };
  }
}

/** Debounce: a replace is several events (create, write, rename); the file is read once they stop. */
export const KEY_WATCH_DEBOUNCE_MS = 200;

/** Calls onChange (debounced) whenever something changes in the file's directory. Returns the stopper. */
export function watchKeyFile(file: string, onChange: () => void, debounceMs = KEY_WATCH_DEBOUNCE_MS): () => void {
  let timer: NodeJS.Timeout | null = null;
  let watcher: FSWatcher | null = null;
  try {
    watcher = watch(dirname(file), { persistent: false }, () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => { timer = null; onChange(); }, debounceMs);
      timer.unref();
    });
    watcher.on('error', () => { watcher?.close(); watcher = null; }); // directory gone: SIGHUP still reloads
  } catch {
    watcher = null; // no watch (e.g. out of inotify watches): SIGHUP still reloads
  }
  return () => {
    if (timer) clearTimeout(timer);
    watcher?.close();
  };
}

export function warnLooseKeyFile(log: Logger, file: string, mode: string): void {
  // Like OpenSSH with private keys, but a warning: containers often mount secrets 0644.
  log.warn({ event: 'jwt-key-permissions', file, mode }, `JWT key file ${file} is readable by group or others; chmod 600 it`);
}
