import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BadInputError } from '../errors/index.ts';
import { children, decode } from './der.ts';
import {
  assertUploadable,
  certificateDer,
  certificateFingerprint,
  createCertificate,
  createSelfSignedClientCertificate,
  type UploadValidation,
  validateUploadedCertificate,
} from './index.ts';
import { opensslDate, type Scratch, scratchDir } from './openssl-cli.ts';
import { toPem } from './pem.ts';
import { signatureAlgorithm, signTbs } from './sign.ts';

const DAY = 86_400_000;
const ALL_RULES = ['x509', 'v3', 'key-strength', 'client-auth', 'started', 'not-expired', 'max-validity'];

let scratch: Scratch;

function read(name: string): Buffer {
  return readFileSync(join(scratch.dir, name));
}

/** The names of the rules that failed, in report order. */
function broken(result: UploadValidation): string[] {
  return result.rules.filter((r) => !r.ok).map((r) => r.rule);
}

function check(bytes: Buffer, now = new Date()): UploadValidation {
  const result = validateUploadedCertificate(bytes, now);
  if (broken(result)[0] !== 'x509')
    assert.deepEqual(
      result.rules.map((r) => r.rule),
      ALL_RULES,
    );
  return result;
}

function detail(result: UploadValidation, rule: string): string {
  return result.rules.find((r) => r.rule === rule)!.detail;
}

/** `openssl req -x509`: self-signed, valid from now for `days`, extensions from a config section. */
function reqX509(name: string, key: string, section: string, days = 365): Buffer {
  const out = `${name}.pem`;
  scratch.openssl(
    'req',
    '-config',
    'openssl.cnf',
    '-x509',
    '-new',
    '-key',
    key,
    '-subj',
    `/CN=${name}`,
    '-days',
    String(days),
    '-extensions',
    section,
    '-out',
    out,
  );
  return read(out);
}

/** `openssl ca -selfsign` is the one OpenSSL 3.0 tool that takes explicit start and end dates. */
function caDated(name: string, notBefore: Date, notAfter: Date): Buffer {
  const out = `${name}.pem`;
  scratch.openssl(
    'ca',
    '-config',
    'openssl.cnf',
    '-batch',
    '-selfsign',
    '-keyfile',
    'p256.key',
    '-in',
    'p256.csr',
    '-startdate',
    opensslDate(notBefore),
    '-enddate',
    opensslDate(notAfter),
    '-extensions',
    'client',
    '-notext',
    '-out',
    out,
  );
  return read(out);
}

function genkey(name: string, ...args: string[]): void {
  scratch.openssl('genpkey', ...args, '-out', name);
}

before(() => {
  scratch = scratchDir();
  genkey('p256.key', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256');
  genkey('p384.key', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384');
  genkey('k256.key', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:secp256k1');
  genkey('rsa2048.key', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048');
  genkey('rsa1024.key', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024');
  genkey('ed25519.key', '-algorithm', 'ed25519');
  scratch.openssl(
    'req',
    '-config',
    'openssl.cnf',
    '-new',
    '-key',
    'p256.key',
    '-subj',
    '/CN=dated',
    '-out',
    'p256.csr',
  );
});
after(() => scratch.remove());

/** A v1 certificate: `openssl x509 -req` without extensions, from the P-256 request. */
function makeV1(out: string): void {
  scratch.openssl('x509', '-req', '-in', 'p256.csr', '-signkey', 'p256.key', '-days', '30', '-out', out);
}

describe('validateUploadedCertificate with certificates made by openssl', () => {
  for (const [key, bits] of [
    ['p256.key', 256],
    ['p384.key', 384],
    ['rsa2048.key', 2048],
  ] as const) {
    it(`accepts a compliant certificate for ${key}`, () => {
      const pem = reqX509(`ok-${key}`, key, 'client');
      const result = check(pem);
      assert.deepEqual(broken(result), []);
      assert.equal(result.ok, true);
      assert.equal(result.certificate?.publicKeyBits, bits);
      assert.equal(result.certificate?.subject, `CN=ok-${key}`);
      assert.equal(result.certificate?.fingerprint256, certificateFingerprint(pem));
    });
  }

  it('accepts PEM and DER (.cer) alike and identifies both by the same fingerprint', () => {
    const pem = reqX509('both', 'p256.key', 'client');
    scratch.openssl('x509', '-in', 'both.pem', '-outform', 'DER', '-out', 'both.cer');
    const der = read('both.cer');
    assert.notEqual(der[0], '-'.charCodeAt(0));
    const fromPem = check(pem);
    const fromDer = check(der);
    assert.equal(fromPem.ok, true);
    assert.equal(fromDer.ok, true);
    assert.equal(fromDer.certificate?.fingerprint256, fromPem.certificate?.fingerprint256);
    const expected = new X509Certificate(der).fingerprint256.replaceAll(':', '').toLowerCase();
    assert.equal(fromDer.certificate?.fingerprint256, expected);
  });

  it('rejects a v1 certificate (`x509 -req` without extensions), which cannot carry the EKU either', () => {
    makeV1('v1.pem');
    const result = check(read('v1.pem'));
    // Extensions exist only in v3, so a v1 certificate necessarily breaks client-auth too.
    assert.deepEqual(broken(result), ['v3', 'client-auth']);
    assert.equal(detail(result, 'v3'), 'certificate is version 1; only version 3 is accepted');
  });

  it('rejects an RSA key under 2048 bits', () => {
    const result = check(reqX509('rsa1024', 'rsa1024.key', 'client'));
    assert.deepEqual(broken(result), ['key-strength']);
    assert.equal(detail(result, 'key-strength'), 'RSA key has 1024 bits; at least 2048 are required');
  });

  it('rejects an EC key on a curve other than P-256, P-384 or P-521', () => {
    const result = check(reqX509('k256', 'k256.key', 'client'));
    assert.deepEqual(broken(result), ['key-strength']);
    assert.equal(
      detail(result, 'key-strength'),
      'EC key is on curve secp256k1; P-256, P-384 or P-521 is required',
    );
  });

  it('rejects key types other than RSA and EC', () => {
    const result = check(reqX509('ed25519', 'ed25519.key', 'client'));
    assert.deepEqual(broken(result), ['key-strength']);
    assert.match(detail(result, 'key-strength'), /^ed25519 keys are not accepted/);
  });

  it('rejects a certificate whose EKU lacks clientAuth, or that has no EKU', () => {
    const serverOnly = check(reqX509('server', 'p256.key', 'server'));
    assert.deepEqual(broken(serverOnly), ['client-auth']);
    assert.equal(
      detail(serverOnly, 'client-auth'),
      'Extended Key Usage (1.3.6.1.5.5.7.3.1) lacks Client Authentication (1.3.6.1.5.5.7.3.2)',
    );
    const none = check(reqX509('noeku', 'p256.key', 'noeku'));
    assert.deepEqual(broken(none), ['client-auth']);
    assert.equal(
      detail(none, 'client-auth'),
      'no Extended Key Usage extension; Client Authentication (1.3.6.1.5.5.7.3.2) is required',
    );
  });

  it('rejects an expired certificate', () => {
    const now = Date.now();
    const notAfter = new Date(Math.floor(now / 1000) * 1000 - DAY);
    const result = check(caDated('expired', new Date(now - 400 * DAY), notAfter));
    assert.deepEqual(broken(result), ['not-expired']);
    assert.equal(detail(result, 'not-expired'), `expired at ${notAfter.toISOString()}`);
  });

  it('rejects a certificate that is not valid yet', () => {
    const now = Date.now();
    const notBefore = new Date(Math.floor(now / 1000) * 1000 + DAY);
    const result = check(caDated('future', notBefore, new Date(now + 300 * DAY)));
    assert.deepEqual(broken(result), ['started']);
    assert.equal(detail(result, 'started'), `not valid yet: valid from ${notBefore.toISOString()}`);
  });

  it('rejects a validity period over 3 years (`req -x509 -days 1100`)', () => {
    const result = check(reqX509('long', 'p256.key', 'client', 1100));
    assert.deepEqual(broken(result), ['max-validity']);
    assert.equal(
      detail(result, 'max-validity'),
      'valid for 1100 days; at most 1096 days (3 × 365 + 1) from notBefore to notAfter are allowed',
    );
  });

  it('allows exactly 1096 days and not one second more (`ca -startdate/-enddate`)', () => {
    const start = Math.floor(Date.now() / 1000) * 1000 - DAY;
    const exact = check(caDated('exact', new Date(start), new Date(start + 1096 * DAY)));
    assert.deepEqual(broken(exact), []);
    const over = check(caDated('over', new Date(start), new Date(start + 1096 * DAY + 1000)));
    assert.deepEqual(broken(over), ['max-validity']);
  });

  it('names every broken rule at once', () => {
    const now = Date.now();
    scratch.openssl(
      'req',
      '-config',
      'openssl.cnf',
      '-new',
      '-key',
      'rsa1024.key',
      '-subj',
      '/CN=bad',
      '-out',
      'bad.csr',
    );
    scratch.openssl(
      'ca',
      '-config',
      'openssl.cnf',
      '-batch',
      '-selfsign',
      '-keyfile',
      'rsa1024.key',
      '-in',
      'bad.csr',
      '-startdate',
      opensslDate(new Date(now - 2000 * DAY)),
      '-enddate',
      opensslDate(new Date(now - DAY)),
      '-extensions',
      'server',
      '-notext',
      '-out',
      'bad.pem',
    );
    const result = check(read('bad.pem'));
    assert.deepEqual(broken(result), ['key-strength', 'client-auth', 'not-expired', 'max-validity']);
  });
});

describe('validateUploadedCertificate with bytes that are not a certificate', () => {
  it('reports one failing rule and nothing else', () => {
    const good = certificateDer(createSelfSignedClientCertificate({ commonName: 'x' }).certPem);
    const keyPem = createSelfSignedClientCertificate({ commonName: 'x' }).keyPem;
    const inputs: [string, Buffer][] = [
      ['random bytes', randomBytes(600)],
      ['empty', Buffer.alloc(0)],
      ['text', Buffer.from('hello, this is not a certificate\n')],
      ['truncated DER', good.subarray(0, good.length - 10)],
      ['DER with trailing bytes', Buffer.concat([good, Buffer.from([0])])],
      ['a private key PEM', Buffer.from(keyPem)],
      ['a corrupted PEM', Buffer.from(toPem('CERTIFICATE', randomBytes(300)))],
      ['a DER SEQUENCE that is no certificate', Buffer.from('3003020101', 'hex')],
      ['oversized', Buffer.alloc(65 * 1024, 0x30)],
    ];
    for (const [what, bytes] of inputs) {
      const result = validateUploadedCertificate(bytes, new Date());
      assert.equal(result.ok, false, what);
      assert.equal(result.certificate, undefined, what);
      assert.equal(result.rules.length, 1, what);
      assert.equal(result.rules[0]?.rule, 'x509', what);
      assert.equal(result.rules[0]?.code, 'CERT_UNPARSEABLE', what);
      assert.match(result.rules[0]!.detail, /^not an X.509 certificate in PEM or DER form/, what);
    }
  });
});

describe('validateUploadedCertificate with our own certificates', () => {
  for (const keyType of ['ec', 'rsa'] as const) {
    it(`accepts createSelfSignedClientCertificate output (${keyType})`, () => {
      const { certPem } = createSelfSignedClientCertificate({ commonName: 'agent', keyType });
      const result = check(Buffer.from(certPem));
      assert.deepEqual(broken(result), []);
      assert.equal(result.certificate?.publicKeyType, keyType);
      assert.equal(result.certificate?.publicKeyBits, keyType === 'ec' ? 256 : 2048);
      assert.equal(result.certificate?.publicKeyCurve, keyType === 'ec' ? 'prime256v1' : undefined);
    });
  }

  it('accepts the longest validity createSelfSignedClientCertificate allows', () => {
    const { certPem } = createSelfSignedClientCertificate({ commonName: 'agent', validDays: 1096 });
    assert.deepEqual(broken(check(Buffer.from(certPem))), []);
  });

  it('treats notBefore and notAfter as inclusive', () => {
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const notBefore = new Date('2030-01-01T00:00:00Z');
    const notAfter = new Date('2030-06-01T00:00:00Z');
    const pem = createCertificate({
      subject: { commonName: 'edges' },
      publicKey: key,
      signingKey: key,
      notBefore,
      notAfter,
      extendedKeyUsage: ['clientAuth'],
    });
    const at = (ms: number) => broken(check(Buffer.from(pem), new Date(ms)));
    assert.deepEqual(at(notBefore.getTime() - 1), ['started']);
    assert.deepEqual(at(notBefore.getTime()), []);
    assert.deepEqual(at(notAfter.getTime()), []);
    assert.deepEqual(at(notAfter.getTime() + 1), ['not-expired']);
  });

  it('rejects a certificate whose version is 2, even with every other rule met', () => {
    // Re-sign one of our certificates with its version field changed from 2 (v3) to 1 (v2).
    const { certPem, keyPem } = createSelfSignedClientCertificate({ commonName: 'v2' });
    const key = createPrivateKey(keyPem);
    const tbs = Buffer.from(children(decode(certificateDer(certPem)))[0]!.raw);
    const versionAt = tbs.indexOf(Buffer.from('a003020102', 'hex'));
    assert.ok(versionAt > 0 && versionAt < 5);
    tbs[versionAt + 4] = 1;
    const v2 = toPem('CERTIFICATE', signTbs(tbs, signatureAlgorithm(key), key));
    const result = check(Buffer.from(v2));
    assert.deepEqual(broken(result), ['v3']);
    assert.equal(detail(result, 'v3'), 'certificate is version 2; only version 3 is accepted');
  });
});

describe('assertUploadable', () => {
  it('returns the summary of an acceptable certificate', () => {
    const { certPem } = createSelfSignedClientCertificate({ commonName: 'agent' });
    const summary = assertUploadable(Buffer.from(certPem), new Date());
    assert.equal(summary.subject, 'CN=agent');
    assert.equal(summary.fingerprint256, certificateFingerprint(certPem));
  });

  it('throws CERT_REJECTED naming each broken rule', () => {
    makeV1('v1b.pem');
    assert.throws(
      () => assertUploadable(read('v1b.pem'), new Date()),
      (err: unknown) => {
        assert.ok(err instanceof BadInputError);
        assert.equal(err.code, 'CERT_REJECTED');
        assert.equal(
          err.message,
          'certificate rejected, 2 rule(s) broken: CERT_NOT_V3: certificate is version 1; only version 3 is ' +
            'accepted; CERT_NO_CLIENT_AUTH: no Extended Key Usage extension; Client Authentication ' +
            '(1.3.6.1.5.5.7.3.2) is required',
        );
        return true;
      },
    );
    assert.throws(
      () => assertUploadable(Buffer.from('junk'), new Date()),
      (err: unknown) =>
        err instanceof BadInputError &&
        /^certificate rejected, 1 rule\(s\) broken: CERT_UNPARSEABLE: /.test(err.message),
    );
  });
});
