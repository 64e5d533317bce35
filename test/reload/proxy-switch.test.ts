import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveProxy } from '../../src/proxy/create-proxy.ts';
import { resolveProxyOptions, type ProxyInit } from '../../src/proxy/options.ts';
import { createProxySwitch } from '../../src/reload/proxy-switch.ts';
import { restartOnlyChanges } from '../../src/reload/config-reload.ts';
import { startAdminListener } from '../../src/admin/admin-server.ts';
import { CONTINUE } from '../../src/proxy/phases.ts';
import { createSilentLogger } from '../../src/server/logger.ts';
import { request } from '../origin/client.ts';
import { startNamedOrigin } from './named-origin.ts';

const dir = mkdtempSync(join(tmpdir(), 'ferry-switch-'));
const keyFile = join(dir, 'jwt.pem');
const writeKey = (): void => writeFileSync(keyFile, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, { mode: 0o600 });
const jwtInit = (): ProxyInit['jwt'] => ({ keyFile, alg: 'EdDSA', header: 'x-my-jwt', user: 'u', extraClaims: {}, watchKeyFile: false });

async function kids(url: string): Promise<string[]> {
  const r = await request(`${url}/.well-known/jwks.json`);
  return (JSON.parse(r.body.toString()) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid).sort();
}

describe('the reloadable proxy (createProxySwitch)', () => {
  const stops: Array<() => Promise<void>> = [];
  after(async () => { for (const s of stops) await s(); });

  it('carries the JWT key ring across a reload: same key, same kid; a new key file rotates, the old key stays in the JWKS', async () => {
    const a = await startNamedOrigin('A');
    const b = await startNamedOrigin('B');
    writeKey();
    const sw = createProxySwitch(resolveProxyOptions({ upstream: a.url, jwt: jwtInit() }), { file: null, adminListener: false });
    const ps = serveProxy(sw);
    await sw.ready();
    ps.server.listen(0, '127.0.0.1');
    await new Promise((r) => ps.server.once('listening', r));
    const url = `http://127.0.0.1:${(ps.server.address() as { port: number }).port}`;
    stops.push(async () => { await ps.close(); await a.close(); await b.close(); });
    const first = await kids(url);
    assert.equal(first.length, 1);
    await sw.swap(resolveProxyOptions({ upstream: b.url, jwt: jwtInit() }), null);
    assert.equal((await request(`${url}/x`)).body.toString(), 'B');
    assert.deepEqual(await kids(url), first, 'same key file, same key: no rotation');
    writeKey();
    await sw.swap(resolveProxyOptions({ upstream: b.url, jwt: jwtInit() }), null);
    const after3 = await kids(url);
    assert.equal(after3.length, 2, 'the new key signs; the previous one is still published for the rotation grace');
    assert.ok(after3.includes(first[0]!));
    assert.equal(sw.config.generation, 3);
  });

  it('a generation that cannot start is refused: the running one keeps serving and keeps its number', async () => {
    const a = await startNamedOrigin('A');
    const sw = createProxySwitch(resolveProxyOptions({ upstream: a.url }), { file: null, adminListener: false });
    const ps = serveProxy(sw);
    ps.server.listen(0, '127.0.0.1');
    await new Promise((r) => ps.server.once('listening', r));
    const url = `http://127.0.0.1:${(ps.server.address() as { port: number }).port}`;
    stops.push(async () => { await ps.close(); await a.close(); });
    await assert.rejects(sw.swap(resolveProxyOptions({ upstream: a.url, jwt: { ...jwtInit()!, keyFile: join(dir, 'missing.pem') } }), null));
    assert.equal(sw.config.generation, 1);
    assert.equal((await request(`${url}/x`)).body.toString(), 'A');
    assert.equal(sw.draining(), 0);
  });

  it('/readyz answers 503 naming the pools without a healthy target', async () => {
    let unhealthy: string[] = ['api'];
    const admin = await startAdminListener('test', { host: '127.0.0.1', port: 0 }, {
      statsRoute: async () => CONTINUE,
      readiness: () => ({ serving: true, unhealthyPools: unhealthy }),
      config: () => ({}),
    }, createSilentLogger());
    stops.push(() => admin.close());
    const down = await request(`${admin.address.url}/readyz`);
    assert.equal(down.status, 503);
    assert.deepEqual((JSON.parse(down.body.toString()) as { unhealthyPools: string[] }).unhealthyPools, ['api']);
    unhealthy = [];
    assert.equal((await request(`${admin.address.url}/readyz`)).status, 200);
  });
});

describe('restartOnlyChanges', () => {
  it('names the restart-only flags whose value changed, comparing URLs and host:port by value', () => {
    const before = { listen: { host: '127.0.0.1', port: 8080 }, workers: 1, upstream: [new URL('http://a/')], maxBody: 10 };
    const same = { listen: { host: '127.0.0.1', port: 8080 }, workers: 1, upstream: [new URL('http://a/')], maxBody: 99 };
    assert.deepEqual(restartOnlyChanges(before, same, ['listen', 'workers']), []);
    assert.deepEqual(restartOnlyChanges(before, { ...same, listen: { host: '0.0.0.0', port: 8080 }, workers: 4 }, ['listen', 'workers']), ['listen', 'workers']);
  });
});
