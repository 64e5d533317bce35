/**
 * @module glibc malloc settings for ferry's long-running roles, applied by re-executing the process image once at
 * start (issue 18: peak RSS under 100 MiB during 1 GiB transfers).
 *
 * Why: every socket read allocates a 64 KiB buffer through malloc, freed in bulk when V8 collects them. glibc's
 * default heap then keeps what it once held: its mmap and trim thresholds grow with the largest block ever freed
 * (up to 32 MiB and 64 MiB), and each thread that allocates (V8's compiler and GC workers) may get an arena of its
 * own. Measured (`node bench/transfer-focus.ts`, 1 GiB each way, medians of 5, same run): peak RSS 111 → 97 MiB,
 * proxy CPU per GiB 1.48 / 1.24 → 1.52 / 1.32 s (down / up, within the run's noise); docs/performance.md has the
 * table. glibc reads these variables only when the process starts, so ferry sets them and replaces itself with a
 * fresh image of the same command (`process.execve`: same PID, same stdio, ~40 ms once). Plain syntax, node:fs and
 * the command list only (registry.ts, whose commands are all serving roles): main.ts calls it before anything else
 * loads. `ferry --help` or no command is not worth a re-exec.
 *
 * Left alone when: not Linux; Node without `process.execve` (before 22.15 / 23.11); not a serving role; the operator
 * set any malloc variable (`MALLOC_ARENA_MAX=8 ferry proxy …` keeps theirs, and the re-executed image sees ferry's
 * own, so it never loops). musl ignores the variables: the cost there is the one re-exec.
 */

import { accessSync, constants } from 'node:fs';
import { COMMANDS } from './registry.ts';


/** The operator's own malloc configuration, any of which means "keep mine". */
const OPERATOR_KNOBS = ['MALLOC_ARENA_MAX', 'MALLOC_TRIM_THRESHOLD_', 'MALLOC_MMAP_THRESHOLD_', 'MALLOC_TOP_PAD_', 'MALLOC_MMAP_MAX_', 'GLIBC_TUNABLES'];

/**
 * What ferry sets: two arenas (the main thread's and one for every other thread); a fixed trim threshold of 128 KiB
 * (glibc's initial one), which also fixes the mmap threshold at its initial 128 KiB, so freed memory above it goes
 * back to the system instead of the thresholds following the largest block ever freed.
 */
export const FERRY_MALLOC_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2', MALLOC_TRIM_THRESHOLD_: '131072' };

/** The environment to re-execute with, or null to run as is. Pure. */
export function mallocReexecEnv(platform: string, argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Record<string, string | undefined> | null {
  if (platform !== 'linux') return null;
  const command = argv[2];
  if (!COMMANDS.some((c) => c.name === command)) return null;
  for (const knob of OPERATOR_KNOBS) if (env[knob] !== undefined) return null;
  return { ...env, ...FERRY_MALLOC_ENV };
}

/** Replaces this process with the same command under ferry's malloc settings, when mallocReexecEnv says so. */
export function reexecWithMallocEnv(): void {
  const execve = (process as { execve?: (file: string, args: string[], env: Record<string, string | undefined>) => never }).execve;
  if (typeof execve !== 'function') return;
  const env = mallocReexecEnv(process.platform, process.argv, process.env);
  if (env === null) return;
  // Node aborts the process when execve(2) fails, so a binary that cannot be executed again (deleted by an upgrade
  // since start) keeps glibc's defaults instead
  try { accessSync(process.execPath, constants.X_OK); } catch { return; }
  execve.call(process, process.execPath, [process.execPath].concat(process.execArgv, process.argv.slice(1)), env);
}
