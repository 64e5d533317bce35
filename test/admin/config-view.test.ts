import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { effectiveConfig } from '../../src/admin/config-view.ts';
import { jsonToPrometheus } from '../../src/admin/json-metrics.ts';
import { PROXY_FLAGS } from '../../src/cli/commands/proxy-flags.ts';
import type { CommandSpec } from '../../src/cli/flags.ts';

const spec: CommandSpec = { name: 'proxy', summary: '', usage: '', flags: PROXY_FLAGS };

describe('effectiveConfig (/config)', () => {
  it('shows every flag in force by its kebab-case name, unset ones as null, host:port as text', () => {
    const c = effectiveConfig(spec, { listen: { host: '127.0.0.1', port: 8080 }, upstream: [new URL('http://10.0.0.5:8081')], maxBody: 1024, logLevel: 'info', help: false });
    assert.equal(c.listen, '127.0.0.1:8080');
    assert.deepEqual(c.upstream, ['http://10.0.0.5:8081/']);
    assert.equal(c['max-body'], 1024);
    assert.equal(c['jwt-key-file'], null);
    assert.equal(c['log-level'], 'info');
    assert.ok(!('help' in c));
  });

  it('redacts credentials: --proxy-auth, and the userinfo of any URL', () => {
    const c = effectiveConfig(spec, { proxyAuth: 'alice:wonderland', upstreamProxy: new URL('http://bob:hunter2@proxy.internal:3128'), upstream: [new URL('http://u:p@origin/')] });
    assert.equal(c['proxy-auth'], '[redacted]');
    assert.equal(c['upstream-proxy'], 'http://[redacted]@proxy.internal:3128/');
    assert.deepEqual(c.upstream, ['http://[redacted]@origin/']);
    assert.doesNotMatch(JSON.stringify(c), /wonderland|hunter2|u:p@/);
  });
});

describe('jsonToPrometheus (/metrics of relays and origin)', () => {
  it('one gauge per finite number or boolean, named by its path in snake case; text and arrays left out', () => {
    const text = jsonToPrometheus('ferry_relay_server', { role: 'relay-server', sessions: { open: 2, emptyPolls: 7 }, ok: true, list: [1], nan: Number.NaN });
    assert.equal(text, [
      '# TYPE ferry_relay_server_sessions_open gauge', 'ferry_relay_server_sessions_open 2',
      '# TYPE ferry_relay_server_sessions_empty_polls gauge', 'ferry_relay_server_sessions_empty_polls 7',
      '# TYPE ferry_relay_server_ok gauge', 'ferry_relay_server_ok 1', '',
    ].join('\n'));
  });
});
