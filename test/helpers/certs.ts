/**
 * @module Test certificates made at test time with `openssl` (never committed keys), the one generator of the tests
 * and benches: a CA, a leaf per name set, an expired leaf and a self-signed one, in a temporary directory removed
 * after the file's tests; and one self-signed certificate for localhost per process (`localhostCert`).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

export interface Pair {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
}

export interface TestCa {
  dir: string;
  /** The CA certificate (PEM file and text), to give clients as `ca` / `--cacert` / `--upstream-ca`. */
  caFile: string;
  ca: string;
  /** A leaf for these DNS names (or IP addresses), signed by the CA; `days` < 0 makes it already expired. */
  leaf(names: readonly string[], opts?: { days?: number; file?: string }): Pair;
  /** A self-signed certificate for `names` (no CA): clients verifying against the system CAs refuse it. */
  selfSigned(names: readonly string[]): Pair;
}

/** EC P-256 keys: fast to make. */
const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function san(names: readonly string[]): string {
  return names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
}

/** A fresh CA in a temporary directory (removed when the test file ends). */
export function createTestCa(): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-certs-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  openssl(['req', '-x509', ...ecKey, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=ferry test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  let n = 0;
  const read = (file: string) => readFileSync(join(dir, file), 'utf8');
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    ca: read('ca.pem'),
    leaf(names, opts = {}) {
      const base = opts.file ?? `leaf${n++}`;
      const ext = join(dir, `${base}.ext`);
      writeFileSync(ext, `subjectAltName=${san(names)}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n`);
      openssl(['req', ...ecKey, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${names[0]}`], dir);
      const days = opts.days ?? 2;
      if (days > 0) {
        openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', String(days), '-extfile', ext, '-out', `${base}.pem`], dir);
      } else {
        // already expired: valid from two days ago until yesterday (`openssl x509` takes no explicit dates before 3.4)
        expiredLeaf(dir, base, ext);
      }
      return { certFile: join(dir, `${base}.pem`), keyFile: join(dir, `${base}.key`), cert: read(`${base}.pem`), key: read(`${base}.key`) };
    },
    selfSigned: (names) => selfSignedIn(dir, `self${n++}`, names),
  };
}

/** A self-signed certificate for `names` as `base`.pem / `base`.key in `dir`. */
function selfSignedIn(dir: string, base: string, names: readonly string[]): Pair {
  openssl(['req', '-x509', ...ecKey, '-keyout', `${base}.key`, '-out', `${base}.pem`, '-days', '2', '-subj', `/CN=${names[0]}`, '-addext', `subjectAltName=${san(names)}`], dir);
  const certFile = join(dir, `${base}.pem`);
  const keyFile = join(dir, `${base}.key`);
  return { certFile, keyFile, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}

let localhost: Pair | null = null;

/**
 * One self-signed certificate per process for `localhost` and `127.0.0.1` (its own CA: clients trust it with
 * `ca: cert` / `--cacert certFile`), in a temporary directory removed at process exit — usable outside node:test
 * (benches) too.
 */
export function localhostCert(): Pair {
  if (localhost) return localhost;
  const dir = mkdtempSync(join(tmpdir(), 'ferry-cert-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  localhost = selfSignedIn(dir, 'localhost', ['localhost', '127.0.0.1']);
  return localhost;
}

/** `openssl ca` date format (UTC, YYMMDDHHMMSSZ) `days` from now. */
function stamp(days: number): string {
  const d = new Date(Date.now() + days * 86_400_000);
  return d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
}

/** Sign `base.csr` with a validity wholly in the past, through `openssl ca` (which takes explicit dates). */
function expiredLeaf(dir: string, base: string, ext: string): void {
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), `${Date.now().toString(16).padStart(16, '0')}\n`);
  writeFileSync(join(dir, 'ca.cnf'), [
    '[ca]', 'default_ca = test', '[test]', `dir = ${dir}`, 'database = $dir/index.txt', 'serial = $dir/serial',
    'new_certs_dir = $dir', 'certificate = $dir/ca.pem', 'private_key = $dir/ca.key', 'default_md = sha256',
    'policy = any', 'unique_subject = no', '[any]', 'commonName = supplied', '',
  ].join('\n'));
  openssl(['ca', '-batch', '-config', 'ca.cnf', '-in', `${base}.csr`, '-out', `${base}.pem`, '-notext',
    '-startdate', stamp(-2), '-enddate', stamp(-1), '-extfile', ext], dir);
}
