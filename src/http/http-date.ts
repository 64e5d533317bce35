/** @module HTTP dates (RFC 9110 §5.6.7): IMF-fixdate out; IMF-fixdate, RFC 850 and asctime in. Pure; no I/O. */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const LONG_DAY = '(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)';
const MONTH = '(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
const IMF_FIXDATE = new RegExp(`^${DAY}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);
const RFC850 = new RegExp(`^${LONG_DAY}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`);
const ASCTIME = new RegExp(`^${DAY} ${MONTH} ([ \\d]\\d) ${TIME} (\\d{4})$`);

/** `Sun, 06 Nov 1994 08:49:37 GMT`; sub-second precision is dropped (HTTP dates have whole seconds). */
export function formatHttpDate(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toUTCString();
}

/** Milliseconds since the epoch, or undefined when the text is not an HTTP-date (RFC 9110 §5.6.7). */
export function parseHttpDate(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  let day: string, month: string, year: number, h: string, mi: string, s: string;
  let m = IMF_FIXDATE.exec(t);
  if (m) {
    [, day = '', month = '', , h = '', mi = '', s = ''] = m;
    year = Number(m[3]);
  } else if ((m = RFC850.exec(t))) {
    [, day = '', month = '', , h = '', mi = '', s = ''] = m;
    // §5.6.7: a two-digit year more than 50 years in the future is taken as the past century.
    const yy = Number(m[3]);
    const nowYear = new Date().getUTCFullYear();
    year = 2000 + yy > nowYear + 50 ? 1900 + yy : 2000 + yy;
  } else if ((m = ASCTIME.exec(t))) {
    [, month = '', day = '', h = '', mi = '', s = ''] = m;
    year = Number(m[6]);
  } else {
    return undefined;
  }
  const mon = MONTHS.indexOf(month);
  const d = Number(day.trim());
  const ms = Date.UTC(year, mon, d, Number(h), Number(mi), Number(s));
  const check = new Date(ms);
  // Reject impossible dates (Feb 30, 25:00:00) rather than let Date roll them over.
  if (check.getUTCDate() !== d || check.getUTCHours() !== Number(h) || check.getUTCMinutes() !== Number(mi) || check.getUTCSeconds() !== Number(s)) {
    return undefined;
  }
  return ms;
}
