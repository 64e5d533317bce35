/** @module /echo: streams the request body back unchanged, with its Content-Type (and Content-Length when known). */
import { pipeline } from 'node:stream/promises';
import type { Endpoint } from './context.ts';

export const echoEndpoint: Endpoint = async (req, res) => {
  const head: Record<string, string> = {};
  const type = req.headers['content-type'];
  if (type !== undefined) head['content-type'] = type;
  // Node has already refused Content-Length together with Transfer-Encoding, so a length here is the body's.
  const length = req.headers['content-length'];
  if (length !== undefined && req.headers['transfer-encoding'] === undefined) head['content-length'] = length;
  if (req.method === 'HEAD') {
    res.writeHead(200, head);
    res.end();
    return;
  }
  res.writeHead(200, head);
  // The response streams while the request is still arriving; pipeline carries backpressure both ways.
  await pipeline(req, res);
};
