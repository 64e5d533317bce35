/**
 * @module Benchmark origin on raw sockets, the same three routes as origin.mjs (/small, /bytes/N, /upload) without
 * node:http's per-request machinery, so that on the shared load core the origin costs as little as possible and
 * the proxies, not the harness, bound the transfer figures. HTTP/1.1 keep-alive, requests handled in order
 * (pipelining included); request bodies only with Content-Length (a chunked one gets 501: the bench never sends it).
 */
import net from 'node:net';

const BLOCK = Buffer.from(Array.from({ length: 251 * 261 }, (_, i) => i % 251));
const SMALL = Buffer.from('hello from the benchmark origin\n');
const HEAD_END = Buffer.from('\r\n\r\n');

function respond(socket, status, type, body) {
  socket.write(`HTTP/1.1 ${status}\r\ncontent-type: ${type}\r\ncontent-length: ${body.length}\r\n\r\n`);
  socket.write(body);
}

const server = net.createServer({ noDelay: true }, (socket) => {
  let buf = Buffer.alloc(0);
  /** Body bytes still to read for the current request, and what to answer once they are in. */
  let bodyLeft = 0;
  let onBody = null;
  let streaming = false;
  const pump = () => {
    while (!streaming) {
      if (bodyLeft > 0) {
        const n = Math.min(bodyLeft, buf.length);
        bodyLeft -= n;
        buf = buf.subarray(n);
        if (bodyLeft > 0) return;
        const done = onBody; onBody = null; done?.();
        continue;
      }
      const end = buf.indexOf(HEAD_END);
      if (end < 0) { if (buf.length > 65536) socket.destroy(); return; }
      const head = buf.subarray(0, end).toString('latin1');
      buf = buf.subarray(end + 4);
      const target = head.slice(head.indexOf(' ') + 1, head.indexOf(' ', head.indexOf(' ') + 1));
      const cl = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
      if (/\r\ntransfer-encoding:/i.test(head)) { respond(socket, '501 Not Implemented', 'text/plain', Buffer.from('chunked bodies not supported\n')); socket.end(); return; }
      const length = cl ? Number(cl[1]) : 0;
      if (target === '/upload') {
        bodyLeft = length;
        onBody = () => respond(socket, '200 OK', 'text/plain', Buffer.from(String(length)));
        if (length === 0) { onBody(); onBody = null; }
        continue;
      }
      bodyLeft = length; // any other body is read and dropped
      const m = /^\/bytes\/(\d+)/.exec(target);
      if (target === '/small') respond(socket, '200 OK', 'text/plain', SMALL);
      else if (m) sendBytes(Number(m[1]));
      else respond(socket, '404 Not Found', 'text/plain', Buffer.alloc(0));
    }
  };
  const sendBytes = (total) => {
    socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: ${total}\r\n\r\n`);
    let left = total;
    streaming = true;
    const go = () => {
      while (left > 0) {
        const n = Math.min(left, BLOCK.length);
        left -= n;
        if (!socket.write(n === BLOCK.length ? BLOCK : BLOCK.subarray(0, n))) { socket.once('drain', go); return; }
      }
      streaming = false;
      pump();
    };
    go();
  };
  socket.on('data', (chunk) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    pump();
  });
  socket.on('error', () => socket.destroy());
});

server.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ event: 'listening', url: `http://127.0.0.1:${server.address().port}` }));
});
