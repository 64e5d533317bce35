/** @module /delay/MS: answers 200 after MS milliseconds (the timer is dropped if the client leaves). */
import { drain, replyText, type Endpoint } from './context.ts';

export const delayEndpoint: Endpoint = async (req, res, param, ctx) => {
  drain(req);
  const ms = /^\d{1,9}$/.test(param) ? Number(param) : NaN;
  if (!(ms <= ctx.maxDelayMs)) {
    replyText(req, res, 400, `/delay/MS: MS must be a whole number of milliseconds up to ${ctx.maxDelayMs}\n`);
    return;
  }
  const gone = await new Promise<boolean>((resolve) => {
    const onClose = () => { clearTimeout(timer); resolve(true); };
    const timer = setTimeout(() => { res.off('close', onClose); resolve(false); }, ms);
    res.once('close', onClose);
  });
  if (gone) return;
  replyText(req, res, 200, `delayed ${ms} ms\n`);
};
