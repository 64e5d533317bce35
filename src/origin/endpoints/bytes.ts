/** @module /bytes/N: N bytes where byte i = i mod 251, generated while streaming, with ranges and conditionals. */
import { sendRepresentation } from '../send-representation.ts';
import { createPatternStream } from '../pattern-stream.ts';
import { drain, replyText, type Endpoint } from './context.ts';

/** Sizes are exact in a double up to 2^53 − 1. */
const MAX_BYTES = Number.MAX_SAFE_INTEGER;

export const bytesEndpoint: Endpoint = async (req, res, param, ctx) => {
  drain(req);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    replyText(req, res, 405, 'use GET or HEAD\n', { allow: 'GET, HEAD' });
    return;
  }
  if (!/^\d{1,16}$/.test(param) || Number(param) > MAX_BYTES) {
    replyText(req, res, 400, `/bytes/N: N must be a whole number of bytes up to ${MAX_BYTES}\n`);
    return;
  }
  const size = Number(param);
  await sendRepresentation(req, res, {
    size,
    contentType: 'application/octet-stream',
    // The bytes depend only on N, so this strong tag is valid forever (If-Range works with it).
    etag: { weak: false, opaque: `bytes-${size}` },
    open: (r) => createPatternStream(r.first, r.last),
  }, ctx);
};
