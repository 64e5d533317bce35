/** @module The commands of `ferry`, each loaded only when it runs (for main.ts, and for tests that cover every command). */
import type { CliCommand } from './command.ts';

/**
 * The relay roles cap their young generation before their module graph loads (it grows the new space otherwise), and
 * for good: run.ts's releaseYoungGeneration once the role is up must not switch growth back on (it did, and the
 * relays' new space grew to 64-128 MiB again: issue 18, relay-gc.ts).
 */
async function relayHeap(): Promise<void> {
  if ((await import('../relay/relay-gc.ts')).capRelayYoungGeneration(process.execArgv, process.env.NODE_OPTIONS)) {
    (await import('./startup-heap.ts')).keepYoungGenerationHeld();
  }
}

/** Each role's module graph (undici, ioredis, prom-client, …) is loaded only when that role runs: idle RSS matters. */
export const COMMANDS: ReadonlyArray<{ name: string; load: () => Promise<CliCommand> }> = [
  { name: 'proxy', load: async () => (await import('./commands/proxy.ts')).proxyCommand },
  { name: 'origin', load: async () => (await import('./commands/origin.ts')).originCommand },
  { name: 'relay-client', load: async () => { await relayHeap(); return (await import('./commands/relay-client.ts')).relayClientCommand; } },
  { name: 'relay-server', load: async () => { await relayHeap(); return (await import('./commands/relay-server.ts')).relayServerCommand; } },
  { name: 'demo', load: async () => (await import('./commands/demo.ts')).demoCommand },
];
