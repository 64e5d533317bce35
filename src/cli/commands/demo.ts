/**
 * @module `ferry demo` (and `npm start`): an origin serving a generated sample file and a proxy in front of it with
 * statistics and JWT signing on, both in this one process through the library APIs (createOrigin,
 * createProxyServer); then the curl commands to try. Ctrl-C stops both.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createOrigin } from '../../origin/create-origin.ts';
import { createProxyServer } from '../../proxy/create-proxy.ts';
import { PACE_BYTES } from '../../proxy/gc-pacer.ts';
import { createScavengePacer } from '../../server/scavenge-pacer.ts';
import { closeServer } from '../../server/http-server.ts';
import { listen, logListening } from '../../server/listen.ts';
import { createLogger, type LogLevel } from '../../server/logger.ts';
import { onShutdownSignal } from '../../server/shutdown.ts';
import type { HostPort } from '../../util/units.ts';
import type { CliCommand } from '../command.ts';
import { defaultDataDir, ensureSampleFile, SAMPLE_FILE_NAME, sampleDir } from './demo-sample.ts';

/** 48 random bytes as hex: 96 ASCII bytes, above HS512's 64-byte minimum (RFC 7518 §3.2). */
const DEMO_SECRET_BYTES = 48;
const PROGRESS_STEPS = 10;

/** `104857600` → `100 MiB`, `1500` → `1.5 KiB`: for people, not for parsing. */
export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[i]}`;
}

export interface DemoCommand { title: string; command: string }

/** POSIX shell single-quoting, so printed commands can be pasted whatever the path or URL. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_\/.:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function demoCommands(proxyUrl: string, samplePath: string): DemoCommand[] {
  const file = `${proxyUrl}/${SAMPLE_FILE_NAME}`;
  const q = shellQuote;
  return [
    { title: 'HEAD: Accept-Ranges and Content-Length from the origin, Via added by ferry', command: `curl -sI ${q(file)}` },
    { title: '?range= becomes a Range header: exactly bytes 20..345 (206, Content-Range: bytes 20-345/N)', command: `curl -si ${q(`${file}?range=20-345`)}` },
    { title: 'A Range header passes through untouched', command: `curl -si -H ${q('Range: bytes=100-199')} ${q(file)}` },
    { title: 'Several ranges: a multipart/byteranges answer', command: `curl -si -H ${q('Range: bytes=0-63,128-191')} ${q(file)}` },
    { title: 'Header and parameter asking for different bytes: 416 from ferry, with Content-Range: bytes */N', command: `curl -si -H ${q('Range: bytes=0-9')} ${q(`${file}?range=20-345`)}` },
    { title: 'Statistics as JSON (open the same URL in a browser for a page)', command: `curl -s ${q(`${proxyUrl}/stats`)}` },
    { title: 'The same figures for Prometheus', command: `curl -s ${q(`${proxyUrl}/metrics`)}` },
    { title: 'Upload the whole sample to /echo; it streams back through the proxy', command: `curl -s -T ${q(samplePath)} ${q(`${proxyUrl}/echo`)} -o /dev/null -w ${q('%{http_code}: %{size_upload} bytes up, %{size_download} bytes back\\n')}` },
    { title: 'The headers the origin received: x-my-jwt is a fresh JWT on every request', command: `curl -s ${q(`${proxyUrl}/headers`)}` },
  ];
}

function progressPrinter(): (done: number, size: number) => void {
  const tty = process.stderr.isTTY === true;
  let shown = -1;
  return (done, size) => {
    const step = Math.floor((done / size) * PROGRESS_STEPS);
    if (!tty && step === shown) return;
    shown = step;
    const line = `ferry demo: generating the sample file: ${Math.floor((done / size) * 100)}% (${formatSize(done)} of ${formatSize(size)})`;
    process.stderr.write(tty ? `\r${line}${done === size ? '\n' : ''}` : `${line}\n`);
  };
}

export const demoCommand: CliCommand = {
  spec: {
    name: 'demo',
    summary: 'Origin + proxy together (stats and JWT on), ready to try with curl; what `npm start` runs.',
    usage: 'ferry demo [--listen HOST:PORT] [--origin-listen HOST:PORT] [flags]',
    flags: [
      { name: 'listen', type: 'hostport', help: 'address of the proxy', default: '127.0.0.1:8080', placeholder: 'HOST:PORT' },
      { name: 'origin-listen', type: 'hostport', help: 'address of the origin', default: '127.0.0.1:8081', placeholder: 'HOST:PORT' },
      { name: 'sample-size', type: 'size', help: 'size of the generated sample file', default: '100MiB' },
      { name: 'data-dir', type: 'path', help: 'folder for the sample file (made once, reused; default $XDG_CACHE_HOME/ferry or ~/.cache/ferry)', placeholder: 'DIR' },
    ],
    examples: ['npm start', 'ferry demo --listen 127.0.0.1:9080 --origin-listen 127.0.0.1:9081 --sample-size 10MiB'],
  },
  async run(flags, env) {
    const level = flags.logLevel as LogLevel;
    const log = createLogger('demo', level);
    const size = flags.sampleSize as number;
    const dir = sampleDir(typeof flags.dataDir === 'string' ? flags.dataDir : defaultDataDir(env), size);
    const sample = await ensureSampleFile(dir, size, progressPrinter());
    log.info({ event: 'demo-sample', path: sample.path, size, created: sample.created }, sample.created ? 'sample file generated' : 'sample file reused');

    const originLog = createLogger('origin', level);
    const origin = createOrigin({ root: dir, log: originLog });
    const originServer = origin.createServer();
    const originAddress = await listen(originServer, flags.originListen as HostPort);
    logListening(originLog, 'origin', originAddress, { root: origin.root ?? null });

    // A random key for this run only; printed for people, never logged (RELIABILITY J3 covers ferry proxy).
    const secretText = randomBytes(DEMO_SECRET_BYTES).toString('hex');
    const proxyLog = createLogger('proxy', level);
    const proxy = createProxyServer({
      upstream: originAddress.url,
      log: proxyLog,
      onBodyBytes: createScavengePacer(PACE_BYTES),
      jwt: { secret: new TextEncoder().encode(secretText), alg: 'HS512', header: 'x-my-jwt', user: 'username', extraClaims: {} },
    });
    await proxy.proxy.ready();
    const proxyAddress = await listen(proxy.server, flags.listen as HostPort);
    logListening(proxyLog, 'proxy', proxyAddress, { upstreams: [originAddress.url] });

    const commands = demoCommands(proxyAddress.url, sample.path);
    log.info({ event: 'demo-ready', proxy: proxyAddress.url, origin: originAddress.url, sample: sample.path, commands: commands.map((c) => c.command) }, 'demo ready');
    process.stdout.write([
      '',
      `ferry demo: proxy ${proxyAddress.url} → origin ${originAddress.url}, serving /${SAMPLE_FILE_NAME} (${formatSize(size)}, ${sample.path})`,
      `JWT: HS512 in x-my-jwt, secret for this run (the text, as UTF-8 bytes): ${secretText}`,
      '',
      ...commands.flatMap((c, i) => [`# ${i + 1}. ${c.title}`, c.command, '']),
      `Press Ctrl-C to stop both. Sample kept in ${join(dir)} for next time.`,
      '',
    ].join('\n'));

    onShutdownSignal(log, {
      close: async () => { await Promise.all([proxy.close(), closeServer(originServer)]); },
      destroy: () => { proxy.destroy(); originServer.closeAllConnections(); },
    });
  },
};
