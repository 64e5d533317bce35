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

/** Measured (bench/relay.bench.ts, A/B in one run). With V8's default marking trigger, 16 MiB (the proxy's
 * pace) → 4 MiB → 2 MiB cut the server's upload CPU 0.83 → 0.78 → 0.72 s per 100 MiB. Since the marking trigger
 * (server/heap-tuning.ts) major GCs are rare, and the scavenges themselves became the larger cost: 2 → 8 MiB cut the CPU per
 * 100 MiB (server / client, median of 6-8) from 0.29-0.30 / 0.23-0.24 to 0.26 / 0.20 s (download) and from
 * 0.45-0.49 / 0.48-0.51 to 0.44 / 0.43-0.44 s (upload); 16 MiB was no better than 8, no pacing was worse. */
export const RELAY_PACE_BYTES = 8 * 1024 * 1024;
