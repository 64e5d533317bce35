/**
 * @module ferry as a library (createProxyServer from the compiled dist/), without the CLI. Shows the proxy core's own
 * cost apart from what the CLI loads for the other roles. Args: DIST_DIR UPSTREAM.
 */
const [dist, upstream] = process.argv.slice(2);
const { createProxyServer } = await import(`${dist}/proxy/create-proxy.js`);
const { createLogger } = await import(`${dist}/server/logger.js`);
const { server } = createProxyServer({ upstream, log: createLogger('proxy', 'warn') });
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ event: 'listening', url: `http://127.0.0.1:${server.address().port}` })));
