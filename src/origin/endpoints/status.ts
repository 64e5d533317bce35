/** @module /status/CODE: answers with that status (200–599), any method. */
import { STATUS_CODES } from '../../http/node-http.ts';
import { drain, replyText, type Endpoint } from './context.ts';

export const statusEndpoint: Endpoint = async (req, res, param) => {
  drain(req);
  const code = /^\d{3}$/.test(param) ? Number(param) : NaN;
  // 1xx are not final answers; Node would not end the exchange with one.
  if (!(code >= 200 && code <= 599)) {
    replyText(req, res, 400, '/status/CODE: CODE must be 200-599\n');
    return;
  }
  const extra: Record<string, string> = {};
  if (code === 405) extra.allow = 'GET, HEAD';
  if (code === 401) extra['www-authenticate'] = 'Basic realm="ferry origin"';
  if (code === 407) extra['proxy-authenticate'] = 'Basic realm="ferry origin"';
  replyText(req, res, code, `${code} ${STATUS_CODES[code] ?? ''}\n`, extra);
};
