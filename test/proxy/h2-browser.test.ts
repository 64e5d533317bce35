/**
 * A real browser (Debian's chromium through playwright-core) loads a page and its sub-resources over HTTP/2 through
 * ferry's TLS listener (server/tls-listener.ts): the page and its image are fetched with protocol h2, and the access
 * log records HTTP/2.0 for them. The self-signed test certificate is accepted with ignoreHTTPSErrors.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { chromiumUnavailable, launchChromium } from '../helpers/chromium.ts';
import { localhostCert } from '../helpers/certs.ts';
import { listenTls, startProxy, waitFor, type RunningProxy, type TlsListener } from '../fixtures/proxy.ts';

const skip = chromiumUnavailable();
const PIXEL = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

let origin: http.Server;
let proxy: RunningProxy;
let tls: TlsListener;
let browser: Browser;

before(async () => {
  if (skip) return;
  origin = http.createServer((req, res) => {
    if (req.url === '/pixel.png') { res.writeHead(200, { 'content-type': 'image/png', 'content-length': PIXEL.length }).end(PIXEL); return; }
    const page = '<!doctype html><title>over h2</title><img id="px" src="/pixel.png"><p id="done">ferry</p>';
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(page) }).end(page);
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  proxy = await startProxy({ upstream: `http://127.0.0.1:${(origin.address() as AddressInfo).port}` });
  const cert = localhostCert();
  tls = await listenTls(proxy.proxyServer.proxy, cert);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await tls?.close();
  await proxy?.close();
  origin?.close();
});

test('chromium loads a page and its image over h2 through the TLS listener', { skip: skip ?? false }, async () => {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  try {
    const page = await context.newPage();
    const protocols = new Map<string, string>();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    cdp.on('Network.responseReceived', (e: { response: { url: string; protocol?: string } }) => { protocols.set(new URL(e.response.url).pathname, e.response.protocol ?? ''); });
    const url = `${tls.url}/`;
    const response = await page.goto(url);
    assert.equal(response?.status(), 200);
    assert.equal(await page.textContent('#done'), 'ferry');
    const width = await page.$eval('#px', (img) => (img as unknown as { naturalWidth: number }).naturalWidth);
    assert.equal(width, 1);
    assert.equal(protocols.get('/'), 'h2');
    assert.equal(protocols.get('/pixel.png'), 'h2');
    await waitFor(() => proxy.logs.filter((l) => l.event === 'access' && l.protocol === 'HTTP/2.0').length >= 2, 'two h2 access lines');
  } finally { await context.close(); }
});
