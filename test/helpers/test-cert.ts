/**
 * @module A self-signed certificate made at test time with openssl (never a committed key): for `localhost`,
 * `127.0.0.1` and `::1`, in a temporary directory removed at process exit.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCert { certFile: string; keyFile: string; cert: Buffer; key: Buffer; dir: string }

let made: TestCert | null = null;

/** One certificate per test process (openssl takes a moment; every test may share it). */
export function makeTestCert(): TestCert {
  if (made) return made;
  const dir = mkdtempSync(join(tmpdir(), 'ferry-cert-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
    '-keyout', keyFile, '-out', certFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  made = { certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile), dir };
  return made;
}
