import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, type KeyObject, X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BadInputError } from '../errors/index.ts';
import { children, decode } from './der.ts';
import {
  type CertificateAndKey,
  certificateDer,
  certificateFingerprint,
  createCertificate,
  createCertificateAuthority,
  createSelfSignedClientCertificate,
  issueCertificate,
} from './index.ts';
import { type Scratch, scratchDir } from './openssl-cli.ts';

const NOW = new Date('2026-06-01T12:00:00.000Z');
const DAY = 86_400_000;
const SKEW = 5 * 60_000;

let scratch: Scratch;
let ecCa: CertificateAndKey;
let rsaCa: CertificateAndKey;

before(() => {
  scratch = scratchDir();
  ecCa = createCertificateAuthority({
    commonName: 'Offsite CA',
    organization: 'Acme',
    validDays: 3650,
    now: NOW,
  });
  rsaCa = createCertificateAuthority({
    commonName: 'Offsite RSA CA',
    validDays: 3650,
    keyType: 'rsa',
    now: NOW,
  });
  writeFileSync(join(scratch.dir, 'ec-ca.pem'), ecCa.certPem);
  writeFileSync(join(scratch.dir, 'rsa-ca.pem'), rsaCa.certPem);
});
after(() => scratch.remove());

/** Writes the PEM to the scratch directory and returns `openssl x509 -text` of it. */
function opensslText(name: string, pem: string): string {
  writeFileSync(join(scratch.dir, name), pem);
  return scratch.openssl('x509', '-in', name, '-noout', '-text');
}

/** `openssl verify` at NOW (plus a minute); throws when verification fails. */
function opensslVerify(caFile: string, certFile: string, purpose: string): string {
  const at = String(Math.floor(NOW.getTime() / 1000) + 60);
  return scratch.openssl('verify', '-purpose', purpose, '-attime', at, '-CAfile', caFile, certFile);
}

/** The line after an extension's heading in `openssl x509 -text`, plus " critical" when marked so. */
function extension(text: string, heading: string): string {
  const match = new RegExp(`${heading}:( critical)?\\s*\\n\\s*(.*)`).exec(text);
  assert.ok(match, `no ${heading} in\n${text}`);
  return `${match[2]!.trim()}${match[1] ?? ''}`;
}

function keyPair(type: 'rsa' | 'ec'): { publicKey: KeyObject; privateKey: KeyObject } {
  return type === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

describe('createCertificateAuthority', () => {
  for (const keyType of ['ec', 'rsa'] as const) {
    it(`makes a ${keyType} CA that node and openssl read as a CA`, () => {
      const ca = keyType === 'ec' ? ecCa : rsaCa;
      const x509 = new X509Certificate(ca.certPem);
      assert.equal(x509.ca, true);
      assert.equal(x509.issuer, x509.subject);
      assert.equal(x509.validFromDate.getTime(), NOW.getTime() - SKEW);
      assert.equal(x509.validToDate.getTime(), NOW.getTime() - SKEW + 3650 * DAY);
      assert.ok(x509.verify(x509.publicKey), 'self-signature verifies');
      assert.ok(x509.checkPrivateKey(createPrivateKey(ca.keyPem)));
      assert.equal(x509.publicKey.asymmetricKeyType, keyType);

      const text = opensslText(`${keyType}-ca.pem`, ca.certPem);
      assert.match(text, /Version: 3 \(0x2\)/);
      const algorithm = keyType === 'ec' ? 'ecdsa-with-SHA256' : 'sha256WithRSAEncryption';
      assert.match(text, new RegExp(`Signature Algorithm: ${algorithm}`));
      assert.equal(extension(text, 'X509v3 Basic Constraints'), 'CA:TRUE, pathlen:0 critical');
      assert.equal(extension(text, 'X509v3 Key Usage'), 'Certificate Sign, CRL Sign critical');
      assert.doesNotMatch(text, /Extended Key Usage|Subject Alternative Name/);
      const ski = extension(text, 'X509v3 Subject Key Identifier');
      assert.equal(extension(text, 'X509v3 Authority Key Identifier'), ski);
      assert.match(opensslVerify(`${keyType}-ca.pem`, `${keyType}-ca.pem`, 'any'), /: OK/);
    });
  }

  it('writes subject O before CN, as UTF8String', () => {
    const text = opensslText('names.pem', ecCa.certPem);
    assert.match(text, /Subject: O = Acme, CN = Offsite CA/);
    assert.equal(new X509Certificate(ecCa.certPem).subject, 'O=Acme\nCN=Offsite CA');
    const utf8 = createCertificateAuthority({ commonName: 'Büro CA', validDays: 1, now: NOW });
    assert.equal(new X509Certificate(utf8.certPem).subject, 'CN=Büro CA');
  });
});

describe('issueCertificate', () => {
  const cases = [
    { ca: 'ec', key: 'rsa', usage: 'client' },
    { ca: 'rsa', key: 'ec', usage: 'client' },
    { ca: 'ec', key: 'ec', usage: 'server' },
    { ca: 'rsa', key: 'rsa', usage: 'server' },
  ] as const;
  for (const { ca: caType, key, usage } of cases) {
    it(`issues a ${usage} certificate for a ${key} key from the ${caType} CA that openssl verifies`, () => {
      const ca = caType === 'ec' ? ecCa : rsaCa;
      const { publicKey } = keyPair(key);
      const isServer = usage === 'server';
      const certPem = issueCertificate({
        caCertPem: ca.certPem,
        caKeyPem: ca.keyPem,
        publicKey,
        commonName: isServer ? 'vault.example' : 'agent-7',
        usage,
        dnsNames: isServer ? ['localhost', 'Vault.Example'] : undefined,
        ipAddresses: isServer ? ['127.0.0.1', '::1'] : undefined,
        validDays: 90,
        now: NOW,
      });
      const x509 = new X509Certificate(certPem);
      const caX509 = new X509Certificate(ca.certPem);
      assert.equal(x509.ca, false);
      assert.equal(x509.issuer, caX509.subject);
      assert.ok(x509.checkIssued(caX509));
      assert.ok(x509.verify(caX509.publicKey));
      assert.deepEqual(x509.keyUsage, [isServer ? '1.3.6.1.5.5.7.3.1' : '1.3.6.1.5.5.7.3.2']);
      assert.equal(x509.validToDate.getTime() - x509.validFromDate.getTime(), 90 * DAY);

      const name = `${usage}-${key}-by-${caType}.pem`;
      const text = opensslText(name, certPem);
      assert.match(text, /Version: 3 \(0x2\)/);
      assert.equal(extension(text, 'X509v3 Basic Constraints'), 'CA:FALSE critical');
      // RFC 5480: keyEncipherment is for RSA only; an EC key can only sign.
      const keyUsage = key === 'rsa' ? 'Digital Signature, Key Encipherment' : 'Digital Signature';
      assert.equal(extension(text, 'X509v3 Key Usage'), `${keyUsage} critical`);
      const eku = isServer ? 'TLS Web Server Authentication' : 'TLS Web Client Authentication';
      assert.equal(extension(text, 'X509v3 Extended Key Usage'), eku);
      const caSki = extension(opensslText(`${caType}-ca.pem`, ca.certPem), 'X509v3 Subject Key Identifier');
      assert.equal(extension(text, 'X509v3 Authority Key Identifier'), caSki);
      assert.notEqual(extension(text, 'X509v3 Subject Key Identifier'), caSki);
      if (isServer) {
        const san = 'DNS:localhost, DNS:vault.example, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1';
        assert.equal(extension(text, 'X509v3 Subject Alternative Name'), san);
        assert.equal(x509.checkIP('127.0.0.1'), '127.0.0.1');
        assert.equal(x509.checkHost('localhost'), 'localhost');
      } else {
        assert.doesNotMatch(text, /Subject Alternative Name/);
      }
      assert.match(opensslVerify(`${caType}-ca.pem`, name, isServer ? 'sslserver' : 'sslclient'), /: OK/);
    });
  }

  it('accepts the holder’s public key as PEM', () => {
    const { publicKey } = keyPair('ec');
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const certPem = issueCertificate({ ...issueBase(), publicKey: pem });
    assert.ok(new X509Certificate(certPem).publicKey.equals(publicKey));
  });

  it('refuses a CA key that does not match the CA certificate', () => {
    const other = createCertificateAuthority({ commonName: 'Other', validDays: 1, now: NOW });
    assert.throws(
      () => issueCertificate({ ...issueBase(), caKeyPem: other.keyPem }),
      (err: unknown) => err instanceof BadInputError && err.code === 'CA_KEY_MISMATCH',
    );
  });

  it('refuses to issue from a certificate that is not a CA', () => {
    const leaf = createSelfSignedClientCertificate({ commonName: 'leaf', now: NOW });
    assert.throws(
      () => issueCertificate({ ...issueBase(), caCertPem: leaf.certPem, caKeyPem: leaf.keyPem }),
      (err: unknown) => err instanceof BadInputError && err.code === 'CERT_NOT_CA',
    );
  });

  it('refuses bad names, addresses, validity and unreadable PEM', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ ipAddresses: ['localhost'] }, 'CERT_BAD_IP'],
      [{ dnsNames: ['not a name'] }, 'CERT_BAD_DNS_NAME'],
      [{ dnsNames: ['bad..dots'] }, 'CERT_BAD_DNS_NAME'],
      [{ commonName: '' }, 'CERT_BAD_NAME'],
      [{ commonName: 'x'.repeat(65) }, 'CERT_BAD_NAME'],
      [{ validDays: 0 }, 'CERT_BAD_VALIDITY'],
      [{ validDays: 1.5 }, 'CERT_BAD_VALIDITY'],
      [{ caCertPem: 'not a certificate' }, 'CERT_BAD_PEM'],
      [{ caKeyPem: 'not a key' }, 'CERT_BAD_PEM'],
      [{ publicKey: 'not a key' }, 'CERT_BAD_PEM'],
    ];
    for (const [change, code] of cases) {
      assert.throws(
        () => issueCertificate({ ...issueBase(), ...change }),
        (err: unknown) => err instanceof BadInputError && err.code === code,
        code,
      );
    }
  });
});

function issueBase() {
  return {
    caCertPem: ecCa.certPem,
    caKeyPem: ecCa.keyPem,
    publicKey: keyPair('ec').publicKey,
    commonName: 'agent',
    usage: 'client' as const,
    validDays: 30,
    now: NOW,
  };
}

describe('createSelfSignedClientCertificate', () => {
  for (const keyType of ['ec', 'rsa'] as const) {
    it(`makes a ${keyType} client certificate valid for exactly the days asked`, () => {
      const { certPem, keyPem } = createSelfSignedClientCertificate({
        commonName: 'laptop',
        keyType,
        now: NOW,
      });
      const x509 = new X509Certificate(certPem);
      assert.equal(x509.subject, 'CN=laptop');
      assert.equal(x509.validFromDate.getTime(), NOW.getTime() - SKEW);
      assert.equal(x509.validToDate.getTime() - x509.validFromDate.getTime(), 365 * DAY);
      assert.ok(x509.checkPrivateKey(createPrivateKey(keyPem)));
      assert.ok(x509.verify(x509.publicKey));
      const name = `self-${keyType}.pem`;
      const text = opensslText(name, certPem);
      assert.equal(extension(text, 'X509v3 Extended Key Usage'), 'TLS Web Client Authentication');
      assert.equal(extension(text, 'X509v3 Basic Constraints'), 'CA:FALSE critical');
      assert.match(opensslVerify(name, name, 'sslclient'), /: OK/);
    });
  }

  it('allows up to 1096 days and no more', () => {
    const longest = createSelfSignedClientCertificate({ commonName: 'a', validDays: 1096, now: NOW });
    const x509 = new X509Certificate(longest.certPem);
    assert.equal(x509.validToDate.getTime() - x509.validFromDate.getTime(), 1096 * DAY);
    assert.throws(
      () => createSelfSignedClientCertificate({ commonName: 'a', validDays: 1097, now: NOW }),
      (err: unknown) => err instanceof BadInputError && err.code === 'CERT_BAD_VALIDITY',
    );
  });

  it('gives each certificate a positive 16-byte random serial', () => {
    const serials = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const serial = new X509Certificate(createSelfSignedClientCertificate({ commonName: 'a' }).certPem)
        .serialNumber;
      assert.match(serial, /^[4-7][0-9A-F]{31}$/);
      serials.add(serial);
    }
    assert.equal(serials.size, 5);
  });
});

describe('createCertificate', () => {
  it('writes UTCTime up to 2049 and GeneralizedTime from 2050, which openssl reads back', () => {
    const { privateKey } = keyPair('ec');
    const notBefore = new Date('2049-12-31T23:59:59Z');
    const notAfter = new Date('2050-01-01T00:00:00Z');
    const pem = createCertificate({
      subject: { commonName: 'y2050' },
      publicKey: privateKey,
      signingKey: privateKey,
      notBefore,
      notAfter,
    });
    const [tbs] = children(decode(certificateDer(pem)));
    const validity = children(tbs!)[4]!;
    assert.deepEqual(
      children(validity).map((t) => t.tag),
      [0x17, 0x18],
    );
    const x509 = new X509Certificate(pem);
    assert.equal(x509.validFromDate.getTime(), notBefore.getTime());
    assert.equal(x509.validToDate.getTime(), notAfter.getTime());
    const dates = scratch.openssl('x509', '-in', writeScratch('y2050.pem', pem), '-noout', '-dates');
    assert.match(dates, /notBefore=Dec 31 23:59:59 2049 GMT\nnotAfter=Jan {2}1 00:00:00 2050 GMT/);
  });

  it('refuses a self-signed certificate signed by some other key', () => {
    const subject = keyPair('ec');
    const signer = keyPair('ec');
    assert.throws(
      () =>
        createCertificate({
          subject: { commonName: 'x' },
          publicKey: subject.publicKey,
          signingKey: signer.privateKey,
          notBefore: NOW,
          notAfter: new Date(NOW.getTime() + DAY),
        }),
      (err: unknown) => err instanceof BadInputError && err.code === 'CERT_KEY_MISMATCH',
    );
  });

  it('refuses notAfter not after notBefore, and signing keys it has no algorithm for', () => {
    const { privateKey } = keyPair('ec');
    const base = { subject: { commonName: 'x' }, publicKey: privateKey, signingKey: privateKey };
    assert.throws(
      () => createCertificate({ ...base, notBefore: NOW, notAfter: NOW }),
      (err: unknown) => err instanceof BadInputError && err.code === 'CERT_BAD_VALIDITY',
    );
    const ed = generateKeyPairSync('ed25519').privateKey;
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    for (const key of [ed, p384]) {
      assert.throws(
        () =>
          createCertificate({
            ...base,
            publicKey: key,
            signingKey: key,
            notBefore: NOW,
            notAfter: new Date(NOW.getTime() + DAY),
          }),
        (err: unknown) => err instanceof BadInputError && err.code === 'CERT_KEY_UNSUPPORTED',
      );
    }
  });
});

describe('certificateFingerprint', () => {
  it('is the SHA-256 of the DER, equal to node’s fingerprint256, from PEM or DER', () => {
    const x509 = new X509Certificate(ecCa.certPem);
    const expected = x509.fingerprint256.replaceAll(':', '').toLowerCase();
    assert.equal(certificateFingerprint(ecCa.certPem), expected);
    assert.equal(certificateFingerprint(Buffer.from(ecCa.certPem)), expected);
    assert.equal(certificateFingerprint(Buffer.from(x509.raw)), expected);
    assert.match(expected, /^[0-9a-f]{64}$/);
  });
});

function writeScratch(name: string, content: string): string {
  writeFileSync(join(scratch.dir, name), content);
  return name;
}
