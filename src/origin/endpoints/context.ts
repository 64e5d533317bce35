/** @module What every origin endpoint gets besides the request and response. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../server/logger.ts';

export interface EndpointContext {
  maxRanges: number;
  maxDelayMs: number;
  log: Logger;
  randomBytes?: (n: number) => Uint8Array;
  /** Notes for the access line (e.g. why a Range was ignored). */
  note: Record<string, unknown>;
}

/** `param` is the rest of the path after the endpoint's prefix (`/bytes/<param>`), still percent-encoded. */
export type Endpoint = (req: IncomingMessage, res: ServerResponse, param: string, ctx: EndpointContext) => Promise<void>;

/** A short text answer (errors and small endpoint replies); HEAD gets the same head without the body. */
export function replyText(req: IncomingMessage, res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  const body = Buffer.from(text);
  const noBody = req.method === 'HEAD' || status === 204 || status === 304;
  res.writeHead(status, { ...extra, ...(status === 204 || status === 304 ? {} : { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(body.length) }) });
  res.end(noBody ? undefined : body);
}

/** Unread request bodies are drained so the connection can be reused. */
export function drain(req: IncomingMessage): void {
  if (!req.readableEnded) req.resume();
}
