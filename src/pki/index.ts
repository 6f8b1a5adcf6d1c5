// X.509 for Offsite's mutual TLS: the vault server's own CA, the certificates it issues
// to agents and to itself, and the rules an uploaded client certificate must pass. Node
// parses certificates but cannot create them, so ./der.ts encodes them. This folder
// imports only from src/errors and src/util.

export {
  type AuthorityOptions,
  type CertificateAndKey,
  type CertificateOptions,
  createCertificate,
  createCertificateAuthority,
  createSelfSignedClientCertificate,
  type IssueOptions,
  issueCertificate,
  type KeyType,
  type SelfSignedClientOptions,
} from './certificate.ts';
export type { DistinguishedName, ExtendedKeyUsage } from './extensions.ts';
export { certificateDer, certificateFingerprint } from './pem.ts';
export { MAX_VALIDITY_DAYS, MIN_RSA_BITS } from './policy.ts';
export {
  assertUploadable,
  type RuleResult,
  type UploadedCertificate,
  type UploadValidation,
  validateUploadedCertificate,
} from './validate.ts';
