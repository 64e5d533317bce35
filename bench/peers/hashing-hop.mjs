/**
 * @module A reference for the relay benchmark: the leanest Node hop in the relay's place. An absolute-form HTTP proxy
 * (node:http, keep-alive) that SHA-256-hashes every byte it forwards in both directions, as each relay process must,
 * and nothing else: no chunking, no signing, no protocol. Two of them chained (app → hop → hop → origin) have the
 * relay's four-process layout, so their ratio to direct is the floor that layout sets on this machine.
 *   node bench/peers/hashing-hop.mjs [nextHopUrl]
 */
import http from 'node:http';
import { createHash } from 'node:crypto';

const next = process.argv[2] ? new URL(process.argv[2]) : null;
const agent = new http.Agent({ keepAlive: true });
const server = http.createServer((req, res) => {
  const target = new URL(req.url);
  const via = next ?? target;
  const up = http.request({ host: via.hostname, port: via.port, method: req.method, path: next ? req.url : target.pathname + target.search, headers: req.headers, agent }, (r) => {
    res.writeHead(r.statusCode, r.headers);
    const h = createHash('sha256');
    r.on('data', (c) => h.update(c));
    r.pipe(res);
  });
  up.on('error', () => res.destroy());
  const h = createHash('sha256');
  req.on('data', (c) => h.update(c));
  req.pipe(up);
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ event: 'listening', url: `http://127.0.0.1:${server.address().port}` })));
