/**
 * @module The relay's scavenge pace (server/scavenge-pacer), shorter than the proxy's.
 *
 * V8 counts live external memory (Buffer contents) against the heap's global limit, which for a
 * ~15 MB heap is only ~30 MB. A relay process holds `window` chunks of 1 MiB per direction and
 * receives 64 KiB socket reads that die at once but are only freed by the next scavenge; with a
 * scavenge every 16 MiB the garbage alone crosses that limit and V8 starts a major GC (concurrent
 * marking of the whole heap, on worker threads that compete for the same cores) every few MiB.
 * Scavenging every RELAY_PACE_BYTES keeps the dead reads few, so major GCs are rarer.
 */
import v8 from 'node:v8';
import { createScavengePacer } from '../server/scavenge-pacer.ts';

/** Measured (bench/relay.bench.ts, A/B in one run). With V8's default marking trigger, 16 MiB (the proxy's
 * pace) → 4 MiB → 2 MiB cut the server's upload CPU 0.83 → 0.78 → 0.72 s per 100 MiB. Since tuneRelayHeap()
 * (below) major GCs are rare, and the scavenges themselves became the larger cost: 2 → 8 MiB cut the CPU per
 * 100 MiB (server / client, median of 6-8) from 0.29-0.30 / 0.23-0.24 to 0.26 / 0.20 s (download) and from
 * 0.45-0.49 / 0.48-0.51 to 0.44 / 0.43-0.44 s (upload); 16 MiB was no better than 8, no pacing was worse. */
export const RELAY_PACE_BYTES = 8 * 1024 * 1024;

/** Count relayed body bytes (both directions); every RELAY_PACE_BYTES, run a scavenge. */
export const noteRelayedBytes = createScavengePacer(RELAY_PACE_BYTES);

/**
 * Start V8's incremental marking only when the old generation has used 80 % of the room left before
 * its limit (95 %: at once), instead of V8's default: as soon as that room is smaller than the young
 * generation. A relay process has a ~15 MB heap whose limit sits ~16 MB above it, while its young
 * generation grows to 16 MB under streaming: by the default rule a major GC (concurrent marking of the
 * whole heap on worker threads, competing for the same cores) started again right after each one ended,
 * ~20 of them per 100 MiB relayed, most freeing almost nothing. Measured (A/B in one run, median of 4,
 * per 100 MiB, relay-server / relay-client CPU): download 0.44 / 0.38 → 0.29 / 0.24 s, upload 0.74 / 0.72
 * → 0.52 / 0.50 s. Both flags are read at each decision, so setting them at startup takes effect. It is
 * process-wide: the relay commands call it, the library leaves an embedding process's heap alone.
 */
export function tuneRelayHeap(): void {
  v8.setFlagsFromString('--incremental-marking-soft-trigger=80');
  v8.setFlagsFromString('--incremental-marking-hard-trigger=95');
}
