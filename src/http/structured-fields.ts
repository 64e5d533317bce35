/**
 * @module RFC 8941 / RFC 9651 Structured Field Values through the maintained `structured-headers` library, so
 * that ferry reads CDN-Cache-Control, Content-Digest and writes Cache-Status as the RFC's algorithms do (quoted
 * strings with `,` and `;` inside, parameters, byte sequences) instead of splitting on commas by hand. Pure.
 */
import { parseDictionary, parseList, serializeBareItem, serializeItem, Token, type BareItem, type Dictionary, type Item, type InnerList, type Parameters } from 'structured-headers';

export { Token, type BareItem, type Dictionary, type Item, type InnerList, type Parameters };

/** A Dictionary field (RFC 8941 §3.2), or null when it does not parse: §4.2 says to ignore the whole field then. */
export function parseDictionaryField(value: string): Dictionary | null {
  try {
    return parseDictionary(value);
  } catch {
    return null; // the library's ParseError (and nothing else: it parses a string)
  }
}

/** Whether a dictionary member is an Item (not an Inner List). */
export function isItem(member: Item | InnerList): member is Item {
  return !Array.isArray(member[0]);
}

/** A List field (RFC 8941 §3.1), or null when it does not parse. */
export function parseListField(value: string): ReturnType<typeof parseList> | null {
  try { return parseList(value); } catch { return null; }
}

/**
 * A parameter value as RFC 8941 §4.1.1.1 writes it: a Token when `text` is one, else a String (characters a String
 * cannot hold — controls, non-ASCII — replaced by `?`, so formatting never throws).
 */
export function serializeTokenOrString(text: string): string {
  if (/^[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*$/.test(text)) return serializeBareItem(new Token(text));
  return serializeBareItem(text.replace(/[^\x20-\x7e]/g, '?'));
}

/** An Item serialised (RFC 8941 §4.1.3), e.g. `ferry;fwd=bypass;detail=store-unavailable`. */
export function serializeItemField(value: BareItem, params: Parameters): string {
  return serializeItem(value, params);
}
