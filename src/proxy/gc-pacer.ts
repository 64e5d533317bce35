/**
 * @module The proxy's scavenge pace (see server/scavenge-pacer for why ferry paces scavenges at all). The library never
 * paces on its own: the CLI passes `createScavengePacer(PACE_BYTES)` as the proxy's `onBodyBytes` hook, so a process
 * that embeds `createProxy` keeps its own heap behaviour and flags.
 */

/**
 * Bytes relayed (both directions, all requests) between two requested scavenges. Measured: no pacing peaks at
 * ~175 MiB RSS on a 1 GiB transfer; 32 or 64 MiB gave 130–163 MiB with no throughput gain over 16 MiB.
 */
export const PACE_BYTES = 16 * 1024 * 1024;
