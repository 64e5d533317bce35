/**
 * @module The dashboard page: an HTML shell plus one script and one stylesheet (src/stats/dashboard/), all served by
 * ferry itself — no framework, no CDN, works offline. The shell names the assets with a content hash, so they can
 * be cached for good while the shell itself is never stored. Pure apart from reading the two files once.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { HeaderList } from '../http/headers.ts';
import { escapeHtml } from './html.ts';

export interface Asset { body: Buffer; type: string; hash: string }

const load = (name: string, type: string): Asset => {
  const body = readFileSync(new URL(`./dashboard/${name}`, import.meta.url));
  return { body, type, hash: createHash('sha256').update(body).digest('base64url').slice(0, 12) };
};

let assets: Record<'app.js' | 'app.css', Asset> | null = null;

/** The two assets, read on first use (a proxy that never serves the page never reads them). */
export function dashboardAssets(): Record<'app.js' | 'app.css', Asset> {
  assets ??= { 'app.js': load('app.js', 'text/javascript; charset=utf-8'), 'app.css': load('app.css', 'text/css; charset=utf-8') };
  return assets;
}

/**
 * No inline script or style anywhere (the script builds the page through the DOM API and sets styles through
 * CSSOM, which CSP does not restrict); the event stream and the JSON are same-origin.
 */
export const DASHBOARD_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Headers of the shell and the assets (RFC 9111 §5.2.2: the shell is no-store like the JSON; assets are immutable by URL). */
export function dashboardHeaders(kind: 'page' | 'asset'): HeaderList {
  return [
    ['cache-control', kind === 'page' ? 'no-store' : 'private, max-age=31536000, immutable'],
    ['content-security-policy', DASHBOARD_CSP],
    ['x-content-type-options', 'nosniff'],
    ['referrer-policy', 'no-referrer'],
  ];
}

/** The shell: everything visible is drawn by app.js from the event stream; without script, a pointer to the JSON. */
export function dashboardHtml(statsPath: string): string {
  const a = dashboardAssets();
  const base = escapeHtml(statsPath);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>ferry · dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${base}/app.css?v=${a['app.css'].hash}">
<script type="module" src="${base}/app.js?v=${a['app.js'].hash}"></script>
</head><body data-stats-path="${base}">
<noscript><p>The dashboard needs JavaScript. The same figures: <a href="${base}?format=json">JSON</a>.</p></noscript>
<div id="app"></div>
</body></html>
`;
}
