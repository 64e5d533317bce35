/**
 * @module The effective configuration of a role as the admin listener's `/config` shows it: every flag of the
 * command with the value in force, secrets redacted (stats/redact.ts REDACTED). Pure; no I/O. Secrets never sit in
 * flag values ferry reads (they come from files or the environment), but a few flags may carry credentials anyway:
 * `--proxy-auth USER:PASS`, and the userinfo of a URL (`--upstream-proxy http://u:p@host`).
 */
import type { CommandSpec, FlagValue, FlagValues } from '../cli/flags.ts';
import { camel, COMMON_FLAGS } from '../cli/flags.ts';
import { REDACTED } from '../stats/redact.ts';

/** Flags whose whole value is a credential. */
const SECRET_FLAGS: ReadonlySet<string> = new Set(['proxy-auth']);

function shown(v: FlagValue): unknown {
  if (v instanceof URL) {
    if (v.username === '' && v.password === '') return v.href;
    const copy = new URL(v.href);
    copy.username = REDACTED;
    copy.password = '';
    return copy.href.replace(encodeURIComponent(REDACTED), REDACTED);
  }
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && 'host' in v && 'port' in v) return `${v.host}:${v.port}`;
  return v;
}

/** kebab-case flag name → value in force (unset flags as null), secrets redacted. */
export function effectiveConfig(spec: CommandSpec, flags: FlagValues): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of [...spec.flags, ...COMMON_FLAGS]) {
    if (f.name === 'help') continue;
    const v = flags[camel(f.name)];
    if (v === undefined) { out[f.name] = null; continue; }
    if (SECRET_FLAGS.has(f.name)) { out[f.name] = REDACTED; continue; }
    out[f.name] = Array.isArray(v) ? v.map((x) => shown(x as FlagValue)) : shown(v);
  }
  return out;
}
