/**
 * @module Filling the cache from an upstream body that arrived whole with its head (a small response over a fast
 * link usually does): the bytes go into the store writer in one write and are committed before the client gets them,
 * and the client's body is the same bytes, sent with one write (proxy/whole-body.ts). Same outcome as the tee
 * (tee.ts), whose stream plumbing costs more than the copy itself on a small response; anything else goes through
 * the tee.
 */
import { UpstreamBody } from '../proxy/upstream-client.ts';
import { WholeBody } from '../proxy/whole-body.ts';
import type { Readable } from 'node:stream';
import type { BodyWriter } from './store.ts';
import type { TeeResult } from './tee.ts';

const EMPTY = Buffer.alloc(0);

/**
 * The whole body, taken out of its stream, when the upstream already delivered all of it (and, with a
 * Content-Length, exactly that many bytes: a short or long body is the tee's to report); null otherwise.
 */
export function takeWholeBody(body: Readable, expectedLength: number | undefined): Buffer | null {
  if (!(body instanceof UpstreamBody) || !body.complete || body.readableFlowing === true || body.readableEnded) return null;
  if (expectedLength !== undefined && body.readableLength !== expectedLength) return null;
  // Paused mode: read() with no size hands the whole buffer (one chunk as it is, several joined).
  return (body.read() as Buffer | null) ?? EMPTY;
}

/** Store `bytes` as the entry's whole body; resolves with how the store took it (never rejects). */
export async function storeWhole(writer: BodyWriter, bytes: Buffer): Promise<{ body: WholeBody; result: TeeResult }> {
  const body = new WholeBody(bytes);
  try {
    if (bytes.length > 0) await writer.write(bytes);
    return { body, result: (await writer.commit()) ? 'stored' : 'not-stored' };
  } catch {
    writer.abort();
    return { body, result: 'not-stored' };
  }
}
