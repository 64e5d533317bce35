/**
 * @module The statistics as a plain HTML page for browsers (the live dashboard is a separate piece of work), and the
 * Accept check that picks it. Pure; no I/O.
 */
import type { StatsSnapshot } from './counters.ts';

/** Seconds between reloads of the page. */
export const HTML_REFRESH_SECONDS = 5;

interface MediaRange { type: string; q: number }

function parseAccept(accept: string): MediaRange[] {
  return accept.split(',').map((part) => {
    const [type = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const qp = params.find((p) => p.startsWith('q='));
    const q = qp === undefined ? 1 : Number(qp.slice(2));
    return { type, q: Number.isFinite(q) ? q : 0 };
  }).filter((m) => m.type !== '');
}

/**
 * RFC 9110 §12.5.1: a browser names text/html explicitly; `*∕*` alone (curl) or a JSON preference keeps JSON, which
 * is the default representation of the stats resource.
 */
export function prefersHtml(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  const ranges = parseAccept(accept);
  const qOf = (type: string) => Math.max(0, ...ranges.filter((m) => m.type === type).map((m) => m.q));
  const html = qOf('text/html');
  return html > 0 && html > qOf('application/json');
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** Flatten nested figures into `requests.byStatus.200`-style rows. */
function rows(value: unknown, prefix: string, out: Array<[string, string]>): void {
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) rows(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out.push([prefix, String(value)]);
  }
}

export function formatStatsHtml(snapshot: StatsSnapshot): string {
  const table: Array<[string, string]> = [];
  rows(snapshot, '', table);
  const body = table.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="${HTML_REFRESH_SECONDS}">
<title>ferry proxy statistics</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}th,td{padding:.2em .8em;border-bottom:1px solid #ddd;text-align:left}td{font-variant-numeric:tabular-nums;text-align:right}</style>
</head><body><h1>ferry proxy statistics</h1>
<table>
${body}
</table>
<p>Reloads every ${HTML_REFRESH_SECONDS} s. The same figures: <a href="?format=json">JSON</a> (or <code>curl</code> this page).</p>
</body></html>
`;
}
