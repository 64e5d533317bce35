import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startRole, type RunningRole } from '../helpers/cli.ts';
import { rawRequest } from './client.ts';

const SECRET = `top-secret-${process.pid}-${Date.now()}`;
let parent: string;
let origin: RunningRole;

before(async () => {
  parent = mkdtempSync(path.join(tmpdir(), 'ferry-traversal-'));
  const root = path.join(parent, 'root');
  mkdirSync(root);
  mkdirSync(path.join(parent, 'outside'));
  writeFileSync(path.join(parent, 'secret.txt'), SECRET);
  writeFileSync(path.join(parent, 'outside', 'x.txt'), SECRET);
  writeFileSync(path.join(root, 'ok.txt'), 'inside');
  mkdirSync(path.join(root, 'sub'));
  writeFileSync(path.join(root, 'sub', 'deep.txt'), 'deep');
  symlinkSync('../secret.txt', path.join(root, 'link-out'));
  symlinkSync(path.join(parent, 'secret.txt'), path.join(root, 'link-abs'));
  symlinkSync('../outside', path.join(root, 'dir-out'));
  symlinkSync('ok.txt', path.join(root, 'link-in'));
  symlinkSync('../ok.txt', path.join(root, 'sub', 'link-up-inside'));
  // Dotfiles allowed, so every refusal below comes from the escape checks, not from the dotfile rule (dotfiles.test.ts).
  origin = await startRole(['origin', '--root', root, '--listen', '127.0.0.1:0', '--dotfiles', 'allow']);
});

after(async () => {
  await origin?.stop();
  rmSync(parent, { recursive: true, force: true });
});

function statusOf(response: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
}

const get = (target: string) => rawRequest(origin.port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);

describe('ferry origin: no path escapes the root (raw sockets)', () => {
  const attempts = [
    '/../secret.txt', '/../../../../../../etc/passwd', '/sub/../../secret.txt',
    '/%2e%2e/secret.txt', '/%2E%2E/secret.txt', '/.%2e/secret.txt', '/%2e./secret.txt',
    '/..%2fsecret.txt', '/%2e%2e%2fsecret.txt', '/ok.txt%2f..%2f..%2fsecret.txt', '/sub%2f..%2f..%2fsecret.txt',
    '/..%5csecret.txt', '/%5c..%5csecret.txt', '/..\\secret.txt',
    '/ok.txt%00', '/%00/../secret.txt', '/secret.txt%00.txt',
    '/%c0%ae%c0%ae/secret.txt', '/%252e%252e/secret.txt', '/%',
    '/link-out', '/link-abs', '/dir-out/x.txt', '/dir-out/', '/dir-out',
    '/secret.txt', '//secret.txt', `/${'../'.repeat(50)}secret.txt`,
    `/${path.basename(parent)}/secret.txt`,
  ];
  for (const target of attempts) {
    it(`refuses ${target}`, async () => {
      const res = await get(target);
      const status = statusOf(res);
      assert.ok([400, 403, 404].includes(status), `${target} → ${res.slice(0, 80)}`);
      assert.ok(!res.includes(SECRET), `${target} leaked the secret`);
    });
  }

  it('refuses an absolute-form target that hides a dot segment', async () => {
    const res = await get('http://127.0.0.1/../secret.txt');
    assert.ok([400, 403, 404].includes(statusOf(res)), res.slice(0, 80));
    assert.ok(!res.includes(SECRET));
  });

  it('a raw NUL in the request line is rejected by the parser', async () => {
    const res = await rawRequest(origin.port, 'GET /ok.txt\0/../../secret.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(statusOf(res), 400);
    assert.ok(!res.includes(SECRET));
  });

  it('accepts an absolute-form target (RFC 9112 §3.2.2)', async () => {
    const res = await get(`http://127.0.0.1:${origin.port}/ok.txt`);
    assert.equal(statusOf(res), 200);
    assert.ok(res.endsWith('\r\n\r\ninside'));
  });

  it('still serves files and symlinks that stay inside', async () => {
    for (const [target, body] of [['/ok.txt', 'inside'], ['/link-in', 'inside'], ['/sub/deep.txt', 'deep'], ['/sub/link-up-inside', 'inside'], ['/%6fk.txt', 'inside']]) {
      const res = await get(target!);
      assert.equal(statusOf(res), 200, target);
      assert.ok(res.endsWith(`\r\n\r\n${body}`), target);
    }
  });

  it('hostile heads get 4xx, never a crash (RELIABILITY S12)', async () => {
    const many = Array.from({ length: 2000 }, (_, i) => `x-h${i}: v`).join('\r\n');
    assert.equal(statusOf(await rawRequest(origin.port, `GET /ok.txt HTTP/1.1\r\nHost: x\r\n${many}\r\nConnection: close\r\n\r\n`)), 431);
    const hundred = Array.from({ length: 98 }, (_, i) => `x-h${i}: v`).join('\r\n');
    assert.equal(statusOf(await rawRequest(origin.port, `GET /ok.txt HTTP/1.1\r\nHost: x\r\n${hundred}\r\nConnection: close\r\n\r\n`)), 200, '100 fields are fine');
    assert.equal(statusOf(await rawRequest(origin.port, `GET /ok.txt HTTP/1.1\r\nHost: x\r\nx-big: ${'a'.repeat(20_000)}\r\nConnection: close\r\n\r\n`)), 431);
    assert.equal(statusOf(await rawRequest(origin.port, 'GET /ok.txt HTTP/1.1\r\nHost: x\r\n__proto__: y\r\nconstructor: z\r\nConnection: close\r\n\r\n')), 200);
    assert.equal(statusOf(await rawRequest(origin.port, 'GET /%ff%fe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')), 400);
  });

  it('the server is still healthy after the attempts', async () => {
    assert.equal(origin.proc.exitCode, null);
    assert.equal(statusOf(await get('/ok.txt')), 200);
  });
});
