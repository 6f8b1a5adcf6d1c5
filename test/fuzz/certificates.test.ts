// Fuzzes the parsing of uploaded client certificates (src/pki): our DER reader and the
// upload validation (which also runs node's X.509 parser), on arbitrary bytes, arbitrary
// PEM text and mutations of valid certificates in DER and PEM form.
// Budget: RUNS per property (300); OFFSITE_FUZZ_RUNS=N runs N instead.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decode } from '../../src/pki/der.ts';
import {
  assertUploadable,
  certificateDer,
  createSelfSignedClientCertificate,
  validateUploadedCertificate,
} from '../../src/pki/index.ts';
import { toPem } from '../../src/pki/pem.ts';
import { readCertificateFields, readExtKeyUsage, subjectKeyIdentifier } from '../../src/pki/read.ts';
import { anyBytes, fc, mutated, params, refusesCleanly, testTimeout } from './harness.ts';

const NOW = new Date();
const ec = certificateDer(createSelfSignedClientCertificate({ commonName: 'fuzz', now: NOW }).certPem);
const rsa = certificateDer(
  createSelfSignedClientCertificate({ commonName: 'fuzz', keyType: 'rsa', now: NOW }).certPem,
);
const validDer = fc.constantFrom(ec, rsa);
const mutatedDer = mutated(validDer);
const mutatedPem = mutatedDer.map((der) => Buffer.from(toPem('CERTIFICATE', der)));

/** Valid DER wrapped around arbitrary content: lengths that parse, contents that do not. */
const derShaped = fc
  .tuple(fc.constantFrom(0x30, 0x31, 0x02, 0x03, 0x04, 0x06, 0xa0, 0xa3), anyBytes)
  .map(([tag, content]) => {
    const length =
      content.length < 0x80
        ? Buffer.from([content.length])
        : Buffer.from([0x82, content.length >> 8, content.length & 0xff]);
    return Buffer.concat([Buffer.from([0x30, 0x82, 0, 0]), Buffer.from([tag]), length, content]).fill(
      0,
      2,
      4,
    );
  })
  .map((b) => {
    b.writeUInt16BE(b.length - 4, 2);
    return b;
  });

function readAll(der: Buffer): unknown {
  const fields = readCertificateFields(der);
  return [readExtKeyUsage(fields), subjectKeyIdentifier(fields)];
}

describe('fuzz: certificates', () => {
  it('valid certificates pass every upload rule', () => {
    for (const der of [ec, rsa]) assert.equal(validateUploadedCertificate(der, NOW).ok, true);
  });

  it('the DER reader refuses arbitrary and mutated bytes with DER_MALFORMED', {
    timeout: testTimeout(),
  }, () => {
    fc.assert(
      fc.property(fc.oneof(anyBytes, derShaped, mutatedDer), (bytes) => {
        refusesCleanly('decode', bytes.length, () => decode(bytes), ['DER_MALFORMED']);
        refusesCleanly('readCertificateFields', bytes.length, () => readAll(bytes), ['DER_MALFORMED']);
      }),
      params(),
    );
  });

  it('upload validation reports any bytes as rule results, never an exception', {
    timeout: testTimeout(),
  }, () => {
    const inputs = fc.oneof(
      anyBytes,
      derShaped,
      mutatedDer,
      mutatedPem,
      fc.string().map((s) => Buffer.from(s)),
    );
    fc.assert(
      fc.property(inputs, (bytes) => {
        const result = refusesCleanly('validateUploadedCertificate', bytes.length, () =>
          validateUploadedCertificate(bytes, NOW),
        );
        assert.ok(result, 'validation returns a report');
        assert.ok(result.rules.length > 0);
        if (result.ok) assert.ok(result.certificate);
        refusesCleanly('assertUploadable', bytes.length, () => assertUploadable(bytes, NOW), [
          'CERT_REJECTED',
        ]);
      }),
      params(),
    );
  });

  it('refuses an upload far larger than any certificate before parsing it', () => {
    const huge = Buffer.concat([ec, Buffer.alloc(1024 * 1024)]);
    const result = refusesCleanly('validateUploadedCertificate', huge.length, () =>
      validateUploadedCertificate(huge, NOW),
    );
    assert.equal(result?.ok, false);
  });
});
