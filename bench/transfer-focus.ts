/**
 * @module Focused 1 GiB transfer comparison (issue 3), quicker and more detailed than proxy.bench.ts: ferry (compiled)
 * vs node-http-proxy, interleaved, REPS rounds of one download + one upload each; prints per-round throughput, the
 * proxy's peak RSS and its user/system CPU seconds, then medians. The proxy is pinned to CPU 0, the origin and this
 * process (the client: curl when installed, against the raw-socket origin, as in proxy.bench.ts) to CPU 1. CPU seconds per GiB are the least noisy figure on a shared machine: throughput
 * swings ±40 % with whatever else runs.
 *   node bench/transfer-focus.ts                      # FERRY_FOCUS_REPS (5), FERRY_FOCUS_BYTES (1 GiB)
 *   FERRY_FOCUS_OTHER=/path/to/another/dist node bench/transfer-focus.ts   # also compare a second ferry build
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { buildFerry, curlDownload, curlUpload, download as nodeDownload, hasCurl, median, sampleRss, upload as nodeUpload, startPinned } from './transfer.ts';

const BYTES = Number(process.env.FERRY_FOCUS_BYTES ?? 1024 ** 3);
const REPS = Number(process.env.FERRY_FOCUS_REPS ?? 5);
const MIB = 1024 * 1024;


/** [user, system] CPU seconds (clock ticks of 1/100 s on Linux). */
function cpu(pid: number): [number, number] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [Number(f[11]) / 100, Number(f[12]) / 100];
}

interface Candidate { name: string; url: string; proc: ChildProcess; down: number[]; up: number[]; peak: number[]; cpuDown: number[][]; cpuUp: number[][] }

async function main(): Promise<void> {
  execFileSync('taskset', ['-pc', '1', String(process.pid)], { stdio: 'ignore' });
  const dist = buildFerry('ferry-focus/current');
  const procs: ChildProcess[] = [];
  try {
    // as in proxy.bench.ts: curl and the raw-socket origin keep the load core from bounding the figures
    const viaCurl = hasCurl();
    const download = viaCurl ? curlDownload : nodeDownload;
    const upload = viaCurl ? curlUpload : nodeUpload;
    const origin = await startPinned('1', ['bench/peers/lean-origin.mjs']);
    procs.push(origin.proc);
    const ferry = (d: string) => [`${d}/cli/main.js`, 'proxy', '--listen', '127.0.0.1:0', '--upstream', origin.url, '--log-level', 'warn'];
    const specs: [string, string[]][] = [['ferry', ferry(dist)], ['node-http-proxy', ['bench/peers/node-http-proxy.mjs', origin.url]]];
    if (process.env.FERRY_FOCUS_OTHER) specs.push(['ferry (other)', ferry(process.env.FERRY_FOCUS_OTHER)]);
    const cands: Candidate[] = [];
    for (const [name, args] of specs) {
      const r = await startPinned('0', args);
      procs.push(r.proc);
      await (await fetch(`${r.url}/bytes/${16 * MIB}`)).arrayBuffer();
      cands.push({ name, url: r.url, proc: r.proc, down: [], up: [], peak: [], cpuDown: [], cpuUp: [] });
    }
    const used = (pid: number, before: [number, number]) => cpu(pid).map((v, i) => v - before[i]!);
    for (let rep = 0; rep < REPS; rep++) {
      for (let i = 0; i < cands.length; i++) {
        const c = cands[(i + rep) % cands.length]!;
        const pid = c.proc.pid!;
        const s = sampleRss(pid);
        let c0 = cpu(pid);
        c.down.push(await download(c.url, BYTES));
        c.cpuDown.push(used(pid, c0));
        c0 = cpu(pid);
        c.up.push(await upload(c.url, BYTES));
        c.cpuUp.push(used(pid, c0));
        c.peak.push(s.stop() / MIB);
        const [du, ds] = c.cpuDown.at(-1)!;
        const [uu, us] = c.cpuUp.at(-1)!;
        console.log(`round ${rep + 1} ${c.name.padEnd(16)} down ${c.down.at(-1)!.toFixed(0)} MiB/s (cpu ${du!.toFixed(2)}+${ds!.toFixed(2)} s)  up ${c.up.at(-1)!.toFixed(0)} MiB/s (cpu ${uu!.toFixed(2)}+${us!.toFixed(2)} s)  peak RSS ${c.peak.at(-1)!.toFixed(0)} MiB`);
      }
    }
    console.log(`\nmedians of ${REPS} (${(BYTES / MIB).toFixed(0)} MiB each; cpu = proxy user+system seconds)`);
    for (const c of cands) {
      const tot = (xs: number[][]) => median(xs.map(([u, s]) => u! + s!));
      console.log(`${c.name.padEnd(16)} down ${median(c.down).toFixed(0)} MiB/s  up ${median(c.up).toFixed(0)} MiB/s  cpu ${tot(c.cpuDown).toFixed(2)}/${tot(c.cpuUp).toFixed(2)} s  peak RSS ${median(c.peak).toFixed(0)} MiB`);
    }
  } finally {
    for (const p of procs) p.kill('SIGKILL');
  }
}

await main();
