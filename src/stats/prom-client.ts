/**
 * @module prom-client, loaded on the first scrape of /metrics rather than at start. With the OpenTelemetry API it
 * requires at load it is 60 modules; measured, `ferry proxy` at start 73.4 → 72.2 MiB RSS (issue 18: idle under
 * 70 MiB; docs/performance.md, "Idle memory"). The request path never touches it: prometheus.ts keeps plain tallies
 * that prom-client reads when scraped. prom-client is CommonJS, so it is required synchronously.
 * test/proxy/lean-loading.test.ts fails if starting a proxy loads it.
 */
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';

const require = createRequire(import.meta.url);
let loaded: typeof PromClient | undefined;

/** The prom-client module (loaded on the first call). */
export function promClient(): typeof PromClient {
  loaded ??= require('prom-client') as typeof PromClient;
  return loaded;
}
