import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { isUuidV4 } from '../../src/http/jwt-claims.ts';
import { createJwtFilter, createJwtSigner, setJwtHeader } from '../../src/proxy/filters/jwt.ts';
import { resolveJwtOptions } from '../../src/proxy/filters/jwt-config.ts';
import type { JwtOptions } from '../../src/proxy/options.ts';
import type { RequestHead } from '../../src/proxy/phases.ts';
import type { RequestContext } from '../../src/proxy/context.ts';
import { UsageError } from '../../src/errors.ts';

const SECRET = new TextEncoder().encode('k'.repeat(40) + '0123456789abcdefghijklmnopqrstuv');
const OPTIONS: JwtOptions = { secret: SECRET, alg: 'HS512', header: 'x-my-jwt', user: 'username', extraClaims: {} };
const head = (headers: RequestHead['headers']): RequestHead => ({ method: 'GET', target: '/', httpVersion: '1.1', headers });
const NO_CTX = {} as RequestContext;

test('tokens verify with jose pinned to HS512 and carry the spec claims (J1, J4)', async () => {
  const signer = await createJwtSigner(OPTIONS);
  const before = Math.floor(Date.now() / 1000);
  const token = await signer.sign();
  const { payload, protectedHeader } = await jwtVerify(token, SECRET, { algorithms: ['HS512'] });
  assert.deepEqual(protectedHeader, { alg: 'HS512', typ: 'JWT' });
  assert.equal(Buffer.from(token.split('.')[0]!, 'base64url').toString(), '{"alg":"HS512","typ":"JWT"}');
  assert.ok(isUuidV4(payload.jti as string));
  assert.ok(Number.isInteger(payload.iat) && payload.iat! >= before && payload.iat! <= Math.floor(Date.now() / 1000));
  assert.deepEqual(payload.payload, { user: 'username', date: new Date().toISOString().slice(0, 10) });
  await assert.rejects(jwtVerify(token, SECRET, { algorithms: ['HS256'] }));
  await assert.rejects(jwtVerify(token, new Uint8Array(64), { algorithms: ['HS512'] }));
});

for (const alg of ['HS256', 'HS384'] as const) {
  test(`--jwt-alg ${alg} signs with ${alg}`, async () => {
    const token = await (await createJwtSigner({ ...OPTIONS, alg })).sign();
    assert.equal(decodeProtectedHeader(token).alg, alg);
    await jwtVerify(token, SECRET, { algorithms: [alg] });
  });
}

test('no other algorithm (none included) can be configured', async () => {
  await assert.rejects(createJwtSigner({ ...OPTIONS, alg: 'none' as 'HS512' }), TypeError);
});

test('iat and date follow the injected clock across the UTC day boundary (J4)', async () => {
  let now = Date.parse('2026-11-21T23:59:59.999Z');
  const signer = await createJwtSigner(OPTIONS, { now: () => now });
  const a = (await jwtVerify(await signer.sign(), SECRET, { algorithms: ['HS512'], currentDate: new Date(now) })).payload;
  now = Date.parse('2026-11-22T00:00:00.000Z');
  const b = (await jwtVerify(await signer.sign(), SECRET, { algorithms: ['HS512'], currentDate: new Date(now) })).payload;
  assert.deepEqual([a.iat, (a.payload as { date: string }).date], [1795305599, '2026-11-21']);
  assert.deepEqual([b.iat, (b.payload as { date: string }).date], [1795305600, '2026-11-22']);
});

test('jti is unique over 100 000 tokens (J4)', async () => {
  const signer = await createJwtSigner(OPTIONS);
  const seen = new Set<string>();
  const BATCH = 500;
  for (let i = 0; i < 100_000 / BATCH; i++) {
    const tokens = await Promise.all(Array.from({ length: BATCH }, () => signer.sign()));
    for (const t of tokens) {
      const jti = (JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()) as { jti: string }).jti;
      assert.ok(isUuidV4(jti));
      seen.add(jti);
    }
  }
  assert.equal(seen.size, 100_000);
});

test('every incoming copy of the header (any case, repeated, empty) is replaced by exactly one token (J5)', async () => {
  const filter = await createJwtFilter({ ...OPTIONS, header: 'X-My-JWT' });
  // HeaderList names are lowercase (fromRawHeaders lowercases X-MY-JWT, x-My-Jwt, …).
  const incoming = head([['x-my-jwt', 'forged'], ['accept', '*/*'], ['x-my-jwt', ''], ['x-my-jwt', 'a, b']]);
  const out = await filter.upstreamRequestFilter!(incoming, NO_CTX);
  const values = out.headers.filter(([n]) => n === 'x-my-jwt').map(([, v]) => v);
  assert.equal(values.length, 1);
  await jwtVerify(values[0]!, SECRET, { algorithms: ['HS512'] });
  assert.deepEqual(out.headers.filter(([n]) => n !== 'x-my-jwt'), [['accept', '*/*']]);
  assert.deepEqual(setJwtHeader(head([]), 'x-t', 'v').headers, [['x-t', 'v']]);
});

test('each head gets a fresh token (J6)', async () => {
  const filter = await createJwtFilter(OPTIONS);
  const tokens = new Set<string>();
  for (let i = 0; i < 20; i++) tokens.add((await filter.upstreamRequestFilter!(head([]), NO_CTX)).headers[0]![1]);
  assert.equal(tokens.size, 20);
});

test('extra static claims from --jwt-claims are signed in', async () => {
  const token = await (await createJwtSigner({ ...OPTIONS, extraClaims: { iss: 'ferry', aud: 'api' } })).sign();
  const { payload } = await jwtVerify(token, SECRET, { algorithms: ['HS512'], issuer: 'ferry', audience: 'api' });
  assert.equal(payload.iss, 'ferry');
});

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-jwt-'));
  try { fn(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
}

test('the secret comes from the file (one trailing newline stripped) or FERRY_JWT_SECRET; the file wins', () => {
  withDir((dir) => {
    const file = join(dir, 'secret');
    writeFileSync(file, `${'s'.repeat(64)}\n`, { mode: 0o600 });
    const fromFile = resolveJwtOptions({ jwtSecretFile: file }, { FERRY_JWT_SECRET: 'e'.repeat(64) })!;
    assert.equal(Buffer.from(fromFile.secret!).toString(), 's'.repeat(64));
    const fromEnv = resolveJwtOptions({}, { FERRY_JWT_SECRET: 'e'.repeat(64) })!;
    assert.equal(Buffer.from(fromEnv.secret!).toString(), 'e'.repeat(64));
    assert.deepEqual([fromEnv.alg, fromEnv.header, fromEnv.user], ['HS512', 'x-my-jwt', 'username']);
    assert.equal(resolveJwtOptions({}, {}), null);
  });
});

test('short secrets, bad header names and bad claim files are usage errors that never show the secret (J2, J3)', () => {
  withDir((dir) => {
    const secret = 'shortsecret-abcdefghijklmnopqrstuvwxyz-0123456789'; // 50 bytes
    const file = join(dir, 'secret');
    writeFileSync(file, secret, { mode: 0o600 });
    const cases: Array<[Parameters<typeof resolveJwtOptions>[0], RegExp]> = [
      [{ jwtSecretFile: file }, /needs at least 64 bytes/],
      [{ jwtSecretFile: file, jwtAlg: 'HS384' }, /^(?![\s\S])/], // 50 ≥ 48: accepted
      [{ jwtSecretFile: join(dir, 'missing') }, /cannot read/],
      [{ jwtSecretFile: file, jwtAlg: 'HS256', jwtHeader: 'bad header' }, /not a valid header field name/],
      [{ jwtSecretFile: file, jwtAlg: 'HS256', jwtHeader: 'Connection' }, /managed by ferry/],
      [{ jwtSecretFile: file, jwtAlg: 'HS256', jwtClaims: file }, /--jwt-claims/],
    ];
    for (const [flags, re] of cases) {
      let message = '';
      try { resolveJwtOptions(flags, {}); } catch (err) { assert.ok(err instanceof UsageError); message = err.message; }
      assert.match(message, re);
      assert.ok(!message.includes(secret) && !message.includes('shortsecret'), message);
    }
  });
});

test('a secret file readable by group or others gets a warning naming the file, not the secret (J3)', () => {
  withDir((dir) => {
    const file = join(dir, 'secret');
    writeFileSync(file, 'w'.repeat(64));
    chmodSync(file, 0o644);
    const warnings: unknown[] = [];
    const log = { warn: (...args: unknown[]) => warnings.push(args) } as unknown as Parameters<typeof resolveJwtOptions>[2];
    resolveJwtOptions({ jwtSecretFile: file }, {}, log);
    assert.equal(warnings.length, 1);
    assert.match(JSON.stringify(warnings), /readable by group or others/);
    assert.ok(!JSON.stringify(warnings).includes('w'.repeat(64)));
    chmodSync(file, 0o600);
    resolveJwtOptions({ jwtSecretFile: file }, {}, log);
    assert.equal(warnings.length, 1);
  });
});
