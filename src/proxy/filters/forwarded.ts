/** @module Via both ways (RFC 9110 §7.6.3) and the client's address for the upstream (X-Forwarded-* or RFC 7239). */
import { addForwarded, setXForwarded, type ClientInfo } from '../../http/forwarded.ts';
import { addVia } from '../../http/via.ts';
import { getHeader } from '../../http/headers.ts';
import type { ProxyFilter } from '../phases.ts';

export interface ForwardedFilterOptions {
  viaName: string;
  /** RFC 7239 Forwarded instead of X-Forwarded-For/-Proto/-Host. */
  forwarded: boolean;
}

export function createForwardedFilter(options: ForwardedFilterOptions): ProxyFilter {
  return {
    name: 'forwarded',
    upstreamRequestFilter(head, ctx) {
      const client: ClientInfo = { address: ctx.clientAddress, proto: ctx.secure ? 'https' : 'http', host: getHeader(head.headers, 'host') };
      const withVia = addVia(head.headers, head.httpVersion, options.viaName);
      const headers = options.forwarded ? addForwarded(withVia, client) : setXForwarded(withVia, client);
      return { ...head, headers };
    },
    upstreamResponseFilter(head) {
      return { ...head, headers: addVia(head.headers, head.httpVersion ?? '1.1', options.viaName) };
    },
  };
}
