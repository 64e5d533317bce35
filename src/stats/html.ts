/**
 * @module Which representation of the stats resource a request asks for (JSON, the HTML dashboard, or the event
 * stream), and HTML escaping. Pure; no I/O. The dashboard itself is dashboard.ts.
 */

interface MediaRange { type: string; q: number }

function parseAccept(accept: string): MediaRange[] {
  return accept.split(',').map((part) => {
    const [type = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const qp = params.find((p) => p.startsWith('q='));
    const q = qp === undefined ? 1 : Number(qp.slice(2));
    return { type, q: Number.isFinite(q) ? q : 0 };
  }).filter((m) => m.type !== '');
}

function qualityOf(accept: string, type: string): number {
  return Math.max(0, ...parseAccept(accept).filter((m) => m.type === type).map((m) => m.q));
}

/**
 * RFC 9110 §12.5.1: a browser names text/html explicitly; `*∕*` alone (curl) or a JSON preference keeps JSON, which
 * is the default representation of the stats resource.
 */
export function prefersHtml(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  const html = qualityOf(accept, 'text/html');
  return html > 0 && html > qualityOf(accept, 'application/json');
}

/** EventSource sends `Accept: text/event-stream` (WHATWG HTML §9.2.2); scripts may ask the same way. */
export function prefersEventStream(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  const events = qualityOf(accept, 'text/event-stream');
  return events > 0 && events >= qualityOf(accept, 'application/json') && events >= qualityOf(accept, 'text/html');
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}
