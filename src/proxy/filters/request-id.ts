/** @module X-Request-Id: the id of the request (the client's when it sent a plain one) is passed upstream and echoed back. */
import { appendHeader, getHeader, withHeader } from '../../http/headers.ts';
import type { ProxyFilter } from '../phases.ts';

export const REQUEST_ID_HEADER = 'x-request-id';

export function createRequestIdFilter(): ProxyFilter {
  return {
    name: 'request-id',
    upstreamRequestFilter(head, ctx) {
      if (getHeader(head.headers, REQUEST_ID_HEADER) === ctx.id) return head;
      return { ...head, headers: withHeader(head.headers, REQUEST_ID_HEADER, ctx.id) };
    },
    responseFilter(head, ctx) {
      if (getHeader(head.headers, REQUEST_ID_HEADER) !== undefined) return head;
      return { ...head, headers: appendHeader(head.headers, REQUEST_ID_HEADER, ctx.id) };
    },
  };
}
