import { createHash } from 'node:crypto';
import {
  children,
  decode,
  type Element,
  expectTag,
  readBitString,
  readInteger,
  readOid,
  TAG,
} from './der.ts';
import { OID } from './oids.ts';

/** The parts of a certificate node's X509Certificate does not expose, read from its DER. */
export type CertificateFields = {
  /** 1, 2 or 3 (the DER field holds 0, 1 or 2). */
  version: number;
  /** Encoded Name, byte for byte, so an issued certificate's issuer matches exactly. */
  subjectDer: Buffer;
  spkiDer: Buffer;
  extensions: Map<string, { critical: boolean; value: Buffer }>;
};

const VERSION_TAG = 0xa0;
const EXTENSIONS_TAG = 0xa3;

/** Throws IntegrityError (DER_MALFORMED) when the bytes are not a certificate's shape. */
export function readCertificateFields(der: Buffer): CertificateFields {
  const [tbs] = children(expectTag(decode(der), TAG.SEQUENCE, 'Certificate'));
  const fields = children(expectTag(tbs, TAG.SEQUENCE, 'TBSCertificate'));
  const hasVersion = fields[0]?.tag === VERSION_TAG;
  const version = hasVersion ? Number(readInteger(children(fields[0]!)[0]!)) + 1 : 1;
  const rest = hasVersion ? fields.slice(1) : fields;
  const [, , , , subject, spki] = rest;
  return {
    version,
    subjectDer: expectTag(subject, TAG.SEQUENCE, 'subject').raw,
    spkiDer: expectTag(spki, TAG.SEQUENCE, 'subjectPublicKeyInfo').raw,
    extensions: readExtensions(rest.find((field) => field.tag === EXTENSIONS_TAG)),
  };
}

function readExtensions(wrapper: Element | undefined): CertificateFields['extensions'] {
  const out: CertificateFields['extensions'] = new Map();
  if (!wrapper) return out;
  const list = expectTag(children(wrapper)[0], TAG.SEQUENCE, 'Extensions');
  for (const extension of children(list)) {
    const parts = children(expectTag(extension, TAG.SEQUENCE, 'Extension'));
    const critical = parts.length === 3 && expectTag(parts[1], TAG.BOOLEAN, 'critical').content[0] === 0xff;
    const value = expectTag(parts[parts.length - 1], TAG.OCTET_STRING, 'extnValue').content;
    out.set(readOid(parts[0]!), { critical, value });
  }
  return out;
}

/** The extended key usage OIDs, or [] when the extension is absent. */
export function readExtKeyUsage(fields: CertificateFields): string[] {
  const extension = fields.extensions.get(OID.extKeyUsage);
  if (!extension) return [];
  return children(expectTag(decode(extension.value), TAG.SEQUENCE, 'ExtKeyUsageSyntax')).map(readOid);
}

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits (identification, not security). */
export function keyIdentifier(spkiDer: Buffer): Buffer {
  const [, subjectPublicKey] = children(expectTag(decode(spkiDer), TAG.SEQUENCE, 'SubjectPublicKeyInfo'));
  return createHash('sha1').update(readBitString(subjectPublicKey!).bytes).digest();
}

/** The key identifier a certificate names itself by: its SKI extension, else computed. */
export function subjectKeyIdentifier(fields: CertificateFields): Buffer {
  const extension = fields.extensions.get(OID.subjectKeyIdentifier);
  if (!extension) return keyIdentifier(fields.spkiDer);
  return expectTag(decode(extension.value), TAG.OCTET_STRING, 'SubjectKeyIdentifier').content;
}
