/** @module Pieces shared by the transfer benchmarks: large download/upload against the bench origin, RSS sampling, median. */
import { readFileSync } from 'node:fs';
import http from 'node:http';

const MIB = 1024 * 1024;
/** The bench origin's pattern (byte i = i mod 251), a whole number of periods so blocks can be repeated. */
const BLOCK = Buffer.from(Array.from({ length: 251 * 261 }, (_, i) => i % 251));

export const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] ?? NaN; };

export function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Peak RSS of `pid`, sampled every 50 ms until stopped (NaN when there is no process to watch). */
export function sampleRss(pid: number | undefined): { stop(): number } {
  if (pid === undefined) return { stop: () => NaN };
  let peak = rss(pid);
  const t = setInterval(() => { try { peak = Math.max(peak, rss(pid)); } catch { /* gone */ } }, 50);
  return { stop() { clearInterval(t); return peak; } };
}

/** GET /bytes/N through `url`; resolves with MiB/s, rejects on a short body. */
export function download(url: string, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    http.get(`${url}/bytes/${bytes}`, (res) => {
      let seen = 0;
      res.on('data', (c: Buffer) => { seen += c.length; });
      res.on('end', () => (seen === bytes ? resolve(bytes / MIB / ((performance.now() - started) / 1000)) : reject(new Error(`short download ${seen}`))));
      res.on('error', reject);
    }).on('error', reject);
  });
}

/** POST N bytes to /upload through `url` with backpressure; the origin answers the count it received. */
export function upload(url: string, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request(`${url}/upload`, { method: 'POST', headers: { 'content-length': bytes } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => { text += c.toString(); });
      res.on('end', () => (text === String(bytes) ? resolve(bytes / MIB / ((performance.now() - started) / 1000)) : reject(new Error(`upload answer ${text}`))));
    });
    req.on('error', reject);
    let left = bytes;
    const go = () => {
      while (left > 0) {
        const n = Math.min(left, BLOCK.length);
        left -= n;
        if (!req.write(n === BLOCK.length ? BLOCK : BLOCK.subarray(0, n))) { req.once('drain', go); return; }
      }
      req.end();
    };
    go();
  });
}
