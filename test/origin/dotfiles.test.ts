/**
 * `ferry origin` refuses dotfiles and dot-directories (`.env`, `.git/config`) with 404 by default, as
 * `send`/`serve-static` do, raw or percent-encoded; `--dotfiles allow` serves them. Names with a dot
 * inside (`a.b/c.txt`) are ordinary names. Over real sockets (raw request lines, so nothing normalises
 * the targets on the way).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startRole, type RunningRole } from '../helpers/cli.ts';
import { rawRequest } from './client.ts';

const SECRET = `dot-secret-${process.pid}-${Date.now()}`;
let root: string;
let deny: RunningRole;
let allow: RunningRole;

before(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'ferry-dotfiles-'));
  writeFileSync(path.join(root, '.env'), `TOKEN=${SECRET}`);
  mkdirSync(path.join(root, '.git'));
  writeFileSync(path.join(root, '.git', 'config'), `[core] ${SECRET}`);
  mkdirSync(path.join(root, 'sub'));
  writeFileSync(path.join(root, 'sub', '.hidden'), SECRET);
  mkdirSync(path.join(root, 'a.b'));
  writeFileSync(path.join(root, 'a.b', 'c.txt'), 'dotted name');
  writeFileSync(path.join(root, 'ok.txt'), 'plain');
  deny = await startRole(['origin', '--root', root, '--listen', '127.0.0.1:0']);
});

after(async () => {
  await deny?.stop();
  rmSync(root, { recursive: true, force: true });
});

async function get(role: RunningRole, target: string): Promise<{ status: number; body: string }> {
  const res = await rawRequest(role.port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  const end = res.indexOf('\r\n\r\n');
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(res)?.[1] ?? 0), body: res.slice(end + 4) };
}

/** Every way of naming a dotfile, and what `--dotfiles allow` answers for it. */
const DOT_TARGETS: ReadonlyArray<[target: string, allowed: number]> = [
  ['/.env', 200], ['/%2eenv', 200], ['/%2Eenv', 200], ['/.env?x=1', 200],
  ['/.git/config', 200], ['/%2Egit/config', 200], ['/%2egit/%63onfig', 200], ['/.git/', 200], ['/.git', 301],
  ['/sub/.hidden', 200], ['/sub/%2ehidden', 200], ['//sub//.hidden', 200],
  // an encoded slash is refused whatever the policy
  ['/.git%2fconfig', 404], ['/.git%2Fconfig', 404],
];

describe('ferry origin: dotfiles (raw sockets)', () => {
  for (const [target] of DOT_TARGETS) {
    it(`refuses ${target} with 404 by default`, async () => {
      const r = await get(deny, target);
      assert.equal(r.status, 404, `${target} → ${r.status} ${r.body.slice(0, 80)}`);
      assert.ok(!r.body.includes(SECRET), `${target} leaked the secret`);
    });
  }

  it('logs each refusal in the access line', async () => {
    await get(deny, '/%2eenv');
    const line = deny.logs.find((l) => l.event === 'access' && l.path === '/%2eenv');
    assert.equal(line?.refused, 'dotfile');
  });

  it('the root listing does not name dotfiles by default', async () => {
    const r = await get(deny, '/');
    assert.equal(r.status, 200);
    assert.match(r.body, /^a\.b\/$/m);
    assert.doesNotMatch(r.body, /\.env|\.git/);
  });

  it('still serves names with a dot inside (a.b/c.txt) and ordinary files', async () => {
    assert.deepEqual(await get(deny, '/a.b/c.txt'), { status: 200, body: 'dotted name' });
    assert.deepEqual(await get(deny, '/a%2eb/c.txt'), { status: 200, body: 'dotted name' });
    assert.deepEqual(await get(deny, '/ok.txt'), { status: 200, body: 'plain' });
  });
});

describe('ferry origin --dotfiles allow (raw sockets)', () => {
  before(async () => { allow = await startRole(['origin', '--root', root, '--listen', '127.0.0.1:0', '--dotfiles', 'allow']); });
  after(async () => { await allow?.stop(); });

  for (const [target, status] of DOT_TARGETS) {
    it(`answers ${target} with ${status}`, async () => {
      const r = await get(allow, target);
      assert.equal(r.status, status, `${target} → ${r.status} ${r.body.slice(0, 80)}`);
      if (status === 200 && !target.endsWith('/')) assert.ok(r.body.includes(SECRET), target);
    });
  }

  it('serves names with a dot inside the same way', async () => {
    assert.deepEqual(await get(allow, '/a.b/c.txt'), { status: 200, body: 'dotted name' });
    assert.deepEqual(await get(allow, '/ok.txt'), { status: 200, body: 'plain' });
  });

  it('lists dotfiles; dot segments (. and ..) stay refused', async () => {
    assert.match((await get(allow, '/')).body, /^\.env$/m);
    for (const target of ['/./ok.txt', '/%2e/ok.txt', '/sub/../.env', '/sub/%2e%2e/.env']) {
      assert.equal((await get(allow, target)).status, 404, target);
    }
  });
});
