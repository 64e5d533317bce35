/**
 * --sigv4 credentials that expire or rotate (issue 17): the relay-client takes them from the AWS SDK's default
 * chain and refreshes them while it runs. End to end, a `credential_process` in the shared credentials file
 * (AWS_SHARED_CREDENTIALS_FILE) hands out temporary credentials with an Expiration; when they near it, the next
 * message is signed with the new key the process now returns, and the gateway (verifying SigV4 like API Gateway)
 * accepts it after the old key was revoked. In process, static keys rotated in the file are picked up after the
 * static refresh interval, and not before.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRole } from '../helpers/cli.ts';
import { startGateway } from '../fixtures/gateway.ts';
import { SECRET, startTarget, viaProxy, type Target } from './harness.ts';
import { awsCredentialSource } from '../../src/relay/sigv4.ts';

const dir = mkdtempSync(join(tmpdir(), 'ferry-sigv4-'));
const noAmbient = { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_SESSION_TOKEN: '', AWS_CONFIG_FILE: join(dir, 'no-config'), AWS_EC2_METADATA_DISABLED: 'true', AWS_PROFILE: 'default' };
after(() => rmSync(dir, { recursive: true, force: true }));

describe('--sigv4 credentials are refreshed while the relay runs', () => {
  let target: Target;
  before(async () => { target = await startTarget(); });
  after(async () => { await target.close(); });

  test('temporary credentials from credential_process: near their expiry the new key signs, the old one is no longer needed', async () => {
    const json = join(dir, 'creds.json');
    const write = (id: string, expiresInMs: number) => writeFileSync(json, JSON.stringify({ Version: 1, AccessKeyId: id, SecretAccessKey: `secret-of-${id}`, SessionToken: `token-${id}`, Expiration: new Date(Date.now() + expiresInMs).toISOString() }));
    // 5 min 3 s: fresh at start-up, inside the SDK's 5-minute refresh window 3 s later
    write('AKIDFIRST', 5 * 60_000 + 3_000);
    const shared = join(dir, 'credentials');
    writeFileSync(shared, `[default]\ncredential_process = cat ${json}\n`);
    const keys = new Map([['AKIDFIRST', 'secret-of-AKIDFIRST'], ['AKIDSECOND', 'secret-of-AKIDSECOND']]);
    const server = await startRole(['relay-server', '--listen', '127.0.0.1:0', '--log-level', 'warn'], { env: { FERRY_RELAY_SECRET: SECRET } });
    const gateway = await startGateway({ targets: [server.url], maxMessage: 1 << 20, sigv4: { region: 'eu-west-1', service: 'execute-api', keys } });
    const client = await startRole(['relay-client', '--listen', '127.0.0.1:0', '--gateway', gateway.url, '--sigv4', '--region', 'eu-west-1', '--log-level', 'warn'], {
      env: { FERRY_RELAY_SECRET: SECRET, ...noAmbient, AWS_SHARED_CREDENTIALS_FILE: shared },
    });
    try {
      const first = await viaProxy(client.url, 'GET', `${target.url}/one`);
      assert.equal(first.status, 200);
      const keysSince = (n: number): string[] => gateway.counts.sigv4Keys.slice(n);
      assert.ok(keysSince(0).length > 0 && keysSince(0).every((k) => k === 'AKIDFIRST'), keysSince(0).join());
      // the credential process now hands out the next key; once the first nears its expiry, the SDK fetches the next
      // in the background while the first (still valid) signs: one more request starts that refresh
      write('AKIDSECOND', 60 * 60_000);
      await new Promise((r) => setTimeout(r, 3_500));
      assert.equal((await viaProxy(client.url, 'GET', `${target.url}/between`)).status, 200);
      await new Promise((r) => setTimeout(r, 500));
      // the first key is revoked: from now on only the refreshed one may sign
      keys.delete('AKIDFIRST');
      const seen = gateway.counts.sigv4Keys.length;
      const second = await viaProxy(client.url, 'GET', `${target.url}/two`);
      assert.equal(second.status, 200, second.text);
      assert.ok(keysSince(seen).length > 0 && keysSince(seen).every((k) => k === 'AKIDSECOND'), keysSince(seen).join());
      assert.equal(gateway.counts.sigv4Refused, 0);
    } finally { await client.stop(); await gateway.close(); await server.stop(); }
  });

  test('control: a gateway that does not know the key refuses the messages (the verification is real)', async () => {
    const shared = join(dir, 'static');
    writeFileSync(shared, '[default]\naws_access_key_id = AKIDUNKNOWN\naws_secret_access_key = nope\n');
    const server = await startRole(['relay-server', '--listen', '127.0.0.1:0', '--log-level', 'warn'], { env: { FERRY_RELAY_SECRET: SECRET } });
    const gateway = await startGateway({ targets: [server.url], maxMessage: 1 << 20, sigv4: { region: 'eu-west-1', service: 'execute-api', keys: new Map([['AKIDOTHER', 'x']]) } });
    const client = await startRole(['relay-client', '--listen', '127.0.0.1:0', '--gateway', gateway.url, '--sigv4', '--region', 'eu-west-1', '--retries', '0', '--log-level', 'error'], {
      env: { FERRY_RELAY_SECRET: SECRET, ...noAmbient, AWS_SHARED_CREDENTIALS_FILE: shared }, alerts: { expectedLog: () => true },
    });
    try {
      const r = await viaProxy(client.url, 'GET', `${target.url}/x`);
      assert.notEqual(r.status, 200);
      assert.ok(gateway.counts.sigv4Refused > 0);
    } finally { await client.stop(); await gateway.close(); await server.stop(); }
  });

  test('static keys rotated in the credentials file are re-read after the refresh interval, not on every message', async () => {
    const shared = join(dir, 'rotating');
    writeFileSync(shared, '[default]\naws_access_key_id = AKIDOLD\naws_secret_access_key = s1\n');
    const saved = { ...process.env };
    Object.assign(process.env, noAmbient, { AWS_SHARED_CREDENTIALS_FILE: shared });
    try {
      let clock = 0;
      const source = await awsCredentialSource(process.env, 60_000, () => clock);
      assert.equal((await source()).accessKeyId, 'AKIDOLD');
      writeFileSync(shared, '[default]\naws_access_key_id = AKIDNEW\naws_secret_access_key = s2\n');
      clock = 30_000;
      assert.equal((await source()).accessKeyId, 'AKIDOLD', 'reused within the interval');
      clock = 61_000;
      assert.deepEqual(await source(), { accessKeyId: 'AKIDNEW', secretAccessKey: 's2' });
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });
});
