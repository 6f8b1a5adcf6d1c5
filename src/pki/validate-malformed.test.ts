import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { children, decode } from './der.ts';
import {
  assertUploadable,
  certificateDer,
  createSelfSignedClientCertificate,
  validateUploadedCertificate,
} from './index.ts';

// Regression tests for inputs found by test/fuzz/certificates.test.ts: certificates that
// node's X509Certificate accepts but then cannot report on (an Invalid Date for a
// malformed time; a decode error from `publicKey` for a malformed key) are refused as
// unparseable, not thrown as a RangeError or an OpenSSL error.
const NOW = new Date();
const der = certificateDer(createSelfSignedClientCertificate({ commonName: 'malformed', now: NOW }).certPem);

function tbsFields(bytes: Buffer) {
  return children(children(decode(bytes))[0]!);
}

function onlyUnparseable(bytes: Buffer): void {
  const result = validateUploadedCertificate(bytes, NOW);
  assert.equal(result.ok, false);
  assert.deepEqual(
    result.rules.map((r) => r.code),
    ['CERT_UNPARSEABLE'],
  );
  assert.throws(() => assertUploadable(bytes, NOW), { code: 'CERT_REJECTED' });
}

describe('validateUploadedCertificate with malformed fields', () => {
  it('refuses a notBefore with month 13', () => {
    const bytes = Buffer.from(der);
    const [notBefore] = children(tbsFields(bytes)[4]!); // validity: notBefore, notAfter
    const at = bytes.indexOf(notBefore!.raw); // UTCTime: tag, length, YYMMDDhhmmssZ
    bytes.write('13', at + 4, 'latin1');
    onlyUnparseable(bytes);
  });

  it('refuses a public key that does not decode', () => {
    const bytes = Buffer.from(der);
    const spki = tbsFields(bytes)[6]!; // version, serial, signature, issuer, validity, subject, spki
    const point = spki.raw.length - 65; // the uncompressed P-256 point: 0x04 ‖ x ‖ y
    const at = bytes.indexOf(spki.raw) + point;
    assert.equal(bytes[at], 0x04);
    bytes[at] = 0x05; // no point form (0x06 and 0x07 are hybrid forms OpenSSL may accept)
    onlyUnparseable(bytes);
  });

  it('refuses a malformed Extended Key Usage extension (not an IntegrityError, a 500)', () => {
    const bytes = Buffer.from(der);
    // extnID id-ce-extKeyUsage (2.5.29.37), then the OCTET STRING holding its SEQUENCE.
    const at = bytes.indexOf(Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x25]));
    const sequence = bytes.indexOf(0x30, at + 5);
    assert.equal(bytes[sequence - 2], 0x04);
    bytes[sequence] = 0x31; // a SET where the SEQUENCE must be
    onlyUnparseable(bytes);
  });
});
