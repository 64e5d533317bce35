/**
 * @module node-floor: the bare undici pass-through the proxy benchmark measures every candidate against (issue 18).
 * A node:http server whose handler streams each request into undici `Pool.stream` and the upstream response straight
 * into the client's response: hop-by-hop fields removed both ways (RFC 9110 §7.6.1, including those the Connection
 * field names; and Expect, which node:http answers itself), 502 on an upstream error before the head, the connection
 * cut after it. No logging, no stats, no Via, no timeouts beyond the libraries' defaults: what any Node proxy on this
 * machine pays at the least. Args: UPSTREAM.
 */
import http from 'node:http';

import { Pool } from 'undici';

const target = process.argv[2];
const pool = new Pool(target, { connections: 256, keepAliveTimeout: 60_000 });

const HOP = new Set(['connection', 'expect', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** A copy of `headers` without the hop-by-hop fields (and without `skip`, when given). */
function endToEnd(headers, skip) {
  const named = headers.connection;
  const listed = named ? String(named).toLowerCase().split(',').map((s) => s.trim()) : null;
  const out = {};
  for (const name in headers) {
    if (HOP.has(name) || name === skip || (listed !== null && listed.includes(name))) continue;
    out[name] = headers[name];
  }
  return out;
}

const server = http.createServer((req, res) => {
  const bodyless = req.method === 'GET' || req.method === 'HEAD';
  if (bodyless) req.resume();
  pool.stream(
    { path: req.url, method: req.method, headers: endToEnd(req.headers, 'host'), body: bodyless ? null : req },
    ({ statusCode, headers }) => {
      res.writeHead(statusCode, endToEnd(headers));
      return res;
    },
    (err) => {
      if (!err) return;
      if (!res.headersSent) {
        res.writeHead(502, { 'content-length': 0 });
        res.end();
      } else {
        res.destroy();
      }
    },
  );
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ event: 'listening', url: `http://127.0.0.1:${server.address().port}` }));
});
