import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isInside, joinUnderRoot, resolveRequestPath, toOriginForm } from '../../src/origin/resolve-path.ts';
import { decideResponse } from '../../src/origin/decide-response.ts';

describe('resolveRequestPath', () => {
  it('decodes segments and refuses escapes', () => {
    assert.deepEqual(resolveRequestPath('/a/b%20c/d.txt?x=1'), { kind: 'ok', segments: ['a', 'b c', 'd.txt'] });
    assert.deepEqual(resolveRequestPath('//a///b'), { kind: 'ok', segments: ['a', 'b'] });
    for (const bad of ['/../x', '/a/%2e%2e/x', '/a%2fb', '/a%5cb', '/a%00', '/./x', '/%2E']) {
      assert.equal(resolveRequestPath(bad).kind, 'refused', bad);
    }
    assert.deepEqual(resolveRequestPath('/%zz'), { kind: 'refused', status: 400, reason: 'bad percent-encoding' });
    assert.equal(resolveRequestPath('http://h/x').kind, 'refused');
  });

  it('takes the origin-form of an absolute-form target verbatim (RFC 9112 §3.2.2)', () => {
    assert.equal(toOriginForm('http://h:81/a/../b?q=1'), '/a/../b?q=1');
    assert.equal(toOriginForm('HTTPS://h'), '/');
    assert.equal(toOriginForm('http://h?x'), '/?x');
    assert.equal(toOriginForm('/plain'), '/plain');
    assert.equal(toOriginForm('*'), '*');
  });

  it('names that merely start with dots are inside (served only with dotfiles allowed)', () => {
    assert.deepEqual(resolveRequestPath('/..a/...', 'allow'), { kind: 'ok', segments: ['..a', '...'] });
    assert.deepEqual(resolveRequestPath('/..a/...'), { kind: 'refused', status: 404, reason: 'dotfile' });
    assert.ok(isInside('/r', '/r/..a'));
    assert.ok(isInside('/r', '/r'));
    assert.ok(!isInside('/r', '/r/../x'.replace('/r/..', '')));
    assert.ok(!isInside('/r', '/rx'));
    assert.ok(!isInside('/r', '/'));
  });

  it('refuses dotfiles and dot-directories by default, raw or percent-encoded; names with an inner dot pass', () => {
    const dotfile = { kind: 'refused', status: 404, reason: 'dotfile' };
    for (const target of ['/.env', '/%2eenv', '/%2Eenv', '/.env?x', '/.git/config', '/%2Egit/config', '/%2egit/%63onfig',
      '/sub/.hidden', '/sub/%2ehidden', '//sub//.hidden', '/.git/', '/a/.b/c', '/.%2e.x']) {
      assert.deepEqual(resolveRequestPath(target), dotfile, target);
      assert.deepEqual(resolveRequestPath(target, 'deny'), dotfile, target);
      assert.equal(resolveRequestPath(target, 'allow').kind, 'ok', target);
    }
    assert.deepEqual(resolveRequestPath('/.git/config', 'allow'), { kind: 'ok', segments: ['.git', 'config'] });
    assert.deepEqual(resolveRequestPath('/%2eenv', 'allow'), { kind: 'ok', segments: ['.env'] });
    // An encoded slash stays refused whatever the policy (it would join two segments into one path).
    for (const policy of ['deny', 'allow'] as const) {
      assert.deepEqual(resolveRequestPath('/.git%2fconfig', policy).kind, 'refused');
      assert.deepEqual(resolveRequestPath('/a.b/c.txt', policy), { kind: 'ok', segments: ['a.b', 'c.txt'] });
      assert.deepEqual(resolveRequestPath('/a%2eb/c.txt.', policy), { kind: 'ok', segments: ['a.b', 'c.txt.'] });
      assert.equal(resolveRequestPath('/./x', policy).kind, 'refused');
      assert.equal(resolveRequestPath('/a/../.env', policy).kind, 'refused');
    }
  });

  it('property: with dotfiles denied, no accepted segment starts with a dot', () => {
    const piece = fc.constantFrom('.', '%2e', '%2E', '/', 'a', 'env', 'b.txt', '%2f', '%252e', '');
    fc.assert(fc.property(fc.array(piece, { maxLength: 10 }), (pieces) => {
      const r = resolveRequestPath(`/${pieces.join('')}`);
      if (r.kind === 'ok') assert.ok(r.segments.every((s) => !s.startsWith('.')), pieces.join(''));
    }), { numRuns: 2000 });
  });

  it('property: whatever the target, an accepted path stays under the root', () => {
    const root = '/srv/www';
    const piece = fc.constantFrom('..', '.', '%2e', '%2E', '%2f', '%5c', '%00', '/', 'a', 'b.txt', '%252e', '\\', '%c0%ae', '');
    fc.assert(fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
      // 'allow' accepts the most paths (deny only refuses more), so it is the policy to check escapes under.
      const r = resolveRequestPath(`/${pieces.join('')}`, 'allow');
      if (r.kind !== 'ok') return;
      const full = joinUnderRoot(root, r.segments);
      assert.ok(full !== undefined && isInside(root, full), `${pieces.join('')} → ${full}`);
    }), { numRuns: 2000 });
  });
});

describe('decideResponse', () => {
  const meta = { size: 100, contentType: 'text/plain', etag: { weak: false, opaque: 'v1' }, lastModifiedMs: 1_700_000_000_000 };
  it('follows preconditions, then If-Range, then Range', () => {
    assert.deepEqual(decideResponse({ method: 'GET' }, meta, 100), { kind: 'full' });
    assert.deepEqual(decideResponse({ method: 'GET', range: 'bytes=0-9' }, meta, 100), { kind: 'partial', range: { first: 0, last: 9 } });
    assert.equal(decideResponse({ method: 'HEAD', range: 'bytes=0-9,20-29' }, meta, 100).kind, 'multipart');
    assert.equal(decideResponse({ method: 'POST', range: 'bytes=0-9' }, meta, 100).kind, 'full');
    assert.equal(decideResponse({ method: 'GET', range: 'bytes=0-9', rangeLines: 2 }, meta, 100).kind, 'full');
    assert.equal(decideResponse({ method: 'GET', range: 'bytes=0-9', ifRange: '"v0"' }, meta, 100).kind, 'full');
    assert.equal(decideResponse({ method: 'GET', range: 'bytes=0-9', ifNoneMatch: '"v1"' }, meta, 100).kind, 'not-modified');
    assert.equal(decideResponse({ method: 'GET', range: 'bytes=0-9', ifMatch: '"v0"' }, meta, 100).kind, 'precondition-failed');
    assert.equal(decideResponse({ method: 'GET', range: 'bytes=100-' }, meta, 100).kind, 'unsatisfiable');
    assert.equal(decideResponse({ method: 'GET', range: 'bytes=0-1,3-4' }, meta, 1).kind, 'full');
  });
});
