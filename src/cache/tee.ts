/**
 * @module The cache tee: the upstream body flows to the client and into a store writer at once, at the pace of the
 * slower of the two (a chunk is passed on only after the store took it, and the Transform's own buffer stops reading
 * upstream while the client is slow) — the undici cache-handler pattern.
 *
 * The entry is committed only when the whole body arrived (and matches Content-Length when one was given); a client
 * abort or an upstream error destroys the tee, which aborts the writer: no partial entry, ever.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { BodyWriter } from './store.ts';

export type TeeResult = 'stored' | 'not-stored' | 'failed';

export function createCacheTee(writer: BodyWriter, expectedLength: number | undefined, onDone: (result: TeeResult) => void): Transform {
  let bytes = 0;
  let finished = false;
  const finish = (r: TeeResult): void => {
    if (finished) return;
    finished = true;
    onDone(r);
  };
  let committed = false;
  const commit = async (): Promise<void> => {
    committed = true;
    const ok = await writer.commit().catch(() => false);
    finish(ok ? 'stored' : 'not-stored');
  };
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      bytes += chunk.length;
      const written = writer.write(chunk).catch(() => writer.abort());
      // With a Content-Length, commit before the last byte goes out: a client that has the whole body and asks
      // again is then a hit, even if it did not wait for our end of stream.
      const last = expectedLength !== undefined && bytes === expectedLength;
      (last ? written.then(() => commit()) : written).then(() => cb(null, chunk), () => cb(null, chunk));
    },
    flush(cb: TransformCallback) {
      if (committed) { cb(); return; }
      if (expectedLength !== undefined && bytes !== expectedLength) {
        writer.abort();
        finish('failed');
        cb(new Error(`upstream body ended after ${bytes} of ${expectedLength} bytes`));
        return;
      }
      // Commit before the client sees the end, so the very next request is a hit.
      commit().then(() => cb(), () => cb());
    },
    destroy(err, cb) {
      writer.abort();
      finish('failed');
      cb(err);
    },
  });
}
