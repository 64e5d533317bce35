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
import { createScavengePacer } from '../server/scavenge-pacer.ts';

/** Measured (bench/relay.bench.ts, A/B in one run): 16 MiB (the proxy's pace) → 4 MiB → 2 MiB cut the
 * server's upload CPU 0.83 → 0.78 → 0.72 s per 100 MiB; a scavenge here costs ~1 ms, so even at 2 MiB the
 * pauses stay a small share of the hashing each chunk needs anyway. */
export const RELAY_PACE_BYTES = 2 * 1024 * 1024;

/** Count relayed body bytes (both directions); every RELAY_PACE_BYTES, run a scavenge. */
export const noteRelayedBytes = createScavengePacer(RELAY_PACE_BYTES);
