/**
 * @module Did the operator choose this V8 flag? ferry sets a few V8 flags for its own processes (heap-tuning.ts,
 * young-generation.ts, cli/startup-heap.ts) and leaves each one alone when it was given as a node flag or in
 * NODE_OPTIONS (where V8 accepts `_` for `-`). Plain syntax, no imports: cli/main.ts reaches it before the Node
 * version check.
 */

/** True when `flag` (e.g. `--max-semi-space-size`) is among `execArgv` or `nodeOptions`, bare or as `flag=value`. */
export function operatorGave(execArgv: readonly string[], nodeOptions: string | undefined, flag: string): boolean {
  const args = execArgv.concat((nodeOptions || '').split(/\s+/));
  return args.some((arg) => {
    const a = arg.replace(/_/g, '-');
    return a === flag || a.indexOf(flag + '=') === 0;
  });
}
