/**
 * @module The signing key and the keys still published after a rotation (docs/features.md "Key rotation"). Pure: the
 * clock is passed in. A rotated-out key stays in the JWKS for the grace period, so tokens it signed just before the
 * rotation (in flight, or in a verifier's hands) still verify; then it is dropped.
 */

export interface RingKey { readonly kid: string }

export interface KeyRing<K extends RingKey> {
  /** The key that signs every new token. */
  current(): K;
  /** `next` signs from now on; the current key stays published until nowMs + grace. false when it is the same key. */
  rotate(next: K, nowMs: number): boolean;
  /** What the JWKS lists at nowMs: the current key first, then retired keys whose grace has not ended. */
  published(nowMs: number): K[];
}

export function createKeyRing<K extends RingKey>(first: K, graceMs: number): KeyRing<K> {
  let current = first;
  /** Retired keys with the instant they leave the JWKS, oldest first. */
  let retired: Array<{ key: K; untilMs: number }> = [];
  return {
    current: () => current,
    rotate(next, nowMs) {
      if (next.kid === current.kid) return false;
      // A key coming back (A → B → A) is current again, not also retired.
      retired = retired.filter((r) => r.key.kid !== next.kid && r.key.kid !== current.kid && r.untilMs > nowMs);
      if (graceMs > 0) retired.push({ key: current, untilMs: nowMs + graceMs });
      current = next;
      return true;
    },
    published(nowMs) {
      if (retired.length > 0 && retired[0]!.untilMs <= nowMs) retired = retired.filter((r) => r.untilMs > nowMs);
      return [current, ...retired.map((r) => r.key).reverse()];
    },
  };
}
