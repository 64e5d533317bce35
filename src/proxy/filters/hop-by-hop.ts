/** @module Hop-by-hop fields removed in both directions (RFC 9110 §7.6.1). Runs before any filter that adds fields. */
import { stripHopByHop } from '../../http/hop-by-hop.ts';
import type { ProxyFilter } from '../phases.ts';

export function createHopByHopFilter(): ProxyFilter {
  return {
    name: 'hop-by-hop',
    upstreamRequestFilter(head) {
      const headers = stripHopByHop(head.headers);
      return headers === head.headers ? head : { ...head, headers };
    },
    upstreamResponseFilter(head) {
      const headers = stripHopByHop(head.headers);
      return headers === head.headers ? head : { ...head, headers };
    },
  };
}
