/**
 * @module ferry's TLS listener with HTTP/2 (server/tls-listener.ts around the proxy handler, as `--tls-cert` makes
 * it; the CLI's defaults, access log at warn) for the h2 benchmark. Args: UPSTREAM CERT_FILE KEY_FILE. Prints `{"url":"http://127.0.0.1:PORT"}`
 * (the bench's startPinned reads that form; the port speaks TLS).
 */
import type { AddressInfo } from 'node:net';
import { createProxy, serveProxy } from '../../src/proxy/create-proxy.ts';
import { createLogger } from '../../src/server/logger.ts';

const [upstream, certFile, keyFile] = process.argv.slice(2);
const proxy = createProxy({ upstream: upstream!, log: createLogger('proxy', 'warn') });
await proxy.ready();
const { server } = serveProxy(proxy, { pairs: [{ certFile: certFile!, keyFile: keyFile! }] });
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ event: 'listening', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
