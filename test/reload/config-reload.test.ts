import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { installReload, onConfigReload } from '../../src/reload/config-reload.ts';
import type { ConfigInfo } from '../../src/reload/proxy-switch.ts';
import type { FlagValues } from '../../src/cli/flags.ts';
import { createSilentLogger } from '../../src/server/logger.ts';

/** A reload plan over a plain value: resolve() reads `source`, apply() makes a new generation of it. */
function plan(source: { flags: FlagValues; failApply?: boolean }) {
  let info: ConfigInfo = { generation: 1, loadedAt: new Date().toISOString(), file: null };
  const applied: FlagValues[] = [];
  const reloader = installReload({
    log: createSilentLogger(), file: null, watch: false, restartOnly: ['listen'], flags: { ...source.flags },
    resolve: () => ({ ...source.flags }),
    async apply(flags) {
      if (source.failApply) throw new Error('cannot apply');
      applied.push(flags);
      info = { ...info, generation: info.generation + 1 };
      return info;
    },
    info: () => info,
  });
  return { reloader, applied, info: () => info };
}

describe('installReload and onConfigReload hooks (the TLS engineer\'s entry point)', () => {
  it('a hook sees the new flags, may refuse the reload (nothing applied), and commits only once the reload is accepted', async () => {
    const source: { flags: FlagValues; failApply?: boolean } = { flags: { listen: 'a', cert: 'one.pem' } };
    const p = plan(source);
    const commits: string[] = [];
    const off = onConfigReload(async (flags) => {
      if (flags.cert === 'bad.pem') throw new Error('bad.pem: not a certificate');
      return () => { commits.push(String(flags.cert)); };
    });
    try {
      source.flags = { listen: 'a', cert: 'two.pem' };
      assert.equal(await p.reloader.reload('api'), true);
      assert.deepEqual(commits, ['two.pem']);
      source.flags = { listen: 'a', cert: 'bad.pem' };
      assert.equal(await p.reloader.reload('api'), false, 'the hook refused');
      assert.equal(p.applied.length, 1, 'nothing applied after a refusal');
      source.flags = { listen: 'a', cert: 'three.pem' };
      source.failApply = true;
      assert.equal(await p.reloader.reload('api'), false, 'the proxy refused');
      assert.deepEqual(commits, ['two.pem'], 'a hook is not committed when the reload is refused later');
      assert.equal(p.info().generation, 2);
    } finally {
      off();
      p.reloader.stop();
    }
  });

  it('restart-only flags keep their running value in flags(); the others take the new one', async () => {
    const source = { flags: { listen: 'a', maxBody: 1 } as FlagValues };
    const p = plan(source);
    try {
      source.flags = { listen: 'b', maxBody: 2 };
      assert.equal(await p.reloader.reload('api'), true);
      assert.deepEqual(p.reloader.flags(), { listen: 'a', maxBody: 2 });
    } finally {
      p.reloader.stop();
    }
  });

  it('one reload at a time: triggers during one run one more after it, not one each', async () => {
    const source = { flags: { listen: 'a' } as FlagValues };
    const p = plan(source);
    try {
      const runs = [p.reloader.reload('api'), p.reloader.reload('api'), p.reloader.reload('api')];
      await Promise.all(runs);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(p.applied.length, 2);
    } finally {
      p.reloader.stop();
    }
  });
});
