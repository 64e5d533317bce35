/**
 * @module Hot reload of a role's configuration (docs/reload-admin.md): on SIGHUP, or when the --config file changes
 * under --watch-config, the flags are resolved again from every layer (file, FERRY_* environment, command line), the
 * role builds its next configuration from them, and either it serves new requests or — when anything is refused —
 * one log line names the problem and the running configuration stays. Keys that only take effect on a restart
 * (listen address, workers) are named in the reload's log line, never silently ignored. One reload at a time; a
 * trigger during one runs one more after it.
 */
import { readFileSync } from 'node:fs';
import type { FlagValues } from '../cli/flags.ts';
import { watchKeyFile } from '../proxy/filters/jwt-key-source.ts';
import type { Logger } from '../server/logger.ts';
import { onReloadSignal } from '../server/reload-signal.ts';
import type { ConfigInfo } from './proxy-switch.ts';

/**
 * A part of the configuration built outside the proxy (TLS certificates, for instance): `prepare` loads what the
 * new flags name and throws to refuse the reload; the returned `commit` makes it current once the reload is accepted.
 */
export type ReloadHook = (flags: FlagValues) => Promise<(() => void) | void>;

const hooks: ReloadHook[] = [];

/** Register a hook run on every reload of this process (before the new configuration is swapped in). */
export function onConfigReload(hook: ReloadHook): () => void {
  hooks.push(hook);
  return () => { const i = hooks.indexOf(hook); if (i >= 0) hooks.splice(i, 1); };
}

export interface ReloadPlan {
  log: Logger;
  /** The --config file; null: none (a reload still rebuilds from flags and environment and re-reads key files). */
  file: string | null;
  /** Reload when the file changes (--watch-config). */
  watch: boolean;
  /** camelCase flag names that take effect only on a restart. */
  restartOnly: readonly string[];
  /** The flags the running configuration was built from. */
  flags: FlagValues;
  /** Resolve the flags again from every layer; throws (a UsageError naming file, key and problem) when refused. */
  resolve(): FlagValues;
  /** Build the next configuration from `flags` and make it current; throws, changing nothing, when refused. */
  apply(flags: FlagValues): Promise<ConfigInfo>;
  /** The running configuration. */
  info(): ConfigInfo;
}

export type ReloadTrigger = 'SIGHUP' | 'watch' | 'api';

export interface Reloader {
  /** Resolves true when a new generation was loaded, false when refused. */
  reload(trigger: ReloadTrigger): Promise<boolean>;
  /** The flags in force (restart-only ones as the process started). */
  flags(): FlagValues;
  stop(): void;
}

/** Comparable text of a flag value (URLs by href; host:port objects and lists by value). */
function comparable(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x instanceof URL ? x.href : x)) ?? 'undefined';
}

/** The restart-only flags whose value differs (pure). */
export function restartOnlyChanges(before: FlagValues, after: FlagValues, keys: readonly string[]): string[] {
  return keys.filter((k) => comparable(before[k]) !== comparable(after[k]));
}

const kebab = (camelName: string): string => camelName.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export function installReload(plan: ReloadPlan): Reloader {
  const { log } = plan;
  let running: Promise<boolean> | null = null;
  let again: ReloadTrigger | null = null;
  let lastText = plan.file !== null ? readText(plan.file) : null;

  const once = async (trigger: ReloadTrigger): Promise<boolean> => {
    const before = plan.info();
    const base = { trigger, file: plan.file, generation: before.generation, pid: process.pid };
    let flags: FlagValues;
    let commits: Array<() => void>;
    let info: ConfigInfo;
    try {
      if (plan.file !== null) lastText = readText(plan.file);
      flags = plan.resolve();
      commits = [];
      for (const hook of [...hooks]) { const c = await hook(flags); if (c) commits.push(c); }
      info = await plan.apply(flags);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      log.warn({ event: 'config-reload-refused', ...base, reason }, `configuration reload refused: ${reason}; generation ${before.generation} keeps running`);
      return false;
    }
    for (const c of commits) c();
    const restartNeeded = restartOnlyChanges(plan.flags, flags, plan.restartOnly).map(kebab);
    const fields = { event: 'config-reloaded', ...base, generation: info.generation, previous: before.generation, restartNeeded };
    if (restartNeeded.length === 0) log.info(fields, `configuration generation ${info.generation} loaded${plan.file ? ` from ${plan.file}` : ''}`);
    else {
      log.warn(fields, `configuration generation ${info.generation} loaded${plan.file ? ` from ${plan.file}` : ''}; ` +
        `these keys change only on a restart and keep their running values: ${restartNeeded.map((k) => `--${k}`).join(', ')}`);
    }
    // what is running: restart-only keys keep the values the process started with
    plan.flags = { ...flags, ...Object.fromEntries(plan.restartOnly.map((k) => [k, plan.flags[k]])) };
    return true;
  };

  const reload = (trigger: ReloadTrigger): Promise<boolean> => {
    if (running) { again = trigger; return running; }
    running = once(trigger).finally(() => {
      running = null;
      if (again !== null) { const t = again; again = null; void reload(t); }
    });
    return running;
  };

  // the directory is watched (editors and config managers replace the file by renaming); other files' events and
  // writes that leave the text as it was cost no reload
  const unwatch = plan.watch && plan.file !== null
    ? watchKeyFile(plan.file, () => { if (readText(plan.file!) !== lastText) void reload('watch'); })
    : () => {};
  // SIGHUP through its one owner (server/reload-signal.ts), which writes the "reload" line
  const offHup = onReloadSignal('the configuration and key files', () => { void reload('SIGHUP'); }, log);
  return { reload, flags: () => plan.flags, stop() { unwatch(); offHup(); } };
}

function readText(file: string): string | null {
  try { return readFileSync(file, 'utf8'); } catch { return null; }
}
