/**
 * Asymmetric JWT signing end to end (docs/features.md "Asymmetric signing", "JWKS", "Key rotation"): a spawned
 * `ferry proxy` signs with a key generated here; an upstream fixture verifies every token with jose's
 * createRemoteJWKSet fetched from ferry's /.well-known/jwks.json. Rotation under load, the grace, refused keys, and
 * the usage errors of the real CLI. Keys are generated per run, never committed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint, createLocalJWKSet, decodeProtectedHeader, exportJWK, jwtVerify, type JSONWebKeySet } from 'jose';
import { isUuidV4 } from '../../src/http/jwt-claims.ts';
import { createProxyServer } from '../../src/proxy/create-proxy.ts';
import { startJwksVerifier, type JwksVerifier } from '../fixtures/jwks-verifier.ts';
import { runCli, startRole, type RunningRole } from '../helpers/cli.ts';
import { waitFor } from '../helpers/wait.ts';

let dir: string;
let verifier: JwksVerifier;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ferry-jwks-'));
  verifier = await startJwksVerifier();
});

after(async () => {
  await verifier?.close();
  rmSync(dir, { recursive: true, force: true });
});

const KEYGEN = {
  RS256: () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
  PS256: () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
  ES256: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
  EdDSA: () => generateKeyPairSync('ed25519').privateKey,
} as const;

/** PEM in the form asked: PKCS#8, or traditional (PKCS#1 for RSA, SEC1 for EC). */
function pem(key: KeyObject, form: 'pkcs8' | 'traditional' = 'pkcs8'): string {
  if (form === 'pkcs8') return key.export({ format: 'pem', type: 'pkcs8' }) as string;
  return key.export({ format: 'pem', type: key.asymmetricKeyType === 'rsa' ? 'pkcs1' : 'sec1' }) as string;
}

/** Write a key file mode 0600 by replacing it atomically (write + rename), as deployments do. */
function writeKey(file: string, text: string): void {
  const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, file);
}

async function kidOf(key: KeyObject): Promise<string> {
  return calculateJwkThumbprint(await exportJWK(key), 'sha256');
}

async function jwks(url: string): Promise<{ res: Response; doc: JSONWebKeySet }> {
  const res = await fetch(`${url}/.well-known/jwks.json`);
  return { res, doc: (await res.json()) as JSONWebKeySet };
}

async function get(url: string, agent?: http.Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(url, agent ? { agent } : {}, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); }).on('error', reject);
  });
}


const FORMS: Record<keyof typeof KEYGEN, 'pkcs8' | 'traditional'> = { RS256: 'traditional', PS256: 'pkcs8', ES256: 'traditional', EdDSA: 'pkcs8' };

for (const alg of Object.keys(KEYGEN) as Array<keyof typeof KEYGEN>) {
  test(`${alg} (${FORMS[alg]} PEM): every token verifies against ferry's JWKS; the JWKS is public-only, cacheable, local and uncounted`, async () => {
    const key = KEYGEN[alg]();
    const file = join(dir, `${alg}.pem`);
    writeKey(file, pem(key, FORMS[alg]));
    const p = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', verifier.url, '--jwt-alg', alg, '--jwt-key-file', file,
      '--jwt-ttl', '2m', '--jwt-issuer', 'https://ferry.test', '--jwt-audience', 'svc-a,svc-b', '--jwt-user', 'alice']);
    try {
      verifier.useJwks(`${p.url}/.well-known/jwks.json`, { algorithms: [alg], issuer: 'https://ferry.test', audience: 'svc-b' });
      const start = verifier.results.length;
      const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
      const statuses = await Promise.all(Array.from({ length: 40 }, (_, i) => get(`${p.url}/r${i}`, agent)));
      agent.destroy();
      assert.deepEqual(new Set(statuses), new Set([200]));
      const batch = verifier.results.slice(start);
      assert.equal(batch.length, 40);
      const kid = await kidOf(key);
      const jtis = new Set<string>();
      for (const r of batch) {
        assert.ok(r.ok, r.error);
        assert.equal(r.kid, kid);
        const c = r.payload!;
        assert.ok(isUuidV4(c.jti!));
        jtis.add(c.jti!);
        assert.deepEqual(c.payload, { user: 'alice', date: new Date(c.iat! * 1000).toISOString().slice(0, 10) });
        assert.deepEqual([c.exp! - c.iat!, c.nbf, c.iss, c.aud], [120, c.iat, 'https://ferry.test', ['svc-a', 'svc-b']]);
      }
      assert.equal(jtis.size, 40);

      const { res, doc } = await jwks(p.url);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'application/jwk-set+json');
      assert.equal(res.headers.get('cache-control'), 'public, max-age=300');
      assert.equal(doc.keys.length, 1);
      const published = doc.keys[0]!;
      for (const priv of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']) assert.ok(!(priv in published), `private parameter ${priv} published`);
      assert.deepEqual([published.kid, published.alg, published.use], [kid, alg, 'sig']);
      const etag = res.headers.get('etag')!;
      assert.match(etag, /^"[A-Za-z0-9_-]+"$/);
      const again = await fetch(`${p.url}/.well-known/jwks.json`, { headers: { 'if-none-match': etag } });
      assert.equal(again.status, 304);
      assert.equal(again.headers.get('etag'), etag);
      assert.equal((await fetch(`${p.url}/.well-known/jwks.json`, { method: 'POST' })).status, 405);
      assert.equal((await fetch(`${p.url}/.well-known/jwks.json?x=1`, { method: 'HEAD' })).status, 200);
      // answered by ferry: never reached the upstream, and not counted as proxied requests
      assert.ok(!verifier.results.some((r) => r.url.startsWith('/.well-known')));
      const stats = (await (await fetch(`${p.url}/stats?format=json`)).json()) as { requests: { total: number } };
      assert.equal(stats.requests.total, 40);
    } finally {
      await p.stop();
    }
  });
}

test('HS512 with a secret works as before: no kid, no JWKS route (the path is the upstream\'s)', async () => {
  const secret = randomBytes(64).toString('base64url');
  const p = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', verifier.url], { env: { FERRY_JWT_SECRET: secret } });
  try {
    verifier.useSecret(new TextEncoder().encode(secret), { algorithms: ['HS512'] });
    const start = verifier.results.length;
    for (let i = 0; i < 10; i++) assert.equal(await get(`${p.url}/hs${i}`), 200);
    const batch = verifier.results.slice(start);
    assert.equal(batch.length, 10);
    for (const r of batch) { assert.ok(r.ok, r.error); assert.equal(r.kid, undefined); }
    await fetch(`${p.url}/.well-known/jwks.json`).then((r) => r.text());
    assert.equal(verifier.results.at(-1)!.url, '/.well-known/jwks.json');
  } finally {
    await p.stop();
  }
});

test('rotation under load: 300 requests while the key file is replaced; none fails, the old key leaves the JWKS after the grace', async () => {
  const file = join(dir, 'rotating.pem');
  const oldKey = KEYGEN.ES256();
  const newKey = KEYGEN.ES256();
  writeKey(file, pem(oldKey));
  const GRACE_MS = 6_000; // long enough that the 200 requests after the rotation end inside it on a loaded machine
  const p = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', verifier.url, '--jwt-alg', 'ES256', '--jwt-key-file', file, '--jwt-rotation-grace', `${GRACE_MS}ms`]);
  try {
    verifier.useJwks(`${p.url}/.well-known/jwks.json`, { algorithms: ['ES256'] });
    const [oldKid, newKid] = [await kidOf(oldKey), await kidOf(newKey)];
    const start = verifier.results.length;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 10 });
    let done = 0;
    let rotatedAt = -1;
    // 10 clients × 30 sequential requests; the key file is replaced once 100 have completed
    await Promise.all(Array.from({ length: 10 }, async (_, c) => {
      for (let i = 0; i < 30; i++) {
        assert.equal(await get(`${p.url}/load/${c}/${i}`, agent), 200);
        if (++done === 100) { rotatedAt = done; writeKey(file, pem(newKey)); }
        if (done > 100 && done < 200) await new Promise((r) => setTimeout(r, 5)); // give the watcher time to act mid-load
      }
    }));
    agent.destroy();
    assert.equal(rotatedAt, 100);
    const batch = verifier.results.slice(start);
    assert.equal(batch.length, 300);
    const failed = batch.filter((r) => !r.ok);
    assert.deepEqual(failed, [], 'every token verified');
    const kids = new Set(batch.map((r) => r.kid));
    assert.deepEqual(kids, new Set([oldKid, newKid]), 'both keys signed during the run');
    assert.ok(p.logs.some((l) => l.event === 'jwt-key-rotated' && l.kid === newKid && l.previousKid === oldKid));
    // a token the old key signed stays verifiable through the JWKS until the grace ends, then not
    const oldToken = batch.find((r) => r.kid === oldKid)!.token!;
    const during = (await jwks(p.url)).doc;
    assert.deepEqual(during.keys.map((k) => k.kid), [newKid, oldKid], 'both published during the grace, current first');
    await jwtVerify(oldToken, createLocalJWKSet(during), { algorithms: ['ES256'] });
    await waitFor(async () => !(await jwks(p.url)).doc.keys.some((k) => k.kid === oldKid), 'the old key to leave the JWKS', GRACE_MS + 5_000, 50);
    const after = (await jwks(p.url)).doc;
    assert.deepEqual(after.keys.map((k) => k.kid), [newKid]);
    await assert.rejects(jwtVerify(oldToken, createLocalJWKSet(after), { algorithms: ['ES256'] }), (e: Error & { code?: string }) => e.code === 'ERR_JWKS_NO_MATCHING_KEY');
  } finally {
    await p.stop();
  }
});

test('a broken new key is refused with one log line and the old key keeps signing; SIGHUP reloads; loose permissions warn', async () => {
  const file = join(dir, 'reload.pem');
  const first = KEYGEN.EdDSA();
  writeKey(file, pem(first));
  chmodSync(file, 0o644);
  const p = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', verifier.url, '--jwt-alg', 'EdDSA', '--jwt-key-file', file]);
  try {
    assert.ok(p.logs.some((l) => l.event === 'jwt-key-permissions' && l.mode === '644'), 'permission warning at start');
    verifier.useJwks(`${p.url}/.well-known/jwks.json`, { algorithms: ['EdDSA'] });
    const firstKid = await kidOf(first);
    // an EC key where an Ed25519 key is needed, then garbage: each refused once, the first key stays
    writeKey(file, pem(KEYGEN.ES256()));
    await waitFor(() => p.logs.filter((l) => l.event === 'jwt-key-refused').length === 1, 'the refusal of the EC key', 10_000, 50);
    writeKey(file, 'not a key at all');
    await waitFor(() => p.logs.filter((l) => l.event === 'jwt-key-refused').length === 2, 'the refusal of the garbage', 10_000, 50);
    const refusals = p.logs.filter((l) => l.event === 'jwt-key-refused');
    assert.match(String(refusals[0]!.reason), /EdDSA needs an Ed25519 private key, but the key file holds an EC P-256 key/);
    assert.match(String(refusals[1]!.reason), /not a PEM private key/);
    assert.deepEqual(refusals.map((l) => l.level), ['warn', 'warn']);
    const start = verifier.results.length;
    assert.equal(await get(`${p.url}/still-first`), 200);
    assert.deepEqual([verifier.results[start]!.ok, verifier.results[start]!.kid], [true, firstKid]);
    assert.deepEqual((await jwks(p.url)).doc.keys.map((k) => k.kid), [firstKid]);
    // SIGHUP: the handler runs (the process does not die of it) and re-reads the file
    const second = KEYGEN.EdDSA();
    writeFileSync(`${file}.next`, pem(second), { mode: 0o600 });
    renameSync(`${file}.next`, file);
    p.proc.kill('SIGHUP');
    await waitFor(() => p.logs.some((l) => l.event === 'reload' && l.signal === 'SIGHUP'), 'SIGHUP reload', 10_000, 50);
    const secondKid = await kidOf(second);
    await waitFor(() => p.logs.some((l) => l.event === 'jwt-key-rotated' && l.kid === secondKid), 'the second key', 10_000, 50);
    assert.equal(p.logs.filter((l) => l.event === 'jwt-key-rotated').length, 1, 'the watcher and SIGHUP together rotate once');
    const at = verifier.results.length;
    assert.equal(await get(`${p.url}/second`), 200);
    assert.deepEqual([verifier.results[at]!.ok, verifier.results[at]!.kid], [true, secondKid]);
    assert.deepEqual((await jwks(p.url)).doc.keys.map((k) => k.kid), [secondKid, firstKid]);
  } finally {
    await p.stop();
  }
});

test('library: createProxy({ jwt }) signs with a key file, serves the JWKS, and proxy.reload() rotates without a watcher', async () => {
  const file = join(dir, 'library.pem');
  const first = KEYGEN.ES256();
  writeKey(file, pem(first));
  const server = createProxyServer({ upstream: verifier.url, jwt: { alg: 'ES256', keyFile: file, watchKeyFile: false, rotationGraceMs: 60_000, header: 'x-my-jwt', user: 'lib', extraClaims: {}, ttlSeconds: 30 } });
  await server.proxy.ready();
  await new Promise<void>((r) => server.server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.server.address() as { port: number }).port}`;
  try {
    verifier.useJwks(`${url}/.well-known/jwks.json`, { algorithms: ['ES256'] });
    const second = KEYGEN.ES256();
    writeKey(file, pem(second));
    await new Promise((r) => setTimeout(r, 400)); // longer than the watcher's debounce: nothing may happen
    assert.deepEqual((await jwks(url)).doc.keys.map((k) => k.kid), [await kidOf(first)]);
    await server.proxy.reload();
    const { res, doc } = await jwks(url);
    assert.deepEqual(doc.keys.map((k) => k.kid), [await kidOf(second), await kidOf(first)]);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=30');
    const at = verifier.results.length;
    assert.equal(await get(`${url}/lib`), 200);
    const r = verifier.results[at]!;
    assert.ok(r.ok, r.error);
    assert.equal(decodeProtectedHeader(r.token!).kid, await kidOf(second));
    assert.equal(r.payload!.exp! - r.payload!.iat!, 30);
  } finally {
    await server.close();
  }
});

test('bad asymmetric configuration exits 2 with a clear message and no key material (real CLI)', async () => {
  const files = join(dir, 'bad');
  mkdirSync(files);
  const write = (name: string, text: string) => { const f = join(files, name); writeFileSync(f, text, { mode: 0o600 }); return f; };
  const rsa = pem(KEYGEN.RS256());
  const rsaFile = write('rsa.pem', rsa);
  const ecFile = write('ec.pem', pem(KEYGEN.ES256(), 'traditional'));
  const shortRsa = write('rsa1024.pem', pem(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey));
  const pub = write('pub.pem', generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }) as string);
  const secret = randomBytes(64).toString('hex');
  const secretFile = write('secret', secret);
  const claims = write('claims.json', JSON.stringify({ iss: 'file' }));
  const base = ['proxy', '--listen', '127.0.0.1:0', '--upstream', verifier.url];
  const cases: Array<[string, string[], NodeJS.ProcessEnv, RegExp]> = [
    ['wrong key type', ['--jwt-alg', 'ES256', '--jwt-key-file', rsaFile], {}, /--jwt-alg ES256 needs an EC P-256 private key, but the key file holds an RSA 2048-bit key; it signs RS256 or PS256/],
    ['wrong key type', ['--jwt-alg', 'EdDSA', '--jwt-key-file', ecFile], {}, /--jwt-alg EdDSA needs an Ed25519 private key, but the key file holds an EC P-256 key; it signs ES256/],
    ['short RSA key', ['--jwt-alg', 'RS256', '--jwt-key-file', shortRsa], {}, /RSA 1024-bit key is too short for RS256: RFC 7518 §3.3 requires at least 2048 bits/],
    ['public key', ['--jwt-alg', 'EdDSA', '--jwt-key-file', pub], {}, /holds a public key; --jwt-key-file needs the PEM private key/],
    ['unreadable key file (missing)', ['--jwt-alg', 'ES256', '--jwt-key-file', join(files, 'nope.pem')], {}, /--jwt-key-file: cannot read .*nope\.pem: ENOENT/],
    ['unreadable key file (a directory)', ['--jwt-alg', 'ES256', '--jwt-key-file', files], {}, /--jwt-key-file: cannot read .*: EISDIR/],
    ['secret with asymmetric alg (env)', ['--jwt-alg', 'RS256'], { FERRY_JWT_SECRET: secret }, /--jwt-alg RS256 signs with a private key \(--jwt-key-file\), but a symmetric secret was given \(FERRY_JWT_SECRET\); a secret signs HS256, HS384 or HS512/],
    ['secret with asymmetric alg (file)', ['--jwt-alg', 'ES256', '--jwt-secret-file', secretFile], {}, /--jwt-alg ES256 signs with a private key \(--jwt-key-file\), but a symmetric secret was given \(--jwt-secret-file\)/],
    ['secret in the key file', ['--jwt-alg', 'ES256', '--jwt-key-file', secretFile], {}, /is not a PEM private key \(a symmetric secret goes in --jwt-secret-file/],
    ['asymmetric key with HS*', ['--jwt-alg', 'HS512', '--jwt-key-file', ecFile], {}, /--jwt-alg HS512 signs with a shared secret \(--jwt-secret-file\), but --jwt-key-file holds an EC P-256 key; use --jwt-alg ES256 with it/],
    ['key file without --jwt-alg', ['--jwt-key-file', ecFile], {}, /--jwt-key-file needs --jwt-alg \(an EC P-256 key signs ES256\)/],
    ['asymmetric alg without key', ['--jwt-alg', 'PS256'], {}, /--jwt-alg PS256 signs with a private key: give it with --jwt-key-file/],
    ['secret and key both', ['--jwt-alg', 'ES256', '--jwt-key-file', ecFile, '--jwt-secret-file', secretFile], {}, /not both/],
    ['env secret and key both', ['--jwt-alg', 'ES256', '--jwt-key-file', ecFile], { FERRY_JWT_SECRET: secret }, /FERRY_JWT_SECRET .* and --jwt-key-file .* are both set/],
    ['ttl below a second', ['--jwt-alg', 'ES256', '--jwt-key-file', ecFile, '--jwt-ttl', '500ms'], {}, /--jwt-ttl: a token must live at least 1s/],
    ['claim given twice', ['--jwt-alg', 'ES256', '--jwt-key-file', ecFile, '--jwt-issuer', 'x', '--jwt-claims', claims], {}, /iss also set by --jwt-ttl\/--jwt-issuer\/--jwt-audience/],
    ['unknown algorithm', ['--jwt-alg', 'ES512', '--jwt-key-file', ecFile], {}, /"ES512" is not one of HS256, HS384, HS512, RS256, PS256, ES256, EdDSA/],
  ];
  const keyBody = rsa.split('\n')[5]!; // a line from the middle of the private key
  for (const [name, args, env, re] of cases) {
    const r = await runCli([...base, ...args], env);
    assert.equal(r.code, 2, `${name}: exit code (stderr: ${r.stderr})`);
    assert.match(r.stderr, re, name);
    const out = r.stderr + r.stdout;
    assert.ok(!out.includes(keyBody) && !out.includes(secret) && !out.includes('PRIVATE KEY-----'), `${name}: key material in the output`);
  }
});

test('--workers 2: SIGHUP to the primary reloads the key in both workers, none of them dies of it', async () => {
  const file = join(dir, 'workers.pem');
  writeKey(file, pem(KEYGEN.EdDSA()));
  const p = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', verifier.url, '--jwt-alg', 'EdDSA', '--jwt-key-file', file, '--workers', '2'], { listeningCount: 2 });
  try {
    p.proc.kill('SIGHUP');
    await waitFor(() => p.logs.filter((l) => l.event === 'reload' && l.signal === 'SIGHUP').length === 2, 'both workers to reload', 10_000, 50);
    assert.ok(!p.logs.some((l) => l.event === 'worker-exit'));
    assert.equal((await jwks(p.url)).res.status, 200);
  } finally {
    await p.stop();
  }
});

test('a Kubernetes-style secret volume (key.pem -> ..data/key.pem, ..data swapped) rotates too; unrelated files do not reload', async () => {
  const vol = join(dir, 'k8s');
  mkdirSync(vol);
  const version = (name: string, key: KeyObject) => { mkdirSync(join(vol, name)); writeFileSync(join(vol, name, 'key.pem'), pem(key), { mode: 0o600 }); };
  const first = KEYGEN.ES256();
  const second = KEYGEN.ES256();
  version('..v1', first);
  symlinkSync('..v1', join(vol, '..data'));
  symlinkSync('..data/key.pem', join(vol, 'key.pem'));
  const p = await startRole(['proxy', '--listen', '127.0.0.1:0', '--upstream', verifier.url, '--jwt-alg', 'ES256', '--jwt-key-file', join(vol, 'key.pem')]);
  try {
    writeFileSync(join(vol, 'unrelated'), 'x');
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(!p.logs.some((l) => String(l.event).startsWith('jwt-key-')), 'an unrelated file changes nothing and logs nothing');
    // what the kubelet does: new version directory, new ..data_tmp symlink, renamed over ..data
    version('..v2', second);
    symlinkSync('..v2', join(vol, '..data_tmp'));
    renameSync(join(vol, '..data_tmp'), join(vol, '..data'));
    const secondKid = await kidOf(second);
    await waitFor(() => p.logs.some((l) => l.event === 'jwt-key-rotated' && l.kid === secondKid), 'the rotation', 10_000, 50);
    assert.deepEqual((await jwks(p.url)).doc.keys.map((k) => k.kid), [secondKid, await kidOf(first)]);
  } finally {
    await p.stop();
  }
});
