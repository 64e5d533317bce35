/**
 * @module undici's Agent loaded from its own file, without undici's index: the index also loads fetch, WebSocket,
 * EventSource, the HTTP cache, the mocks and the interceptors (109 files, 1.3 MB of source at ferry proxy's start),
 * none of which the proxy's default upstream path uses. Measured: ferry proxy idle RSS −2.5 MiB (docs/performance.md,
 * "Idle memory"). The index is still loaded, on first use, where its side effect is needed: it attaches
 * request/stream/connect to every dispatcher (`Object.assign(Dispatcher.prototype, api)`), and ProxyAgent's CONNECT
 * tunnel calls `connect` on its client, so `--upstream-proxy` takes the whole of undici.
 * undici has no `exports` map, so its files can be required by path; test/proxy/lean-loading.test.ts fails if the
 * file moves or stops being the index's Agent.
 *
 * undici's Client also requires its HTTP/2 client (`lib/dispatcher/client-h2.js`) when it loads, and that requires
 * node:http2, which loads node:tls: +4.3 MiB of RSS at rest (http/lazy-builtins.ts) for a path used only when an https
 * origin agrees to h2 by ALPN (`--upstream-h2`, undici's allowH2). The file exports one function, `connectH2(client,
 * socket)`, which Client calls on such a connection; while the Agent loads, a stand-in with the same signature sits in
 * the module cache and loads the real file on its first call (the cache entry is removed again, so that require loads
 * the file itself). test/proxy/upstream-h2.test.ts covers the h2 path through the stand-in.
 */
import { createRequire, Module } from 'node:module';
import type * as Undici from 'undici';

const require = createRequire(import.meta.url);

type ConnectH2 = (client: unknown, socket: unknown) => unknown;

/** undici's Agent, loaded with a stand-in for its HTTP/2 client in the module cache (see the module comment). */
function loadAgent(): typeof Undici.Agent {
  const h2File = require.resolve('undici/lib/dispatcher/client-h2.js');
  if (require.cache[h2File] !== undefined) return require('undici/lib/dispatcher/agent.js') as typeof Undici.Agent; // loaded already
  let real: ConnectH2 | undefined;
  const standIn = new Module(h2File);
  standIn.filename = h2File;
  standIn.loaded = true;
  standIn.exports = function connectH2(client: unknown, socket: unknown): unknown {
    real ??= require(h2File) as ConnectH2;
    return real(client, socket);
  };
  require.cache[h2File] = standIn;
  try {
    return require('undici/lib/dispatcher/agent.js') as typeof Undici.Agent;
  } finally {
    delete require.cache[h2File];
  }
}

/** The class `import { Agent } from 'undici'` gives (the same object: one module cache). */
export const Agent: typeof Undici.Agent = loadAgent();

type RequestOptions = Omit<Undici.Dispatcher.RequestOptions, 'origin' | 'path'>;
type ApiRequest = (this: Undici.Dispatcher, options: Undici.Dispatcher.RequestOptions) => Promise<Undici.Dispatcher.ResponseData>;
let apiRequest: ApiRequest | undefined;

/**
 * `undici.request(url, { ...options, dispatcher })` without undici's index: its request API from its own file
 * (the function the index attaches to every dispatcher as `request`), loaded on the first call. The relay client's
 * one call shape (relay/gateway-transport.ts): relay-client at rest 75.5 → 68.1 MiB (docs/performance.md, "Relay roles
 * at rest").
 */
export function requestVia(dispatcher: Undici.Dispatcher, url: URL, options: RequestOptions): Promise<Undici.Dispatcher.ResponseData> {
  apiRequest ??= require('undici/lib/api/api-request.js') as ApiRequest;
  return apiRequest.call(dispatcher, { ...options, origin: url.origin, path: url.search ? `${url.pathname}${url.search}` : url.pathname });
}

/** The whole of undici, loaded on the first call (for ProxyAgent and EnvHttpProxyAgent, see the module comment). */
export function fullUndici(): typeof Undici {
  return require('undici') as typeof Undici;
}
