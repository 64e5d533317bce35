/**
 * @module ferry's clocks (RELIABILITY docs/reliability.md "Clock jumps"). Durations — timeouts, session and nonce
 * expiry, cache freshness and Age, uptime — must not move when the wall clock is stepped (NTP, an operator, a VM
 * resumed): `monotonicNow` is performance.now(); `steadyNow` is the wall clock read once at start plus the
 * monotonic time since, for the places that need a wall-like number that is also stored or compared across
 * processes (cache records on disk or in Redis carry it). The wall clock itself (`Date.now`) is used only where
 * a protocol needs it: JWT `iat`, the relay's signed timestamps, SigV4 dates, HTTP dates, log timestamps.
 */

/** Milliseconds on the monotonic clock (an arbitrary origin): for durations only. */
export const monotonicNow = (): number => performance.now();

const anchorWall = Date.now();
const anchorMono = performance.now();

/** Milliseconds since the epoch as the wall clock read at start, advanced by the monotonic clock since. */
export const steadyNow = (): number => anchorWall + (performance.now() - anchorMono);
