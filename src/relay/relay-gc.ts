/**
 * @module The relay's scavenge pace (server/scavenge-pacer), shorter than the proxy's.
 *
 * V8 counts live external memory (Buffer contents) against the heap's global limit, which for a
 * ~15 MB heap is only ~30 MB. A relay process holds `window` chunks of 1 MiB per direction and
 * receives 64 KiB socket reads that die at once but are only freed by the next scavenge; with a
 * scavenge every 16 MiB the garbage alone crosses that limit and V8 starts a major GC (concurrent
 * marking of the whole heap, on worker threads that compete for the same cores) every few MiB.
 * Scavenging every RELAY_PACE_BYTES keeps the dead reads few, so major GCs are rarer.
 *
 * The library never paces on its own: the relay commands pass `createScavengePacer(RELAY_PACE_BYTES)` as the relay
 * server's and client's `onBodyBytes` hook, so a process that embeds them keeps its own heap behaviour and flags.
 */
import v8 from 'node:v8';
import { operatorGave } from '../server/v8-flags.ts';

/** Measured (bench/relay.bench.ts, A/B in one run). With V8's default marking trigger, 16 MiB (the proxy's
 * pace) → 4 MiB → 2 MiB cut the server's upload CPU 0.83 → 0.78 → 0.72 s per 100 MiB. Since the marking trigger
 * (server/heap-tuning.ts) major GCs are rare, and the scavenges themselves became the larger cost: 2 → 8 MiB cut the CPU per
 * 100 MiB (server / client, median of 6-8) from 0.29-0.30 / 0.23-0.24 to 0.26 / 0.20 s (download) and from
 * 0.45-0.49 / 0.48-0.51 to 0.44 / 0.43-0.44 s (upload); 16 MiB was no better than 8, no pacing was worse. */
export const RELAY_PACE_BYTES = 8 * 1024 * 1024;

/**
 * Issue 18: above this much external memory (Buffer contents), the pacer's next step is a major GC (started
 * incrementally) instead of a scavenge. With the marking trigger raised (server/heap-tuning.ts) and a small young
 * generation (below), socket reads that live through a scavenge or two (a piece waiting in a stream's buffer) are
 * promoted, and their dead bytes then wait for a major GC that V8 starts for external memory only after ~64 MiB of
 * growth: a relay process's ArrayBuffers peaked at 75-85 MiB, and glibc keeps what it once held, so that peak stayed
 * in the RSS. Measured (12 transfers of 100 MiB, built JS, peak RSS client / server; CPU per 100 MiB both processes,
 * A/B against the tree before, same run, noisy): no major GC 181 / 167 MiB, +0-15 %; a major GC every 16 MiB relayed
 * 123 / 135 MiB, +45-50 % CPU; above 32 MiB of external memory 131 / 136 MiB, +15-50 % download CPU (kept: the memory
 * target); above 48 MiB 151 / 136 MiB, +4 % (one run). docs/relay.md "Issue 18" has the table.
 * External memory then sat at this threshold at every peak (it is where the major GC starts, whatever the rate of
 * garbage), so the threshold, not the garbage, set the peak. Since the pieces copied into slabs are released at once
 * (slab-pool.ts releaseCopied) little garbage is left, and a lower threshold costs few major GCs. Measured (50
 * transfers of 100 MiB, built JS, `bench/relay-memory.ts`, same session; peak RSS client / server, CPU seconds client /
 * server): pieces released, above 32 MiB 119 / 118 MiB, 22.4 / 24.1 s; above 24 MiB (kept) 115 / 111 MiB, 25.7 / 26.8 s;
 * above 16 MiB 103 / 117 MiB, 29.8 / 39.6 s. Without the release, above 24 MiB was 122 / 122 MiB, 25.9 / 32.1 s.
 */
export const RELAY_MAJOR_ABOVE_EXTERNAL = 24 * 1024 * 1024;

/**
 * The major-GC threshold the relay commands use: RELAY_MAJOR_ABOVE_EXTERNAL above the chunk slabs the process holds
 * beyond what --window's windows hold (`lent`: SlabPool.lentBytes; `base`: 2 × --window chunks), counting at most
 * `sessionMemory` of them. The threshold is about garbage; slabs in a window are live, and no collection frees them. A
 * window grown to 16 chunks each way behind a gateway with latency (window-controller.ts) held 16-32 MiB of slabs, so
 * external memory sat above 24 MiB and every pace step (8 MiB) was a major GC that freed nothing: at +30 ms a 100 MiB
 * download cost 1.10 s of CPU (client + server) against 1.01 s at +0 ms and 0.83 s with no major GC (same run, load 6).
 * Below `base` nothing changes (the windows of --window are what the 24 MiB was measured with: counting them too raised
 * the peak RSS after 50 transfers from 106-113 to 119-122 MiB); the `sessionMemory` bound keeps the threshold bounded
 * if slabs are lost without being given back or forgotten.
 */
export function relayMajorThreshold(lent: () => number, sessionMemory: number, base = 0): () => number {
  return () => RELAY_MAJOR_ABOVE_EXTERNAL + Math.min(Math.max(0, lent() - base), sessionMemory);
}

/**
 * Issue 18: the young generation a relay process keeps. V8 grows each semi-space from 1 to 16 MiB when many objects
 * survive a scavenge (they do while a window of chunks is in flight), and a relay's peak RSS carried 32 MiB of new
 * space for a heap of ~20 MiB live: measured at the peak of 6 transfers of 100 MiB, relay-client new space 32 MiB of
 * a 54 MiB heap, 151 MiB RSS. The relay's bytes are external (Buffers), not heap objects, so a small young generation
 * costs little: `--semi-space-growth-factor=1` (read by V8 at each resize, so setting it after startup works, unlike
 * `--max-semi-space-size`) keeps new space at its initial size. Left alone when the operator chose either flag.
 * The CLI keeps it for the process's life (cli/registry.ts): switched back on once the role was up (cli/startup-heap.ts),
 * new space grew to 64-128 MiB again and the peaks were 126-151 MiB (50 transfers; 121-128 MiB with the cap kept).
 */
export const RELAY_YOUNG_GENERATION_FLAG = '--semi-space-growth-factor';

/** Sets RELAY_YOUNG_GENERATION_FLAG=1 unless the operator set it or `--max-semi-space-size`; true when it was set. */
export function capRelayYoungGeneration(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  if (['--semi-space-growth-factor', '--max-semi-space-size'].some((f) => operatorGave(execArgv, nodeOptions, f))) return false;
  v8.setFlagsFromString(`${RELAY_YOUNG_GENERATION_FLAG}=1`);
  return true;
}
