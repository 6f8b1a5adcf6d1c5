// Test support, not re-exported: runs the real openssl binary in a scratch directory so
// the tests check our certificates against an independent implementation.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const OPENSSL = '/usr/bin/openssl';

/**
 * Our own config instead of the system one, so no default extensions sneak in. Sections:
 * [client], [server] and [noeku] are extension sets; [testca] lets `openssl ca` set
 * arbitrary start and end dates, which `req -x509` and `x509 -req` in OpenSSL 3.0 cannot.
 */
const CONFIG = `
[req]
distinguished_name = dn
[dn]
[ca]
default_ca = testca
[testca]
database = index.txt
new_certs_dir = .
default_md = sha256
policy = anything
rand_serial = yes
unique_subject = no
[anything]
commonName = supplied
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
[noeku]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
`;

export type Scratch = { dir: string; openssl(...args: string[]): string; remove(): void };

export function scratchDir(): Scratch {
  const dir = mkdtempSync(join(tmpdir(), 'offsite-pki-'));
  writeFileSync(join(dir, 'openssl.cnf'), CONFIG);
  writeFileSync(join(dir, 'index.txt'), '');
  return {
    dir,
    openssl: (...args) =>
      execFileSync(OPENSSL, args, {
        cwd: dir,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, OPENSSL_CONF: join(dir, 'openssl.cnf') },
      }),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** YYMMDDHHMMSSZ, the form `openssl ca -startdate/-enddate` takes. */
export function opensslDate(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
}
