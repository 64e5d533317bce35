/**
 * @module The test certificate (forward/helpers.ts makeSelfSignedCert: openssl at test time, never a committed key)
 * also as files, for clients that read a CA file (curl --cacert, h2load, nginx), in a temporary directory removed
 * at process exit.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeSelfSignedCert } from '../proxy/forward/helpers.ts';

export interface TestCert { certFile: string; keyFile: string; cert: Buffer; key: Buffer; dir: string }

let made: TestCert | null = null;

/** One certificate per test process, for localhost and 127.0.0.1. */
export function makeTestCert(): TestCert {
  if (made) return made;
  const { key, cert } = makeSelfSignedCert();
  const dir = mkdtempSync(join(tmpdir(), 'ferry-cert-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  writeFileSync(certFile, cert);
  writeFileSync(keyFile, key, { mode: 0o600 });
  made = { certFile, keyFile, cert, key, dir };
  return made;
}
