/**
 * docs/architecture.md's module map stays true: every module under src/ is listed there with its one line, and
 * every file it names exists. A new module without a line, or a line for a module that moved, fails here.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(path.join(REPO, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : /\.(ts|js|css)$/.test(e.name) ? [path.join(dir, e.name)] : []);
}

describe('docs/architecture.md', () => {
  const doc = readFileSync(path.join(REPO, 'docs/architecture.md'), 'utf8');
  // the map lists modules as `folder/file.ts` relative to src/
  const listed = new Set([...doc.matchAll(/`([a-z0-9-]+\/[a-z0-9/._-]+\.(?:ts|js|css))`/g)].map((m) => m[1]!));

  it('lists every module under src/', () => {
    const missing = sources('src').map((f) => path.relative('src', f)).filter((f) => f.includes('/') && !listed.has(f));
    assert.deepEqual(missing, [], 'modules without a line in docs/architecture.md');
  });

  it('names no module that does not exist', () => {
    const gone = [...listed].filter((f) => !f.startsWith('test/') && !existsSync(path.join(REPO, 'src', f)));
    assert.deepEqual(gone, [], 'lines for modules that are not in src/');
  });
});
