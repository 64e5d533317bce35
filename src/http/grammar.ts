/**
 * @module The field grammar of RFC 9110, defined once for every module that checks a name or a value. Pure.
 *
 * - §5.6.2: token = 1*tchar; tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" /
 *   "|" / "~" / DIGIT / ALPHA. Field names (§5.1), methods (§9.1), range units (§14.1), Via's received-by (§7.6.3),
 *   Connection options (§7.6.1) are tokens.
 * - §5.5: field-value = *field-content, made of VCHAR, SP, HTAB and obs-text (%x80-FF): no CR, LF, NUL or other
 *   control character anywhere. (Leading and trailing whitespace is the parser's to trim, not a grammar error here.)
 */

/** One tchar (RFC 9110 §5.6.2), as a regular-expression character class body. */
const TCHAR = "!#$%&'*+\\-.^_`|~0-9A-Za-z";
const TOKEN = new RegExp(`^[${TCHAR}]+$`);
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** RFC 9110 §5.6.2: `s` is a non-empty token. */
export function isToken(s: string): boolean {
  return TOKEN.test(s);
}

/** RFC 9110 §5.5: `s` is a valid field value (possibly empty; obs-text allowed, controls other than HTAB refused). */
export function isFieldValue(s: string): boolean {
  return FIELD_VALUE.test(s);
}
