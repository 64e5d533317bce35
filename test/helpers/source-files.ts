/** Every TypeScript module under src/, as absolute paths (for the tests that hold src/ to a rule). */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SRC_DIR = fileURLToPath(new URL('../../src/', import.meta.url));

export function srcModules(): string[] {
  return (readdirSync(SRC_DIR, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).sort().map((f) => path.join(SRC_DIR, f));
}
