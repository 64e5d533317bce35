/** @module @fastify/http-proxy (undici underneath) as a benchmark peer, logging off. */
import proxy from '@fastify/http-proxy';
import Fastify from 'fastify';

const upstream = process.argv[2];
const app = Fastify({ logger: false, keepAliveTimeout: 60_000, bodyLimit: 2 ** 40 });
await app.register(proxy, { upstream });
const url = await app.listen({ port: 0, host: '127.0.0.1' });
console.log(JSON.stringify({ event: 'listening', url }));
