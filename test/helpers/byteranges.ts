/** @module Test helper: read a multipart/byteranges body strictly, as a careful client would (RFC 9110 §14.6). */
import { parseContentRange } from '../../src/http/range.ts';

export interface ReceivedPart {
  headers: Record<string, string>;
  first: number;
  last: number;
  size: number | undefined;
  body: Buffer;
}

/** The boundary parameter of a `multipart/byteranges; boundary=…` Content-Type. */
export function boundaryOf(contentType: string | undefined): string {
  const m = /^multipart\/byteranges\s*;\s*boundary=("?)([^";]+)\1\s*$/i.exec(contentType ?? '');
  if (!m) throw new Error(`not multipart/byteranges: ${contentType}`);
  return m[2]!;
}

/** Split a body into parts; throws on any framing error (missing delimiter, wrong part length, junk after the close). */
export function parseByteranges(body: Buffer, boundary: string): ReceivedPart[] {
  const parts: ReceivedPart[] = [];
  const delimiter = Buffer.from(`--${boundary}`);
  let at = 0;
  // The first delimiter may be preceded by CRLF (RFC 2046: it belongs to the delimiter).
  if (body.subarray(0, 2).toString() === '\r\n') at = 2;
  for (;;) {
    if (!body.subarray(at, at + delimiter.length).equals(delimiter)) throw new Error(`expected delimiter at ${at}`);
    at += delimiter.length;
    const after = body.subarray(at, at + 2).toString('latin1');
    if (after === '--') {
      const rest = body.subarray(at + 2).toString('latin1');
      if (rest !== '' && rest !== '\r\n') throw new Error(`junk after close delimiter: ${JSON.stringify(rest.slice(0, 20))}`);
      return parts;
    }
    if (after !== '\r\n') throw new Error(`expected CRLF after delimiter at ${at}`);
    at += 2;
    const headEnd = body.indexOf('\r\n\r\n', at, 'latin1');
    if (headEnd < 0) throw new Error('part head not terminated');
    const headers: Record<string, string> = {};
    for (const line of body.subarray(at, headEnd).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Error(`bad part header line ${JSON.stringify(line)}`);
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    at = headEnd + 4;
    const cr = parseContentRange(headers['content-range']);
    if (cr.kind !== 'range') throw new Error(`part without a valid Content-Range: ${headers['content-range']}`);
    const length = cr.range.last - cr.range.first + 1;
    if (at + length > body.length) throw new Error('part body truncated');
    parts.push({ headers, first: cr.range.first, last: cr.range.last, size: cr.size, body: body.subarray(at, at + length) });
    at += length;
    if (body.subarray(at, at + 2).toString('latin1') !== '\r\n') throw new Error(`expected CRLF after part body at ${at}`);
    at += 2;
  }
}
