/** @module /headers: the request's header fields as received, as JSON (lowercase names; repeated fields → arrays). */
import { fromRawHeaders } from '../../http/headers.ts';
import { drain, type Endpoint } from './context.ts';

export const headersEndpoint: Endpoint = async (req, res) => {
  drain(req);
  // No prototype: a field named __proto__ or constructor is just a key (RELIABILITY S12).
  const out = Object.create(null) as Record<string, string | string[]>;
  for (const [name, value] of fromRawHeaders(req.rawHeaders)) {
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  const body = Buffer.from(`${JSON.stringify(out, null, 2)}\n`);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length), 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
};
