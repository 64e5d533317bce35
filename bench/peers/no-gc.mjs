// Preloaded (NODE_OPTIONS=--import) by bench/relay-idle.ts into the relays it compares against: a no-op global gc(),
// which server/scavenge-pacer.ts's loadGc takes as it is, so that process never toggles --expose-gc, never makes the
// second context and never collects on its own: a relay as it would be without the scavenge pacer.
globalThis.gc = () => {};
