/**
 * @module The young generation held at its initial size while the CLI loads its modules (issue 18, idle RSS).
 * Most of what module loading allocates survives, so V8 doubles the new space at each scavenge (to 16 MiB, of which
 * 6-8 MiB stay resident in an idle process); with growth off until the role is up, `ferry proxy` idles at 75 MiB
 * instead of 80 (built JavaScript, `--log-level warn`, read after 2 and 10 s). Growth is switched back on before
 * traffic (the proxy's own cap, server/young-generation.ts, takes it from there). A memory-reducing GC at start gave
 * 71 MiB but needs gc(), and loading gc() made traffic after every pause cost up to twice the CPU (server/scavenge-pacer.ts
 * loadGc). Flags the operator gave are left alone. Plain syntax, node:v8 and server/v8-flags.ts only: main.ts imports it
 * before the Node version check.
 */
import v8 from 'node:v8';
import { operatorGave } from '../server/v8-flags.ts';

let held = false;
/** A role set the young generation's growth for its own life (keepYoungGenerationHeld): release leaves it. */
let kept = false;

function operatorChose(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return ['--semi-space-growth-factor', '--max-semi-space-size', '--min-semi-space-size'].some((f) => operatorGave(execArgv, nodeOptions, f));
}

/** Before the modules load: the new space stops growing. */
export function holdYoungGeneration(execArgv: readonly string[], nodeOptions: string | undefined): void {
  if (held || operatorChose(execArgv, nodeOptions)) return;
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  held = true;
}

/**
 * For a role that keeps its young generation at the initial size for good (the relays: relay/relay-gc.ts
 * capRelayYoungGeneration): releaseYoungGeneration then leaves the flag as the role set it.
 */
export function keepYoungGenerationHeld(): void {
  kept = true;
}

/** The role is up: V8's default growth again (unless the role kept the hold). */
export function releaseYoungGeneration(): void {
  if (!held || kept) return;
  v8.setFlagsFromString('--semi-space-growth-factor=2');
  held = false;
}
