/** @module `--inspector`, `--inspector-size`, `--redact-headers` → the proxy's inspector option (UsageError: exit 2). */
import { UsageError } from '../errors.ts';
import { MAX_INSPECTOR_SIZE } from './inspector.ts';
import { isToken } from '../http/grammar.ts';


export function resolveInspectorFlags(flags: { inspector?: unknown; inspectorSize?: unknown; redactHeaders?: unknown; jwtHeader?: unknown }): { size: number; redactHeaders: string[]; jwtHeader?: string } | null {
  if (flags.inspector === false) return null;
  const size = (flags.inspectorSize as number | undefined) ?? 200;
  if (!Number.isInteger(size) || size < 1 || size > MAX_INSPECTOR_SIZE) throw new UsageError(`--inspector-size: ${size} is not from 1 to ${MAX_INSPECTOR_SIZE}`);
  const names = ((flags.redactHeaders as string[] | undefined) ?? []).map((n) => n.trim().toLowerCase()).filter((n) => n !== '');
  for (const n of names) if (!isToken(n)) throw new UsageError(`--redact-headers: "${n}" is not a header field name`);
  return { size, redactHeaders: names, ...(typeof flags.jwtHeader === 'string' ? { jwtHeader: flags.jwtHeader } : {}) };
}
