import { type KeyObject, X509Certificate } from 'node:crypto';
import { BadInputError } from '../errors/index.ts';
import { OID } from './oids.ts';
import { certificateDer, certificateFingerprint } from './pem.ts';
import { ALLOWED_CURVES, DAY_MS, MAX_VALIDITY_DAYS, MAX_VALIDITY_MS, MIN_RSA_BITS } from './policy.ts';
import { type CertificateFields, readCertificateFields, readExtKeyUsage } from './read.ts';

export type RuleResult = { rule: string; code: string; ok: boolean; detail: string };

export type UploadedCertificate = {
  subject: string;
  issuer: string;
  serialNumber: string;
  /** 64 lowercase hex digits; see certificateFingerprint. */
  fingerprint256: string;
  notBefore: Date;
  notAfter: Date;
  /** 'rsa', 'ec', 'ed25519', ... as node names them. */
  publicKeyType: string;
  /** RSA modulus or EC field size; undefined for curves we do not know. */
  publicKeyBits: number | undefined;
  /** Node's curve name for EC keys, e.g. 'prime256v1'. */
  publicKeyCurve: string | undefined;
};

export type UploadValidation = { ok: boolean; rules: RuleResult[]; certificate?: UploadedCertificate };

/** Far beyond any real client certificate; stops us parsing whatever else gets uploaded. */
const MAX_UPLOAD_BYTES = 64 * 1024;

const CURVE_BITS: Readonly<Record<string, number>> = {
  prime256v1: 256,
  secp384r1: 384,
  secp521r1: 521,
  secp256k1: 256,
  secp224r1: 224,
  prime192v1: 192,
};

type Parsed = { x509: X509Certificate; fields: CertificateFields; der: Buffer };

function validDate(date: Date): boolean {
  return !Number.isNaN(date.getTime());
}

function parse(bytes: Buffer): Parsed | string {
  if (bytes.length > MAX_UPLOAD_BYTES) return `${bytes.length} bytes is larger than any certificate`;
  try {
    const der = certificateDer(bytes);
    // Both parsers must agree: node (OpenSSL) for the semantics, ours for the fields node hides.
    const x509 = new X509Certificate(der);
    // OpenSSL accepts a malformed time (month 13) and node reports it as an Invalid Date.
    if (!validDate(x509.validFromDate) || !validDate(x509.validToDate))
      return 'the validity dates are malformed';
    // Node decodes the public key lazily: a malformed one throws here, not in the rules.
    void x509.publicKey;
    const fields = readCertificateFields(der);
    readExtKeyUsage(fields); // a malformed extension is unparseable here, not a 500 in the rules
    return { x509, fields, der };
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

function rule(rule: string, code: string, ok: boolean, detail: string): RuleResult {
  return { rule, code, ok, detail };
}

function versionRule({ fields }: Parsed): RuleResult {
  const ok = fields.version === 3;
  const detail = ok ? 'version 3' : `certificate is version ${fields.version}; only version 3 is accepted`;
  return rule('v3', 'CERT_NOT_V3', ok, detail);
}

function keyProblem(key: KeyObject): string | undefined {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  if (type === 'rsa' || type === 'rsa-pss') {
    const bits = details.modulusLength ?? 0;
    return bits >= MIN_RSA_BITS
      ? undefined
      : `RSA key has ${bits} bits; at least ${MIN_RSA_BITS} are required`;
  }
  if (type === 'ec') {
    const curve = details.namedCurve ?? 'unknown';
    return curve in ALLOWED_CURVES
      ? undefined
      : `EC key is on curve ${curve}; P-256, P-384 or P-521 is required`;
  }
  return `${type} keys are not accepted; use RSA (at least ${MIN_RSA_BITS} bits) or EC (P-256, P-384, P-521)`;
}

function keyRule({ x509 }: Parsed): RuleResult {
  const problem = keyProblem(x509.publicKey);
  return rule('key-strength', 'CERT_WEAK_KEY', problem === undefined, problem ?? describeKey(x509.publicKey));
}

function describeKey(key: KeyObject): string {
  const details = key.asymmetricKeyDetails ?? {};
  const curve = details.namedCurve;
  return curve ? `EC key on ${ALLOWED_CURVES[curve] ?? curve}` : `RSA key of ${details.modulusLength} bits`;
}

function clientAuthRule({ fields }: Parsed): RuleResult {
  const usages = readExtKeyUsage(fields);
  const ok = usages.includes(OID.clientAuth);
  const detail = ok
    ? 'Extended Key Usage includes Client Authentication'
    : usages.length === 0
      ? `no Extended Key Usage extension; Client Authentication (${OID.clientAuth}) is required`
      : `Extended Key Usage (${usages.join(', ')}) lacks Client Authentication (${OID.clientAuth})`;
  return rule('client-auth', 'CERT_NO_CLIENT_AUTH', ok, detail);
}

function startedRule({ x509 }: Parsed, now: Date): RuleResult {
  const from = x509.validFromDate;
  const ok = now.getTime() >= from.getTime();
  const detail = ok ? `valid since ${from.toISOString()}` : `not valid yet: valid from ${from.toISOString()}`;
  return rule('started', 'CERT_NOT_YET_VALID', ok, detail);
}

function notExpiredRule({ x509 }: Parsed, now: Date): RuleResult {
  const to = x509.validToDate;
  const ok = now.getTime() <= to.getTime();
  const detail = ok ? `valid until ${to.toISOString()}` : `expired at ${to.toISOString()}`;
  return rule('not-expired', 'CERT_EXPIRED', ok, detail);
}

function periodRule({ x509 }: Parsed): RuleResult {
  const ms = x509.validToDate.getTime() - x509.validFromDate.getTime();
  const days = Math.round((ms / DAY_MS) * 100) / 100;
  const ok = ms <= MAX_VALIDITY_MS;
  const limit = `at most ${MAX_VALIDITY_DAYS} days (3 × 365 + 1) from notBefore to notAfter`;
  const detail = ok ? `valid for ${days} days` : `valid for ${days} days; ${limit} are allowed`;
  return rule('max-validity', 'CERT_VALIDITY_TOO_LONG', ok, detail);
}

function summary({ x509, der }: Parsed): UploadedCertificate {
  const details = x509.publicKey.asymmetricKeyDetails ?? {};
  const curve = details.namedCurve;
  return {
    subject: x509.subject,
    issuer: x509.issuer,
    serialNumber: x509.serialNumber,
    fingerprint256: certificateFingerprint(der),
    notBefore: x509.validFromDate,
    notAfter: x509.validToDate,
    publicKeyType: x509.publicKey.asymmetricKeyType ?? 'unknown',
    publicKeyBits: curve === undefined ? details.modulusLength : CURVE_BITS[curve],
    publicKeyCurve: curve,
  };
}

/**
 * Checks an uploaded client certificate (PEM, or DER as in a binary `.cer`) against every
 * upload rule and reports each one, so the user can fix all problems in one go. The
 * signature is not checked: uploads are usually self-signed, and trust comes from the
 * upload itself, not from an issuer.
 */
export function validateUploadedCertificate(bytes: Buffer, now: Date): UploadValidation {
  const parsed = parse(bytes);
  if (typeof parsed === 'string') {
    const detail = `not an X.509 certificate in PEM or DER form (${parsed})`;
    return { ok: false, rules: [rule('x509', 'CERT_UNPARSEABLE', false, detail)] };
  }
  const rules = [
    rule('x509', 'CERT_UNPARSEABLE', true, 'parsed as an X.509 certificate'),
    versionRule(parsed),
    keyRule(parsed),
    clientAuthRule(parsed),
    startedRule(parsed, now),
    notExpiredRule(parsed, now),
    periodRule(parsed),
  ];
  return { ok: rules.every((r) => r.ok), rules, certificate: summary(parsed) };
}

/** Throws BadInputError CERT_REJECTED listing every broken rule; returns the summary otherwise. */
export function assertUploadable(bytes: Buffer, now: Date): UploadedCertificate {
  const result = validateUploadedCertificate(bytes, now);
  if (result.ok && result.certificate) return result.certificate;
  const broken = result.rules.filter((r) => !r.ok);
  const list = broken.map((r) => `${r.code}: ${r.detail}`).join('; ');
  throw new BadInputError('CERT_REJECTED', `certificate rejected, ${broken.length} rule(s) broken: ${list}`, {
    hint: 'make a compliant certificate with `offsite cert create`',
  });
}
