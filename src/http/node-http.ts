/**
 * @module node:http loaded with require(), for every module of ferry that uses it as a value. An ES `import` of
 * node:http makes Node read each of its exports to fill the module namespace, and three of them (WebSocket,
 * CloseEvent, MessageEvent) are getters that load Node's own bundled undici: +12 MiB of RSS for a bare Node 24,
 * +2 MiB for ferry proxy at idle (docs/performance.md, "Idle memory"). Type-only imports (`import type … from
 * 'node:http'`) are erased and stay as they are; test/proxy/lean-loading.test.ts keeps value imports out of src/.
 */
import { createRequire } from 'node:module';

export const http = createRequire(import.meta.url)('node:http') as typeof import('node:http');
export const STATUS_CODES = http.STATUS_CODES;
