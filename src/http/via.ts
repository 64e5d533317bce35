/** @module The Via field (RFC 9110 §7.6.3): each intermediary appends `protocol-version pseudonym`. Pure. */
import type { HeaderList } from './headers.ts';

/**
 * `1.1 ferry` for HTTP/1.1, `2 ferry` for HTTP/2 (Node reports it `2.0`; the version is `2`: RFC 9113 §3, RFC 9110
 * §7.6.3 examples); the protocol name is omitted for HTTP (RFC 9110 §7.6.3: `received-protocol`).
 */
export function formatViaEntry(httpVersion: string, pseudonym: string): string {
  // the last entry built is kept: a proxy adds the same one (`1.1 ferry`) both ways on nearly every request
  if (httpVersion === last.version && pseudonym === last.pseudonym) return last.entry;
  const entry = `${httpVersion === '2.0' ? '2' : httpVersion} ${pseudonym}`;
  last = { version: httpVersion, pseudonym, entry };
  return entry;
}
let last = { version: '', pseudonym: '', entry: ' ' };

/**
 * A copy with our entry appended to the end of the Via list. Existing lines are joined into one so that readers
 * that only look at the first line still see the whole chain in order.
 */
export function addVia(headers: HeaderList, httpVersion: string, pseudonym: string): HeaderList {
  const entry = formatViaEntry(httpVersion, pseudonym);
  let seen = false;
  for (const h of headers) if (h[0] === 'via') { seen = true; break; }
  // the usual message has no Via yet: one copy at its final size (http/headers.ts, "Sizes")
  if (!seen) return headers.concat([['via', entry]]);
  const prior: string[] = [];
  const out: HeaderList = [];
  for (const h of headers) {
    if (h[0] === 'via') prior.push(h[1]);
    else out.push(h);
  }
  prior.push(entry);
  out.push(['via', prior.length === 1 ? prior[0]! : prior.join(', ')]); // (the usual single entry: no join)
  return out;
}
