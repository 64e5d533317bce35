import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Readable } from 'node:stream';
import { sendRepresentation } from '../../src/origin/send-representation.ts';
import { request } from './client.ts';

/** A server whose representation claims 100 bytes but whose source yields `actual`. */
async function withLyingSource(actual: number, fn: (base: string) => Promise<void>): Promise<void> {
  const server = http.createServer((req, res) => {
    sendRepresentation(req, res, {
      size: 100, contentType: 'application/octet-stream',
      open: (r) => Readable.from([Buffer.alloc(Math.min(actual, r.last - r.first + 1 + (actual > 100 ? 5 : 0)))]),
    }, { maxRanges: 100 }).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await fn(`http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('sendRepresentation', () => {
  it('cuts the connection when the source is shorter than announced (never a short "complete" body)', async () => {
    await withLyingSource(50, async (base) => {
      await assert.rejects(request(`${base}/`), /aborted|ECONNRESET|socket hang up/);
      await assert.rejects(request(`${base}/`, { headers: { range: 'bytes=0-79' } }), /aborted|ECONNRESET|socket hang up/);
    });
  });
  it('cuts the connection when the source is longer than announced', async () => {
    await withLyingSource(200, async (base) => {
      await assert.rejects(request(`${base}/`), /aborted|ECONNRESET|socket hang up/);
    });
  });
  it('sends an honest source whole', async () => {
    await withLyingSource(100, async (base) => {
      const r = await request(`${base}/`);
      assert.equal(r.status, 200);
      assert.equal(r.body.length, 100);
    });
  });
});
