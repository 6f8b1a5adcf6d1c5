import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  X509Certificate,
} from 'node:crypto';
import { BadInputError } from '../errors/index.ts';
import { explicit, integer, sequence, time, unsignedInteger } from './der.ts';
import type { DistinguishedName, ExtendedKeyUsage } from './extensions.ts';
import * as ext from './extensions.ts';
import { toPem } from './pem.ts';
import { CLOCK_SKEW_MS, DAY_MS, MAX_VALIDITY_DAYS } from './policy.ts';
import { keyIdentifier, readCertificateFields, subjectKeyIdentifier } from './read.ts';
import { signatureAlgorithm, signTbs, spkiOf } from './sign.ts';

export type CertificateOptions = {
  subject: DistinguishedName;
  /** The key the certificate vouches for; a private key is reduced to its public half. */
  publicKey: KeyObject;
  /** Signs the certificate: the issuer's private key, or the subject's own when self-signed. */
  signingKey: KeyObject;
  /** The issuing CA's certificate; absent means self-signed. */
  issuerCertPem?: string;
  notBefore: Date;
  notAfter: Date;
  ca?: boolean;
  extendedKeyUsage?: readonly ExtendedKeyUsage[];
  dnsNames?: readonly string[];
  ipAddresses?: readonly string[];
};

type Issuer = { nameDer: Buffer; keyId: Buffer };

/** 16 random bytes, top bit cleared so the INTEGER is positive, next bit set so it stays 16 bytes. */
function randomSerial(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return bytes;
}

/** Node's parse errors say little about which input was wrong; name it for the caller. */
function readPem<T>(parse: () => T, what: string): T {
  try {
    return parse();
  } catch (err) {
    throw new BadInputError('CERT_BAD_PEM', `the ${what} is not readable PEM`, { cause: err });
  }
}

function sameKey(a: Buffer, b: Buffer, code: string, message: string): void {
  if (!a.equals(b)) throw new BadInputError(code, message);
}

function resolveIssuer(options: CertificateOptions, spki: Buffer, subjectDer: Buffer): Issuer {
  const signerSpki = spkiOf(options.signingKey);
  const { issuerCertPem } = options;
  if (issuerCertPem === undefined) {
    sameKey(signerSpki, spki, 'CERT_KEY_MISMATCH', 'a self-signed certificate must be signed by its own key');
    return { nameDer: subjectDer, keyId: keyIdentifier(spki) };
  }
  const issuer = readPem(() => new X509Certificate(issuerCertPem), 'CA certificate');
  if (!issuer.ca) throw new BadInputError('CERT_NOT_CA', `"${issuer.subject}" is not a CA certificate`);
  const fields = readCertificateFields(Buffer.from(issuer.raw));
  sameKey(
    signerSpki,
    fields.spkiDer,
    'CA_KEY_MISMATCH',
    'the signing key does not belong to the CA certificate',
  );
  return { nameDer: fields.subjectDer, keyId: subjectKeyIdentifier(fields) };
}

/** RFC 5480 section 3: an EC key cannot encipher, so its certificate must not claim keyEncipherment. */
function keyUsages(options: CertificateOptions): ext.KeyUsage[] {
  if (options.ca) return ['keyCertSign', 'cRLSign'];
  const isRsa = options.publicKey.asymmetricKeyType === 'rsa';
  return isRsa ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature'];
}

function extensions(options: CertificateOptions, spki: Buffer, issuer: Issuer): Buffer {
  const list = [ext.basicConstraints(options.ca ?? false), ext.keyUsage(keyUsages(options))];
  const usages = options.extendedKeyUsage ?? [];
  if (usages.length > 0) list.push(ext.extKeyUsage(usages));
  const dnsNames = options.dnsNames ?? [];
  const ipAddresses = options.ipAddresses ?? [];
  if (dnsNames.length + ipAddresses.length > 0) list.push(ext.subjectAltName(dnsNames, ipAddresses));
  list.push(ext.subjectKeyIdentifier(keyIdentifier(spki)), ext.authorityKeyIdentifier(issuer.keyId));
  return ext.extensionsField(list);
}

function checkValidity(notBefore: Date, notAfter: Date): void {
  if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) {
    throw new BadInputError('CERT_BAD_VALIDITY', 'notBefore and notAfter must be valid dates');
  }
  if (notAfter.getTime() <= notBefore.getTime()) {
    throw new BadInputError('CERT_BAD_VALIDITY', 'notAfter must be later than notBefore');
  }
}

/** A v3 certificate as PEM. Times are written in whole seconds; milliseconds are dropped. */
export function createCertificate(options: CertificateOptions): string {
  checkValidity(options.notBefore, options.notAfter);
  const spki = spkiOf(options.publicKey);
  const subjectDer = ext.encodeName(options.subject);
  const issuer = resolveIssuer(options, spki, subjectDer);
  const algorithm = signatureAlgorithm(options.signingKey);
  const tbs = sequence(
    explicit(0, integer(2)),
    unsignedInteger(randomSerial()),
    algorithm,
    issuer.nameDer,
    sequence(time(options.notBefore), time(options.notAfter)),
    subjectDer,
    spki,
    extensions(options, spki, issuer),
  );
  return toPem('CERTIFICATE', signTbs(tbs, algorithm, options.signingKey));
}

export type KeyType = 'rsa' | 'ec';
export type CertificateAndKey = { certPem: string; keyPem: string };

/** RSA 2048 or EC P-256: the smallest sizes the upload policy accepts, and fast to make. */
function generateKey(keyType: KeyType): KeyObject {
  const pair =
    keyType === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return pair.privateKey;
}

function keyPem(privateKey: KeyObject): string {
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** Whole seconds, started CLOCK_SKEW_MS early; the period is exactly validDays. */
function validity(now: Date, validDays: number, maxDays = Number.POSITIVE_INFINITY) {
  if (!Number.isInteger(validDays) || validDays < 1 || validDays > maxDays) {
    const range = Number.isFinite(maxDays) ? `1 to ${maxDays}` : 'at least 1';
    throw new BadInputError('CERT_BAD_VALIDITY', `validity must be a whole number of days, ${range}`);
  }
  const start = Math.floor(now.getTime() / 1000) * 1000 - CLOCK_SKEW_MS;
  return { notBefore: new Date(start), notAfter: new Date(start + validDays * DAY_MS) };
}

export type AuthorityOptions = {
  commonName: string;
  organization?: string;
  validDays: number;
  keyType?: KeyType;
  now?: Date;
};

/** A self-signed CA (pathLen 0: it signs leaf certificates only). Defaults to an EC P-256 key. */
export function createCertificateAuthority(options: AuthorityOptions): CertificateAndKey {
  const privateKey = generateKey(options.keyType ?? 'ec');
  const certPem = createCertificate({
    subject: { commonName: options.commonName, organization: options.organization },
    publicKey: privateKey,
    signingKey: privateKey,
    ca: true,
    ...validity(options.now ?? new Date(), options.validDays),
  });
  return { certPem, keyPem: keyPem(privateKey) };
}

export type IssueOptions = {
  caCertPem: string;
  caKeyPem: string;
  /** The holder's public key, as a KeyObject or PEM (SPKI). */
  publicKey: KeyObject | string;
  commonName: string;
  usage: 'client' | 'server';
  dnsNames?: readonly string[];
  ipAddresses?: readonly string[];
  validDays: number;
  now?: Date;
};

/** A leaf certificate signed by our CA, for TLS client or server authentication. */
export function issueCertificate(options: IssueOptions): string {
  const { publicKey: key } = options;
  const publicKey = typeof key === 'string' ? readPem(() => createPublicKey(key), 'public key') : key;
  return createCertificate({
    subject: { commonName: options.commonName },
    publicKey,
    signingKey: readPem(() => createPrivateKey(options.caKeyPem), 'CA private key'),
    issuerCertPem: options.caCertPem,
    extendedKeyUsage: [options.usage === 'client' ? 'clientAuth' : 'serverAuth'],
    dnsNames: options.dnsNames,
    ipAddresses: options.ipAddresses,
    ...validity(options.now ?? new Date(), options.validDays),
  });
}

export type SelfSignedClientOptions = {
  commonName: string;
  /** Default 365; at most MAX_VALIDITY_DAYS (1096), the upload limit. */
  validDays?: number;
  keyType?: KeyType;
  now?: Date;
};

/** What `offsite cert create` makes: a key and a certificate that pass every upload rule. */
export function createSelfSignedClientCertificate(options: SelfSignedClientOptions): CertificateAndKey {
  const privateKey = generateKey(options.keyType ?? 'ec');
  const certPem = createCertificate({
    subject: { commonName: options.commonName },
    publicKey: privateKey,
    signingKey: privateKey,
    extendedKeyUsage: ['clientAuth'],
    ...validity(options.now ?? new Date(), options.validDays ?? 365, MAX_VALIDITY_DAYS),
  });
  return { certPem, keyPem: keyPem(privateKey) };
}
