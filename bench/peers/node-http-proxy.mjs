/** @module node-http-proxy (npm `http-proxy`) as a benchmark peer, with a keep-alive agent (its best configuration). */
import http from 'node:http';

import httpProxy from 'http-proxy';

const target = process.argv[2];
const proxy = httpProxy.createProxyServer({ target, agent: new http.Agent({ keepAlive: true, maxSockets: 256 }), xfwd: true });
proxy.on('error', (_err, _req, res) => {
  const r = res;
  if (!r.headersSent) r.writeHead(502);
  r.end();
});
const server = http.createServer((req, res) => proxy.web(req, res));
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ event: 'listening', url: `http://127.0.0.1:${(server.address()).port}` }));
});
