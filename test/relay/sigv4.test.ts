/** SigV4 signing against the published aws-sig-v4-test-suite vectors (RELIABILITY L4), and the credential chain. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatAmzDate, loadAwsCredentials, parseCredentialsFile, signSigV4 } from '../../src/relay/sigv4.ts';

const CREDS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const SCOPE = 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=';

function vector(method: string, url: string): string | undefined {
  return signSigV4({ method, url: new URL(url), headers: {}, body: '', region: 'us-east-1', service: 'service', amzDate: '20150830T123600Z' }, CREDS, 0).authorization;
}

test('get-vanilla', () => {
  assert.equal(vector('GET', 'https://example.amazonaws.com/'), `${SCOPE}5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31`);
});

test('get-vanilla-query-order-key-case', () => {
  assert.equal(vector('GET', 'https://example.amazonaws.com/?Param2=value2&Param1=value1'), `${SCOPE}b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500`);
});

test('post-vanilla', () => {
  assert.equal(vector('POST', 'https://example.amazonaws.com/'), `${SCOPE}5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b`);
});

test('relay messages sign their own payload hash (never UNSIGNED-PAYLOAD), with the session token signed', () => {
  const hash = 'a'.repeat(64);
  const h = signSigV4({ method: 'POST', url: new URL('https://gw.example/prod/relay/v1/up'), headers: { 'content-type': 'application/octet-stream' }, payloadHash: hash, region: 'eu-west-1', service: 'execute-api' },
    { ...CREDS, sessionToken: 'TOKEN' }, Date.UTC(2026, 0, 2, 3, 4, 5));
  assert.equal(h['x-amz-content-sha256'], hash);
  assert.equal(h['x-amz-date'], '20260102T030405Z');
  assert.equal(h['x-amz-security-token'], 'TOKEN');
  assert.match(h.authorization!, /Credential=AKIDEXAMPLE\/20260102\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/);
  assert.equal(formatAmzDate(0), '19700101T000000Z');
});

test('credentials: environment first, then the shared file and profile', () => {
  assert.deepEqual(loadAwsCredentials({ AWS_ACCESS_KEY_ID: 'A', AWS_SECRET_ACCESS_KEY: 'B', AWS_SESSION_TOKEN: 'C' }), { accessKeyId: 'A', secretAccessKey: 'B', sessionToken: 'C' });
  const dir = mkdtempSync(join(tmpdir(), 'ferry-aws-'));
  try {
    const file = join(dir, 'credentials');
    writeFileSync(file, '[default]\naws_access_key_id = D1\naws_secret_access_key = D2\n\n[work]\naws_access_key_id=W1\naws_secret_access_key=W2\naws_session_token=W3\n');
    assert.deepEqual(loadAwsCredentials({ AWS_SHARED_CREDENTIALS_FILE: file }), { accessKeyId: 'D1', secretAccessKey: 'D2' });
    assert.deepEqual(loadAwsCredentials({ AWS_SHARED_CREDENTIALS_FILE: file, AWS_PROFILE: 'work' }), { accessKeyId: 'W1', secretAccessKey: 'W2', sessionToken: 'W3' });
    assert.throws(() => loadAwsCredentials({ AWS_SHARED_CREDENTIALS_FILE: file, AWS_PROFILE: 'none' }), /profile "none"/);
    assert.throws(() => loadAwsCredentials({ AWS_SHARED_CREDENTIALS_FILE: join(dir, 'missing') }), /no AWS credentials/);
    assert.equal(parseCredentialsFile('[x]\naws_access_key_id=1\n', 'x'), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
