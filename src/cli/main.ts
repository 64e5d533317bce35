#!/usr/bin/env node
/**
 * @module The `ferry` executable. Checks the Node version before anything else loads — this module imports only
 * node:fs, node-version.ts, malloc-env.ts (with registry.ts's command list) and startup-heap.ts, never a dependency — then loads the command line (run.ts). An older Node gets one
 * line naming the version found and the one needed, and exit code 1 (issue 12). Plain syntax (no top-level await,
 * no `?.`/`??`), so an old Node can parse this far.
 */
import { readFileSync } from 'node:fs';
import { nodeVersionProblem } from './node-version.ts';
import { reexecWithMallocEnv } from './malloc-env.ts';
import { holdYoungGeneration } from './startup-heap.ts';

// ../../package.json is the package root both from src/cli/ and from dist/cli/. A build copied elsewhere without
// it (a bundle, a benchmark's build) runs unchecked rather than failing on the check itself.
let engines: string | undefined;
try {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { engines?: { node?: string } };
  engines = pkg.engines && pkg.engines.node;
} catch {
  engines = undefined;
}
const problem = engines ? nodeVersionProblem(process.versions.node, engines) : undefined;

if (problem !== undefined) {
  process.stderr.write(`ferry: ${problem}\n`);
  process.exitCode = 1;
} else {
  reexecWithMallocEnv(); // serving roles: glibc's malloc settings need a fresh process image (malloc-env.ts)
  holdYoungGeneration(process.execArgv, process.env.NODE_OPTIONS); // released once the role is up (startup-heap.ts)
  import('./run.ts').catch((err: unknown) => {
    process.stderr.write(`ferry: unexpected error: ${err instanceof Error ? err.stack || err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
