/**
 * @module Is this Node new enough for ferry? Pure, and free of imports: the CLI entry (main.ts) asks before any
 * dependency loads, because an older Node does not fail cleanly inside them (issue 12: Node 20 died in undici with
 * "Cannot read properties of undefined (reading 'bind')"). Plain syntax only, so that an old Node can parse it.
 */

/** The minimum of a package.json `engines.node` of the form `>=X.Y.Z`, or undefined for any other form. */
export function minimumNodeVersion(engines: string): string | undefined {
  const m = /^\s*>=\s*v?(\d+\.\d+\.\d+)\s*$/.exec(engines);
  return m ? m[1] : undefined;
}

function parts(version: string): number[] {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [];
}

/** True if `found` (e.g. process.versions.node) is `needed` or newer; an unreadable version is given the benefit of the doubt. */
export function isAtLeast(found: string, needed: string): boolean {
  const a = parts(found);
  const b = parts(needed);
  if (a.length !== 3 || b.length !== 3) return true;
  for (let i = 0; i < 3; i++) {
    if (a[i] !== b[i]) return a[i]! > b[i]!;
  }
  return true;
}

/** The one line to print when `found` is older than the `engines.node` range, else undefined. */
export function nodeVersionProblem(found: string, engines: string): string | undefined {
  const needed = minimumNodeVersion(engines);
  if (needed === undefined || isAtLeast(found, needed)) return undefined;
  return `Node.js ${needed} or newer is needed (package.json engines: "${engines}"); this is Node.js ${found}`;
}
