/** @module Benchmark origin: /small (a short body), /bytes/N (N pattern bytes, streamed), /upload (counts the body). */
import http from 'node:http';


const BLOCK = Buffer.from(Array.from({ length: 251 * 261 }, (_, i) => i % 251));
const SMALL = Buffer.from('hello from the benchmark origin\n');

const server = http.createServer((req, res) => {
  const url = req.url ?? '/';
  if (url === '/small') {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': SMALL.length });
    res.end(SMALL);
    return;
  }
  const m = /^\/bytes\/(\d+)/.exec(url);
  if (m) {
    let left = Number(m[1]);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': left });
    const go = () => {
      while (left > 0) {
        const n = Math.min(left, BLOCK.length);
        left -= n;
        if (!res.write(n === BLOCK.length ? BLOCK : BLOCK.subarray(0, n))) { res.once('drain', go); return; }
      }
      res.end();
    };
    go();
    return;
  }
  if (url === '/upload') {
    let seen = 0;
    req.on('data', (c) => { seen += c.length; });
    req.on('end', () => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end(String(seen)); });
    return;
  }
  req.resume();
  res.writeHead(404, { 'content-length': 0 });
  res.end();
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const port = (server.address()).port;
  console.log(JSON.stringify({ event: 'listening', url: `http://127.0.0.1:${port}` }));
});
