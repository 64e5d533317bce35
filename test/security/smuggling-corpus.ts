/**
 * @module The request-smuggling corpus (RELIABILITY S1): raw client bytes, each tagged
 *   - invalid: must be answered 400 (501 for an unknown transfer coding, 413/431 for limits), the connection closed,
 *     and nothing at all reach the upstream (no byte, no connection);
 *   - risky: valid but odd; must be forwarded only in ferry's canonical form (see `expectedWire` in the test).
 * Sources (one-line payloads from public test corpora, reproduced as data with their origin):
 *   garden-s N / garden-t N / garden-b N — narfindustries/http-garden TROPHIES.md, server / transducer / bonus bug N
 *   rfc9112 §n — the rule in RFC 9112 (RELIABILITY 1.1)
 *   haproxy <file> cN — haproxy reg-tests/http-messaging/<file>.vtc, client cN
 *   nginx body_chunked.t — nginx-tests body_chunked.t; varnish fNNNNN — varnish-cache bin/varnishtest/tests
 *   node — nodejs/node test/parallel/test-http-transfer-encoding-smuggling.js; llhttp <file> — llhttp test/request
 *   ferry — cases ferry's own rules add (S6, S7, S12).
 * Garden payloads without a Host field get `Host: a` after the request line ("+Host"), so that they exercise the
 * rule they were written for instead of the missing-Host check (which has its own vectors).
 */

export interface InvalidVector {
  kind: 'invalid';
  name: string;
  source: string;
  raw: string;
  status: number | readonly number[];
  /** Run against the proxy started with a 1 KiB body limit. */
  limited?: boolean;
}

/** One request as ferry must forward it: framing is added by the matcher (Content-Length or canonical chunks). */
export interface Forwarded {
  method: string;
  target: string;
  host: string;
  /** End-to-end fields in order, names lower-cased, values trimmed. */
  fields?: ReadonlyArray<readonly [string, string]>;
  /** undefined: no body and no framing field. */
  body?: string;
  /** Version the client spoke (Via: 1.0 / 1.1 ferry). */
  via?: '1.0' | '1.1';
}

export interface RiskyVector {
  kind: 'risky';
  name: string;
  source: string;
  raw: string;
  forwarded: readonly Forwarded[];
  /** Statuses the client may see, in order (default: 200 once per forwarded request). */
  statuses?: ReadonlyArray<readonly number[]>;
}

export type Vector = InvalidVector | RiskyVector;

const H = 'Host: a\r\n';
const TE = 'Transfer-Encoding: chunked\r\n';
const inv = (source: string, name: string, raw: string, status: number | readonly number[] = 400): InvalidVector => ({ kind: 'invalid', name, source, raw, status });
const risky = (source: string, name: string, raw: string, forwarded: readonly Forwarded[], statuses?: ReadonlyArray<readonly number[]>): RiskyVector =>
  ({ kind: 'risky', name, source, raw, forwarded, ...(statuses ? { statuses } : {}) });
const post = (body: string | undefined, fields: ReadonlyArray<readonly [string, string]> = [], target = '/'): Forwarded => ({ method: 'POST', target, host: 'a', fields, ...(body === undefined ? {} : { body }) });
const get = (target = '/', fields: ReadonlyArray<readonly [string, string]> = [], body?: string): Forwarded => ({ method: 'GET', target, host: 'a', fields, ...(body === undefined ? {} : { body }) });

/** RFC 9112 §6 / §5 / §3.2 and ferry's own rules (the corpus' first 43 vectors, now with their sources). */
const RFC_AND_FERRY: Vector[] = [
  inv('rfc9112 §6.1 / garden-t 23', 'CL + TE', `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\n${TE}\r\n0\r\n\r\n`),
  inv('rfc9112 §6.1', 'TE + CL', `POST / HTTP/1.1\r\n${H}${TE}Content-Length: 5\r\n\r\n0\r\n\r\n`),
  inv('rfc9112 §6.3 item 5', 'duplicate differing Content-Length', `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`),
  inv('rfc9112 §6.3 item 5', 'duplicate identical Content-Length', `POST / HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`),
  inv('rfc9112 §6.3 item 5', 'Content-Length list', `POST / HTTP/1.1\r\n${H}Content-Length: 5, 5\r\n\r\nhello`),
  inv('rfc9112 §6.3 item 5', 'Content-Length not a number', `POST / HTTP/1.1\r\n${H}Content-Length: 5x\r\n\r\nhello`),
  inv('rfc9112 §6.3 item 5', 'Content-Length negative', `POST / HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n`),
  inv('rfc9112 §6.3 item 5', 'Content-Length with plus', `POST / HTTP/1.1\r\n${H}Content-Length: +5\r\n\r\nhello`),
  inv('rfc9112 §6.1', 'TE xchunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`),
  inv('rfc9112 §6.1', 'TE unknown coding before chunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n`, 501),
  inv('rfc9112 §5.2', 'TE obs-folded', `POST / HTTP/1.1\r\n${H}Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n`),
  inv('rfc9112 §6.1 / haproxy http_transfer_encoding c2', 'TE in HTTP/1.0', `POST / HTTP/1.0\r\n${H}${TE}\r\n0\r\n\r\n`),
  inv('rfc9112 §5.2', 'obs-fold', `GET / HTTP/1.1\r\n${H}X-A: a\r\n b\r\n\r\n`),
  inv('rfc9112 §2.2', 'bare CR in a value', `GET / HTTP/1.1\r\n${H}X-A: a\rb\r\n\r\n`),
  inv('rfc9112 §5.1', 'whitespace before colon', `GET / HTTP/1.1\r\nHost : example.test\r\n\r\n`),
  inv('rfc9112 §5', 'empty field name', `GET / HTTP/1.1\r\n${H}: x\r\n\r\n`),
  inv('rfc9112 §5', 'NUL in a value', `GET / HTTP/1.1\r\n${H}X-A: a\x00b\r\n\r\n`),
  inv('rfc9112 §5', 'invalid field-name character', `GET / HTTP/1.1\r\n${H}X(A): 1\r\n\r\n`),
  inv('rfc9112 §3.2', 'duplicate Host', `GET / HTTP/1.1\r\n${H}Host: evil.test\r\n\r\n`),
  inv('rfc9112 §3.2', 'duplicate Host, differing case', `GET / HTTP/1.1\r\n${H}host: evil.test\r\n\r\n`),
  inv('rfc9112 §3.2', 'missing Host in HTTP/1.1', 'GET / HTTP/1.1\r\nX-A: 1\r\n\r\n'),
  inv('rfc9112 §3.2', 'invalid Host authority', 'GET / HTTP/1.1\r\nHost: a b@evil\r\n\r\n'),
  inv('rfc9112 §3.2', 'Host with a path', 'GET / HTTP/1.1\r\nHost: good.test/evil\r\n\r\n'),
  inv('ferry S6', 'duplicate Authorization', `GET / HTTP/1.1\r\n${H}Authorization: Bearer a\r\nAuthorization: Bearer b\r\n\r\n`),
  inv('ferry S7', 'Connection naming Transfer-Encoding', `POST / HTTP/1.1\r\n${H}Connection: close, Transfer-Encoding\r\n${TE}\r\n0\r\n\r\n`),
  inv('rfc9112 §7.1', 'chunk size not hex', `POST / HTTP/1.1\r\n${H}${TE}\r\nzz\r\nhello\r\n0\r\n\r\n`),
  inv('rfc9112 §7.1', 'chunk size with 0x', `POST / HTTP/1.1\r\n${H}${TE}\r\n0x5\r\nhello\r\n0\r\n\r\n`),
  inv('rfc9112 §7.1', 'chunk size overflow (17 hex digits)', `POST / HTTP/1.1\r\n${H}${TE}\r\n${'f'.repeat(17)}\r\nhello\r\n0\r\n\r\n`),
  inv('rfc9112 §7.1', 'missing CRLF after chunk data', `POST / HTTP/1.1\r\n${H}${TE}\r\n5\r\nhelloXX0\r\n\r\n`),
  inv('node CVE-2024-22019', 'chunk extension over 16 KiB', `POST / HTTP/1.1\r\n${H}${TE}\r\n5;${'a'.repeat(20_000)}\r\nhello\r\n0\r\n\r\n`, 413),
  inv('rfc9112 §3', 'space in request-target', `GET /a b HTTP/1.1\r\n${H}\r\n`),
  inv('rfc9112 §3', 'control character in request-target', `GET /a\x01b HTTP/1.1\r\n${H}\r\n`),
  inv('rfc9112 §2.3', 'invalid HTTP version', `GET / HTTP/1.x\r\n${H}\r\n`, 400),
  inv('rfc9112 §3.2.1', 'fragment in request-target', `GET /a#b HTTP/1.1\r\n${H}\r\n`),
  inv('ferry S12', 'invalid UTF-8 in request-target', `GET /\xff\xfe HTTP/1.1\r\n${H}\r\n`),
  inv('ferry S12 / R2', '2000 header fields', `GET / HTTP/1.1\r\n${H}${Array.from({ length: 2000 }, (_, i) => `X-${i}: v\r\n`).join('')}\r\n`, 431),
  inv('ferry R1', 'header line over 16 KiB', `GET / HTTP/1.1\r\n${H}X-Big: ${'b'.repeat(17_000)}\r\n\r\n`, 431),
  { ...inv('rfc9112 §6.2 / nginx body_chunked.t', 'Content-Length over --max-body (1 KiB)', `POST / HTTP/1.1\r\n${H}Content-Length: 1025\r\n\r\n${'A'.repeat(1025)}`, 413), limited: true },
  inv('rfc9112 §3.2.2', 'absolute-form without --forward', `GET http://evil.test/ HTTP/1.1\r\nHost: evil.test\r\n\r\n`),
  // a request pipelined behind a refused one is never processed: its bytes may be the refused request's body
  inv('ferry S13 / rfc9112 §9.6', 'request pipelined behind a refusal (Connection: content-length)', `POST / HTTP/1.1\r\n${H}Connection: content-length\r\nContent-Length: 5\r\n\r\nhelloGET /smuggled HTTP/1.1\r\n${H}\r\n`),
  inv('ferry S13 / rfc9112 §9.6', 'request pipelined behind a refusal (duplicate Host)', `GET / HTTP/1.1\r\n${H}Host: b\r\n\r\nGET /smuggled HTTP/1.1\r\n${H}\r\n`),
  inv('ferry S13 / differential seed', 'request pipelined behind a refusal (no Host)', `POST / HTTP/1.1\r\nost:\t a\t\r\nContent-Length: 5\r\n\r\nhelloPOST / HTTP/1.1\r\n${H}Content-Length: 2\r\n\r\nhi`),
  inv('ferry S13 / rfc9112 §9.6', 'request pipelined behind a refusal (TE in HTTP/1.0)', `POST / HTTP/1.0\r\n${H}${TE}\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n${H}\r\n`),
  inv('rfc9112 §2.3 / differential seed', 'HTTP/0.9 request-line followed by field lines', `GET /HTTP/1.1\r\n${H}\r\n`, 505),
  inv('rfc9112 §2.3 / garden-s 9', 'HTTP/0.9 request-line', 'GET /\r\n\r\n', 505),
  inv('rfc9112 §7.1', 'chunk size with trailing space before CRLF', `POST / HTTP/1.1\r\n${H}${TE}\r\n5 \r\nhello\r\n0\r\n\r\n`),
  inv('rfc9112 §7.1.3', 'obs-fold inside the trailer section', `POST / HTTP/1.1\r\n${H}${TE}\r\n0\r\nX-T: a\r\n b\r\n\r\n`),
  inv('rfc9112 §7.1.3', 'bare CR in a trailer field', `POST / HTTP/1.1\r\n${H}${TE}\r\n0\r\nX-T: a\rb\r\n\r\n`),
  inv('rfc9112 §3', 'lower-case HTTP name', `GET / http/1.1\r\n${H}\r\n`, 400),
  inv('rfc9112 §3', 'tab as request-line separator', `GET\t/ HTTP/1.1\r\n${H}\r\n`),
  inv('rfc9112 §2.2', 'bare CR ends the request line', `GET / HTTP/1.1\r${H}\r\n`),
  inv('rfc9112 §2.2', 'bare LF ends one field line', `GET / HTTP/1.1\r\n${H}X-A: 1\nX-B: 2\r\n\r\n`),
  inv('rfc9112 §3.2', 'empty Host with another Host', `GET / HTTP/1.1\r\nHost:\r\n${H}\r\n`),
  inv('rfc9112 §6.1', 'TE split over two lines: gzip, then chunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 501),
];

/** HTTP Garden TROPHIES.md: server bugs (how origins misread) — ferry must refuse what would reach them misread. */
const GARDEN_SERVER: Vector[] = [
  inv('garden-s 1/22', 'chunk size 0_2e (Python int)', `GET / HTTP/1.1\r\n${H}${TE}\r\n0_2e\r\n\r\nGET / HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\n0\r\n\r\n`),
  inv('garden-s 2', 'NUL and CR in a value', `GET / HTTP/1.1\r\n${H}Header: v\x00\ralue\r\n\r\n`),
  inv('garden-s 3', 'Content-Length with space before colon', `GET / HTTP/1.1\r\nHost: whatever\r\nContent-Length : 34\r\n\r\nGET / HTTP/1.1\r\nHost: whatever\r\n\r\n`),
  inv('garden-s 4 (+Host)', 'whitespace before the first field name', `GET / HTTP/1.1\r\n\tContent-Length: 1\r\n${H}\r\nX`),
  inv('garden-s 5 (+Host)', 'HTTP/1.32', `GET /test HTTP/1.32\r\n${H}\r\n`, 400),
  inv('garden-s 6 (+Host)', 'method with separators', `G=":<>(e),[T];?" /get HTTP/1.1\r\n${H}\r\n`),
  inv('garden-s 7 (+Host)', 'request-target "!"', `GET ! HTTP/1.1\r\n${H}\r\n`),
  inv('garden-s 8 (+Host)', 'non-ASCII byte in a field name', `GET / HTTP/1.1\r\n${H}\xefoo: bar\r\n\r\n`),
  inv('garden-s 9 (+Host)', 'bare LF as request-line separator', `GET /\nHTTP/1.1\r\n${H}\r\n`),
  inv('garden-s 10', 'Content-Length +1_0', `GET / HTTP/1.1\r\n${H}Content-Length: +1_0\r\n\r\n0123456789`),
  inv('garden-s 11 / garden-t 25 (+Host)', 'two Transfer-Encoding: chunked lines', `POST / HTTP/1.1\r\n${H}${TE}${TE}\r\n1\r\nZ\r\n0\r\n\r\n`),
  inv('garden-s 12', 'Transfer-Encoding wrapped in \\xa0', `POST / HTTP/1.1\r\nHost: whatever\r\nTransfer-Encoding: \xa0chunked\xa0\r\n\r\n0\r\n\r\n`, 400),
  inv('garden-s 13 (+Host)', 'bare CR splitting a field line', `GET / HTTP/1.1\r\n${H}Visible: :/\rSmuggled: :)\r\n\r\n`),
  inv('garden-s 14 (+Host)', 'control and separator bytes in a field name', `GET / HTTP/1.1\r\n${H}\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "(),/;<=>?@[/]{}: whatever\r\n\r\n`),
  inv('garden-s 15 (+Host)', 'CRs inside the HTTP version', `GET / HTTP/\r\r1.1\r\n${H}\r\n`, 400),
  inv('garden-s 16', 'empty Content-Length', `GET / HTTP/1.1\r\nHost: whatever\r\nContent-Length: \r\n\r\n`),
  inv('garden-s 17', 'empty chunk size', `GET / HTTP/1.1\r\nHost: whatever\r\n${TE}\r\n\r\n\r\n`),
  inv('garden-s 18', 'empty field name before Host', `GET / HTTP/1.1\r\n: ignored\r\nHost: whatever\r\n\r\n`),
  inv('garden-s 19', 'bare LF after an empty value', `GET / HTTP/1.1\r\n${H}Useless:\n\nGET / HTTP/1.1\r\n\r\n`),
  inv('garden-s 20', '\\x85 before the colon of Content-Length', `GET / HTTP/1.1\r\n${H}Content-Length\x85: 10\r\n\r\n0123456789`),
  inv('garden-s 21 / garden-t 18', 'TE ",chunked" with Content-Length', `GET / HTTP/1.1\r\nHost: whatever\r\nTransfer-Encoding: ,chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n`),
  inv('garden-s 23', 'Content-Length 1 then 0', `GET / HTTP/1.1\r\n${H}Content-Length: 1\r\nContent-Length: 0\r\n\r\nZ`),
  inv('garden-s 24 (+Host)', 'HTTP/4294967295.255', `GET / HTTP/4294967295.255\r\n${H}\r\n`, 400),
  inv('garden-s 26', 'Content-Length -48', `GET / HTTP/1.1\r\n${H}Content-Length: -48\r\n\r\n`),
  inv('garden-s 27 (+Host)', 'line with only a colon', `GET / HTTP/1.1\r\n${H}:\r\nI: am chopped off\r\n\r\n`),
  inv('garden-s 28 (+Host)', 'field line without a colon', `GET / HTTP/1.1\r\n${H}Content-Length 10\r\n\r\n0123456789`),
  inv('garden-s 29 (+Host)', 'Content-Length 1Z', `GET / HTTP/1.1\r\n${H}Content-Length: 1Z\r\n\r\nZ`),
  inv('garden-s 30', 'head ended by CRLF CR X', `GET / HTTP/1.1\r\n${H}\r\rZGET /evil: HTTP/1.1\r\n${H}\r\n`),
  inv('garden-s 31', 'chunk line ended by CR CR', `GET / HTTP/1.1\r\n${H}${TE}\r\n5\r\r;ABCD\r\n34\r\nE\r\n0\r\n\r\nGET / HTTP/1.1\r\n${H}Content-Length: 5\r\n\r\n0\r\n\r\n`),
  inv('garden-s 33', 'Content-Length 0 then 1', `GET / HTTP/1.1\r\n${H}Content-Length: 0\r\nContent-Length: 1\r\n\r\nZ`),
  inv('garden-s 34', 'CR inside a value', `GET / HTTP/1.1\r\nHost: whatever\r\nHeader: va\rlue\r\n\r\n`),
  inv('garden-s 35', 'NUL then bytes in a value', `GET / HTTP/1.1\r\nHost: whatever\r\nTest: test\x00THESE BYTES GET DROPPED\r\nConnection: close\r\n\r\n`),
  inv('garden-s 36', 'CR in chunk-ext whitespace (Akamai)', `POST /abc HTTP/1.1\r\n${TE}Host: h2o.http-garden.us\r\n\r\n41;a=b\r\r${'X'.repeat(65)}\r\n0\r\n\r\nGET /bad_path/pwned HTTP/1.1\r\n${H}Content-Length: 412\r\n\r\n0\r\n\r\nGET /def HTTP/1.1\r\nHost: h2o.http-garden.us\r\n\r\n`),
  inv('garden-s 37', 'field name continued on the next line', `POST / HTTP/1.1\r\nHost: whatever\r\nTransfer-\r\nEncoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n`),
  inv('garden-s 38', 'empty Content-Length then a request', `GET / HTTP/1.1\r\nHost: localhost\r\nContent-Length: \r\n\r\nGET / HTTP/1.1\r\nHost: localhost\r\n\r\n`),
  inv('garden-s 40 (+Host)', 'NUL method, dotted version', `\x00 / HTTP/............0596.7407.\r\n${H}\r\n`, 400),
  inv('garden-s 42 (+Host)', 'empty Content-Length then Content-Length 43', `GET / HTTP/1.1\r\n${H}Content-Length: \r\nContent-Length: 43\r\n\r\nPOST /evil HTTP/1.1\r\nContent-Length: 18\r\n\r\nGET / HTTP/1.1\r\n\r\n`),
  inv('garden-s 43 (+Host)', 'NUL at the end of a value', `GET / HTTP/1.1\r\n${H}Evil: evil\x00\r\n\r\n`),
  inv('garden-s 44', 'unknown transfer coding "blegh"', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: blegh\r\n\r\n1\r\nZ\r\n0\r\n\r\n`, 400),
  // Node answers 400 to the whole buffer when bytes follow a Connection: close request in the same read: nothing forwarded
  inv('garden-s 45 (+Host)', 'invalid bytes pipelined after Connection: close', `GET / HTTP/1.1\r\n${H}Connection: close\r\n\r\nInvalid\r\n\r\n`),
  inv('garden-s 46', '\\xff around Host and Transfer-Encoding', `POST / HTTP/1.1\r\nHost: \xffa\xff\r\nTransfer-Encoding: \xffchunked\xff\r\n\r\n1\r\nZ\r\n0\r\n\r\n`, 400),
  // the valid request before the NUL is cancelled too: its connection is answered 400 and closed (abortInFlight)
  inv('garden-b 3', 'NUL after a complete chunked request', `GET / HTTP/1.1\r\nHost: whatever\r\n${TE}\r\n0\r\n\r\n\x00`),
  inv('garden-s 47', 'invalid chunk line then a request', `POST / HTTP/1.1\r\nHost: whatever\r\n${TE}\r\nINVALID!!!\r\nGET / HTTP/1.1\r\nHost: whatever\r\n\r\n`),
];

/** HTTP Garden TROPHIES.md: transducer bugs (what proxies forwarded) and bonus bugs. */
const GARDEN_TRANSDUCER: Vector[] = [
  inv('garden-t 1', 'Content-Length 0x10', `POST / HTTP/1.1\r\nHost: akamai.my-domain.cool\r\nContent-Length: 0x10\r\n\r\nZ`),
  inv('garden-t 2', 'chunk sizes Z, ZZ, ZZZ', `POST / HTTP/1.1\r\nHost: akamai.my-domain.cool\r\n${TE}\r\nZ\r\nZZ\r\nZZZ\r\n\r\n`),
  inv('garden-t 3', 'CR before the chunk-ext semicolon', `POST / HTTP/1.1\r\nHost: server.my-domain.cool\r\n${TE}\r\n2\r\r;a\r\n02\r\n41\r\n0\r\n\r\nGET /bad_path/pwned HTTP/1.1\r\n${H}Content-Length: 430\r\n\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: server.my-domain.cool\r\n\r\n`),
  inv('garden-t 4 (+Host)', 'two spaces before the version, CR-only chunk line', `POST /  HTTP/1.1\r\n${H}${TE}\r\n1\r0\n`),
  inv('garden-t 5', 'empty content-length (lower case)', `GET / HTTP/1.1\r\nhost: whatever\r\ncontent-length: \r\n\r\n`),
  inv('garden-t 6', '\\x85 in a field name', `GET / HTTP/1.1\r\nHost: fanout\r\nHeader\x85: value\r\n\r\n`),
  inv('garden-t 7 (+Host)', 'chunk size followed by garbage', `POST / HTTP/1.1\r\n${H}${TE}\r\n1these-bytes-never-get-validated\r\nZ\r\n0\r\n\r\n`),
  inv('garden-t 10 (+Host)', 'CRs inside a value', `GET / HTTP/1.1\r\n${H}Invalid-Header: this\rvalue\ris\rinvalid\r\n\r\n`),
  inv('garden-t 11 / CVE-2023-40225', 'empty content-length before content-length 59', `GET / HTTP/1.1\r\nhost: whatever\r\ncontent-length: \r\ncontent-length: 59\r\n\r\nPOST /evil HTTP/1.1\r\nhost: whatever\r\ncontent-length: 34\r\n\r\nGET / HTTP/1.1\r\nhost: whatever\r\n\r\n`),
  inv('garden-t 12', 'NUL inside Host', `GET / HTTP/1.1\r\nHost: google.com\x00.kallus.org\r\n\r\n`),
  inv('garden-t 13 (+Host)', 'bare LF after chunk data', `GET / HTTP/1.1\r\n${H}${TE}\r\na\r\n0123456789\n0\r\n\r\n`),
  inv('garden-t 14', 'bare LF inside a field name', `GET / HTTP/1.1\r\nHost: whatever\r\nTe\nst: test\r\nConnection: close\r\n\r\n`),
  inv('garden-t 15', 'TE ",chunked" + CL + bogus chunk', `GET / HTTP/1.1\r\nHost: whatever\r\nTransfer-Encoding: ,chunked\r\nContent-Length: 5\r\nConnection: close\r\n\r\n0r\n\r\n`),
  inv('garden-t 16', 'bare LF line ends everywhere', `GET / HTTP/1.1\nHost: whatever\nConnection: close\n\n`),
  inv('garden-t 17', 'extra CRLF before the last chunk', `POST / HTTP/1.1\r\n${H}${TE}\r\n17\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n\r\n\r\n0\r\n\r\n`),
  inv('garden-t 19 (+Host)', 'chunk size -0x0', `POST / HTTP/1.1\r\n${H}${TE}\r\n-0x0\r\n\r\n`),
  inv('garden-t 20 (+Host)', 'field line of a name and NUL, no colon', `GET / HTTP/1.1\r\n${H}a:b\r\nc\x00\r\n\r\n`),
  inv('garden-t 22', 'Content-Length 0 then 31 with a hidden request', `POST / HTTP/1.1\r\n${H}Content-Length: 0\r\nContent-Length: 31\r\n\r\nGET /evil HTTP/1.1\r\n${H}\r\n`),
  inv('garden-t 24', 'whitespace before the chunk size', `POST / HTTP/1.1\r\n${H}${TE}\r\n           0\r\n\r\n`),
];

/** haproxy reg-tests, nginx-tests, varnish-cache, Node and llhttp tests. */
const PEERS: Vector[] = [
  // haproxy http_transfer_encoding.vtc (haproxy forwards c1/c2 after dropping CL / forcing close; ferry refuses: S2)
  inv('haproxy http_transfer_encoding c1 (+Host)', 'TE + CL 31 hiding GET /smuggled', `POST / HTTP/1.1\r\n${H}${TE}Content-Length: 31\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n`),
  inv('haproxy http_transfer_encoding c6 (+Host)', 'TE chunked, chunked', `GET / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n`),
  inv('haproxy http_transfer_encoding c7 (+Host)', 'TE chunked, gzip, chunked', `GET / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip, chunked\r\n\r\n0\r\n\r\n`),
  inv('haproxy http_transfer_encoding c8 (+Host)', 'TE chunked, gzip', `GET / HTTP/1.1\r\n${H}Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n`),
  inv('haproxy http_transfer_encoding c9 (+Host)', 'TE gzip', `GET / HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\n`),
  inv('haproxy http_transfer_encoding c10 (+Host)', 'TE gzip, chunked (unknown coding: 501)', `GET / HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`, 501),
  // haproxy h1_request_target_validation.vtc
  inv('haproxy h1_request_target_validation c4 (+Host)', 'OPTIONS */test', `OPTIONS */test HTTP/1.1\r\n${H}\r\n`),
  inv('haproxy h1_request_target_validation c5 (+Host)', 'GET *', `GET * HTTP/1.1\r\n${H}\r\n`),
  // a reverse proxy (no --forward) refuses every CONNECT with 405 and closes, before looking at its target
  inv('haproxy h1_request_target_validation c7', 'CONNECT without a port', `CONNECT haproxy.org HTTP/1.1\r\nHost: haproxy.org\r\n\r\n`, 405),
  inv('haproxy h1_request_target_validation c8 (+Host)', 'CONNECT /', `CONNECT / HTTP/1.1\r\n${H}\r\n`, 405),
  inv('haproxy h1_request_target_validation c9', 'CONNECT to an absolute URI', `CONNECT http://haproxy.org:80 HTTP/1.1\r\nHost: haproxy.org\r\n\r\n`, 405),
  inv('haproxy h1_request_target_validation c12', 'GET in authority-form', `GET haproxy.org:80 HTTP/1.1\r\nHost: haproxy.org\r\n\r\n`),
  inv('haproxy h1_request_target_validation c13 (+Host)', 'GET admin (no leading slash)', `GET admin HTTP/1.1\r\n${H}\r\n`),
  inv('haproxy h1_request_target_validation c14 (+Host)', 'GET admin/a/b', `GET admin/a/b HTTP/1.1\r\n${H}\r\n`),
  // nginx-tests body_chunked.t
  inv('nginx body_chunked.t runaway chunk', 'chunk of 4 carrying 8 bytes', `GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n${TE}\r\n4\r\nSEE-THIS\r\n0\r\n\r\n`),
  inv('nginx body_chunked.t transfer encoding identity', 'TE identity', `GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: identity\r\n\r\n0\r\n\r\n`, 400),
  inv('nginx body_chunked.t transfer encoding repeat', 'TE repeated after a bare LF', `GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`),
  inv('nginx body_chunked.t transfer encoding list', 'TE chunked, identity', `GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`, 400),
  inv('nginx body_chunked.t transfer encoding with content-length', 'TE then CL after a bare LF', `GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\nContent-Length: 5\r\n\r\n0\r\n\r\n`),
  inv('nginx body_chunked.t transfer encoding in HTTP/1.0', 'HTTP/1.0 GET with TE', `GET / HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n${TE}\r\n0\r\n\r\n`),
  // varnish-cache
  inv('varnish f00010 c1', 'Connection: Content-Length', `POST / HTTP/1.1\r\n${H}Connection: Content-Length\r\nContent-Length: 4\r\n\r\nasdf`),
  inv('varnish f00010 c2', 'Connection: Host', `GET / HTTP/1.1\r\n${H}Connection: Host\r\n\r\n`),
  inv('varnish f00016 c1', 'chunk of 1 carrying a sentence', `POST / HTTP/1.1\r\n${H}${TE}\r\n1\r\nThis is more than one byte of data\r\n0\r\n\r\n`),
  inv('varnish f00016 c2', 'chunk data without CRLF hiding POST /evil', `POST / HTTP/1.1\r\n${H}${TE}\r\n1\r\nZ  2\r\n3d\r\n0\r\n\r\nPOST /evil HTTP/1.1\r\nHost: whatever\r\nContent-Length: 5\r\n\r\n0\r\n\r\n`),
  inv('varnish f00016 c3', 'spurious CRLF after chunk data', `POST / HTTP/1.1\r\n${H}${TE}\r\nd\r\nSpurious CRLF\r\n\r\n0\r\n\r\n`),
  inv('varnish f00016 c4', 'bare LF before the last chunk', `POST / HTTP/1.1\r\n${H}${TE}\r\n\n0\r\n\r\n`),
  // Node
  inv('node transfer-encoding-smuggling 1', 'TE chunked + TE chunked-false hiding GET /flag', `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n${TE}Transfer-Encoding: chunked-false\r\nConnection: upgrade\r\n\r\n1\r\nA\r\n0\r\n\r\nGET /flag HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`),
  inv('node transfer-encoding-smuggling 2', 'TE continued by obs-fold ", chunked-false"', `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n${TE} , chunked-false\r\nConnection: upgrade\r\n\r\n1\r\nA\r\n0\r\n\r\nGET /flag HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`),
  // llhttp test/request
  inv('llhttp transfer-encoding.md (+Host)', 'empty TE with CL', `POST /first HTTP/1.1\r\n${H}Transfer-Encoding:\r\nContent-Length: 5\r\n\r\nhello`),
  inv('llhttp transfer-encoding.md', 'no semicolon before a chunk extension', `POST /chunked_w_unicorns_after_length HTTP/1.1\r\nHost: localhost\r\nTransfer-encoding: chunked\r\n\r\n2 erfrferferf\r\naa\r\n0 rrrr\r\n\r\n`),
  inv('llhttp transfer-encoding.md', 'semicolon without an extension', `POST /chunked_w_unicorns_after_length HTTP/1.1\r\nHost: localhost\r\nTransfer-encoding: chunked\r\n\r\n2;\r\naa\r\n0\r\n\r\n`),
  inv('llhttp transfer-encoding.md (+Host)', 'unbalanced quotes in a chunk extension', `POST /chunked_w_unicorns_after_length HTTP/1.1\r\n${H}${TE}\r\n5;ilovew3="abc";somuchlove="def; ghi\r\nhello\r\n6;blahblah;blah\r\n world\r\n0\r\n\r\n`),
  inv('llhttp transfer-encoding.md (+Host)', 'TE pigeons', `PUT /url HTTP/1.1\r\n${H}Transfer-Encoding: pigeons\r\n\r\n`, 400),
  inv('llhttp transfer-encoding.md (+Host)', 'TE identity with CL', `POST /post_identity_body_world?q=search HTTP/1.1\r\n${H}Accept: */*\r\nTransfer-Encoding: identity\r\nContent-Length: 5\r\n\r\nWorld`),
  inv('llhttp transfer-encoding.md', 'CL 10 and three empty TE lines', `POST / HTTP/1.1\r\nHost: foo\r\nContent-Length: 10\r\nTransfer-Encoding:\r\nTransfer-Encoding:\r\nTransfer-Encoding:\r\n\r\n2\r\nAA\r\n0\r\n`),
  inv('llhttp content-length.md (+Host)', 'Content-Length with inner space "4 2"', `PUT /url HTTP/1.1\r\n${H}Content-Length: 4 2\r\n\r\n`),
  inv('llhttp content-length.md (+Host)', 'Content-Length overflowing 64 bits', `PUT /url HTTP/1.1\r\n${H}Content-Length: 1000000000000000000000\r\n\r\n`),
  // legal per RFC 9110 §5.6.1 / RFC 9112 §7.1.1 (OWS, BWS) but refused by llhttp's strict mode: refusing is the safe side
  inv('rfc9110 §5.6.1 (llhttp strict)', 'trailing whitespace after chunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: chunked \t\r\n\r\n5\r\nhello\r\n0\r\n\r\n`),
  inv('rfc9112 §7.1.1 (llhttp strict)', 'whitespace around ";" and "=" in a chunk extension', `POST / HTTP/1.1\r\n${H}${TE}\r\n5 ; a = b\r\nhello\r\n0\r\n\r\n`),
  inv('llhttp invalid.md (+Host)', 'HTTP/1.1 followed by junk before CRLF', `GET / HTTP/1.1 junk\r\n${H}\r\n`, 400),
];

/** Valid but risky: forwarded only in canonical form. */
const RISKY: Vector[] = [
  risky('garden-s 32', 'Content-Length 010 (strtoll base 0 reads 8)', `GET / HTTP/1.1\r\nHost: whatever\r\nContent-Length: 010\r\n\r\n0123456789`,
    [{ method: 'GET', target: '/', host: 'whatever', body: '0123456789' }]),
  risky('rfc9112 §6.3', 'Content-Length 005 with Connection: close', `POST /echo HTTP/1.1\r\n${H}Content-Length: 005\r\nConnection: close\r\n\r\nhello`, [post('hello', [], '/echo')]),
  risky('rfc9112 §6.3', 'Content-Length 000', `POST / HTTP/1.1\r\n${H}Content-Length: 000\r\n\r\n`, [post('')]),
  risky('rfc9110 §5.5', 'Content-Length without space and with trailing spaces', `POST / HTTP/1.1\r\n${H}Content-Length:5   \r\n\r\nhello`, [post('hello')]),
  risky('rfc9112 §7 (mixed case)', 'Transfer-Encoding: Chunked', `POST / HTTP/1.1\r\n${H}Transfer-Encoding: Chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`, [post('hello')]),
  risky('rfc9112 §7 (mixed case)', 'Transfer-Encoding: ChUnKeD and field name in upper case', `POST / HTTP/1.1\r\n${H}TRANSFER-ENCODING: ChUnKeD\r\n\r\n5\r\nhello\r\n0\r\n\r\n`, [post('hello')]),
  risky('llhttp transfer-encoding.md', 'upper-case chunk size A', `PUT /url HTTP/1.1\r\n${H}${TE}\r\nA\r\n0123456789\r\n0\r\n\r\n`, [{ ...post('0123456789', [], '/url'), method: 'PUT' }]),
  risky('llhttp transfer-encoding.md', 'two chunks and a 000 last chunk', `POST /two_chunks_mult_zero_end HTTP/1.1\r\n${H}${TE}\r\n5\r\nhello\r\n6\r\n world\r\n000\r\n\r\n`, [post('hello world', [], '/two_chunks_mult_zero_end')]),
  risky('rfc9112 §7.1', 'chunk size with leading zeros 0005', `POST / HTTP/1.1\r\n${H}${TE}\r\n0005\r\nhello\r\n0\r\n\r\n`, [post('hello')]),
  risky('llhttp transfer-encoding.md', 'trailer fields Vary and Content-Type dropped', `POST /chunked_w_trailing_headers HTTP/1.1\r\n${H}${TE}\r\n5\r\nhello\r\n6\r\n world\r\n0\r\nVary: *\r\nContent-Type: text/plain\r\n\r\n`, [post('hello world', [], '/chunked_w_trailing_headers')]),
  risky('llhttp transfer-encoding.md', 'chunk extensions with and without values', `POST /chunked_w_unicorns_after_length HTTP/1.1\r\n${H}${TE}\r\n5;ilovew3;somuchlove=aretheseparametersfor;another=withvalue\r\nhello\r\n6;blahblah;blah\r\n world\r\n0\r\n\r\n`, [post('hello world', [], '/chunked_w_unicorns_after_length')]),
  risky('llhttp transfer-encoding.md', 'quoted chunk extensions with escapes', `POST /q HTTP/1.1\r\n${H}${TE}\r\n5;ilovew3="I \\"love\\"; \\\\extensions\\\\";somuchlove="aretheseparametersfor";blah;foo=bar\r\nhello\r\n6;blahblah;blah\r\n world\r\n0\r\n\r\n`, [post('hello world', [], '/q')]),
  risky('llhttp leniency / differential seed', 'chunk extension with an empty value (dropped with every extension)', `POST / HTTP/1.1\r\n${H}${TE}\r\n5;x=\r\nhello\r\n0\r\n\r\n`, [post('hello')]),
  risky('llhttp leniency / differential seed', 'chunk extension without a name (dropped with every extension)', `POST / HTTP/1.1\r\n${H}${TE}\r\n5;="y"\r\nhello\r\n0\r\n\r\n`, [post('hello')]),
  risky('garden-s 39 (+Host)', 'trailer "X:POST / HTTP/1.1" never forwarded', `GET / HTTP/1.1\r\n${H}${TE}\r\n0\r\nX:POST / HTTP/1.1\r\n\r\n`, [get('/')]),
  risky('garden-b 4', 'one-byte chunked body', `POST / HTTP/1.1\r\nHost: whatever\r\n${TE}\r\n1\r\nZ\r\n0\r\n\r\n`, [{ method: 'POST', target: '/', host: 'whatever', body: 'Z' }]),
  risky('garden-t 21 (+Host)', 'GET with a 10-byte body keeps its Content-Length', `GET / HTTP/1.1\r\n${H}Content-Length: 10\r\n\r\n1234567890`, [get('/', [], '1234567890')]),
  risky('garden-s 48', 'pipelined: second request\'s body is a request', `POST / HTTP/1.1\r\nContent-Length: 0\r\nConnection:keep-alive\r\nHost: a\r\nid: 0\r\n\r\nPOST / HTTP/1.1\r\nHost: a\r\nid: 1\r\nContent-Length: 34\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nid: 2\r\n\r\n`,
    [post('', [['id', '0']]), post('GET / HTTP/1.1\r\nHost: a\r\nid: 2\r\n\r\n', [['id', '1']])], [[200], [200]]),
  risky('garden-s 41', 'obs-text around a value is kept byte for byte', `GET /login HTTP/1.1\r\n${H}User: \x85admin\xa0\r\n\r\n`, [get('/login', [['user', '\x85admin\xa0']])]),
  risky('haproxy http_transfer_encoding c5 /1', 'TE: trailers, gzip is hop-by-hop', `POST /1 HTTP/1.1\r\n${H}${TE}TE: trailers, gzip\r\n\r\n0\r\n\r\n`, [post('', [], '/1')]),
  risky('haproxy http_transfer_encoding c5 /2', 'TE: gzip is hop-by-hop', `POST /2 HTTP/1.1\r\n${H}${TE}TE: gzip\r\n\r\n0\r\n\r\n`, [post('', [], '/2')]),
  risky('haproxy http_transfer_encoding c5 /3', 'TE: trailers;q=0.5 is hop-by-hop', `POST /3 HTTP/1.1\r\n${H}${TE}TE: trailers;q=0.5\r\n\r\n0\r\n\r\n`, [post('', [], '/3')]),
  risky('nginx body_chunked.t chunked body pipelined', 'four chunked requests on one connection (10 B, 1280 B, 5120 B, 6 B)',
    [['0123456789'], ['0123456789'.repeat(128)], ['0123456789'.repeat(512)]].map(([b]) => `GET / HTTP/1.1\r\nHost: localhost\r\n${TE}\r\n${b!.length.toString(16)}\r\n${b}\r\n0\r\n\r\n`).join('')
      + `GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n${TE}\r\n6\r\nfoobar\r\n0\r\n\r\n`,
    ['0123456789', '0123456789'.repeat(128), '0123456789'.repeat(512), 'foobar'].map((b) => ({ method: 'GET', target: '/', host: 'localhost', body: b })),
    [[200], [200], [200], [200]]),
  risky('nginx body_chunked.t (several chunks)', 'one body in three chunks', `POST / HTTP/1.1\r\n${H}${TE}\r\n200\r\n${'A'.repeat(512)}\r\n200\r\n${'B'.repeat(512)}\r\n1\r\nC\r\n0\r\n\r\n`, [post(`${'A'.repeat(512)}${'B'.repeat(512)}C`)]),
  risky('rfc9112 §3 (lenient whitespace)', 'two spaces after the method: re-serialised with one', `GET  / HTTP/1.1\r\n${H}\r\n`, [get('/')]),
  risky('haproxy h1_request_target_validation c2', 'OPTIONS /', `OPTIONS / HTTP/1.1\r\n${H}\r\n`, [{ method: 'OPTIONS', target: '/', host: 'a', fields: [] }]),
  risky('RELIABILITY S1 (long target)', '8 KiB request-target', `GET /${'p'.repeat(8192)}?q=${'v'.repeat(100)} HTTP/1.1\r\n${H}\r\n`, [get(`/${'p'.repeat(8192)}?q=${'v'.repeat(100)}`)]),
  risky('rfc9112 §3.2.1', 'target with an empty query and odd but legal characters', `GET /a;b=c/%2F/..%2e/?x=1&&y=%zz&z=!$'()*+,;= HTTP/1.1\r\n${H}\r\n`, [get(`/a;b=c/%2F/..%2e/?x=1&&y=%zz&z=!$'()*+,;=`)]),
  risky('rfc9112 §3.2', 'Host with a port, field name in upper case', `GET / HTTP/1.1\r\nHOST: a:8080\r\n\r\n`, [{ method: 'GET', target: '/', host: 'a:8080', fields: [] }]),
  risky('rfc9110 §5.5', 'tab inside a value, empty value, whitespace trimmed', `GET / HTTP/1.1\r\n${H}X-A: \t a\tb \t\r\nX-B:\r\nX-WeIrD:    spaced   \r\n\r\n`, [get('/', [['x-a', 'a\tb'], ['x-b', ''], ['x-weird', 'spaced']])]),
  risky('rfc9110 §7.6.1', 'Connection names an end-to-end looking field: it is removed', `GET / HTTP/1.1\r\n${H}Connection: keep-alive, X-Foo\r\nX-Foo: 1\r\nX-Bar: 2\r\n\r\n`, [get('/', [['x-bar', '2']])]),
  risky('ferry S7', 'Connection naming X-Forwarded-For does not remove what ferry adds', `GET / HTTP/1.1\r\n${H}Connection: x-forwarded-for, via\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n`, [get('/')]),
  risky('rfc9112 §9.3', 'HTTP/1.0 with Content-Length is forwarded as HTTP/1.1', `POST / HTTP/1.0\r\n${H}Content-Length: 5\r\n\r\nhello`, [{ ...post('hello'), via: '1.0' }], [[200]]),
  risky('rfc9110 §5.3', 'repeated list field lines stay separate and in order', `GET / HTTP/1.1\r\n${H}Accept: a/b\r\nX-L: 1\r\nAccept: c/d\r\n\r\n`, [get('/', [['accept', 'a/b'], ['x-l', '1'], ['accept', 'c/d']])]),
  risky('rfc9112 §7.1', 'large chunk size with leading zeros (16 hex digits)', `POST / HTTP/1.1\r\n${H}${TE}\r\n0000000000000005\r\nhello\r\n0\r\n\r\n`, [post('hello')]),
];

export const CORPUS: readonly Vector[] = [...RFC_AND_FERRY, ...GARDEN_SERVER, ...GARDEN_TRANSDUCER, ...PEERS, ...RISKY];

/** Source family of a vector, for the counts in the test title and the report. */
export function family(v: Vector): string {
  const s = v.source;
  if (s.startsWith('garden-s')) return 'HTTP Garden server bugs';
  if (s.startsWith('garden-t')) return 'HTTP Garden transducer bugs';
  if (s.startsWith('garden-b')) return 'HTTP Garden bonus bugs';
  if (s.startsWith('haproxy')) return 'haproxy reg-tests';
  if (s.startsWith('nginx')) return 'nginx-tests';
  if (s.startsWith('varnish')) return 'varnish-cache';
  if (s.startsWith('node')) return 'Node.js';
  if (s.startsWith('llhttp')) return 'llhttp';
  if (s.startsWith('rfc')) return 'RFC 9112/9110';
  return 'ferry rules';
}
