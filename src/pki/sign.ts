import { createPublicKey, type KeyObject, sign } from 'node:crypto';
import { BadInputError } from '../errors/index.ts';
import { bitString, nul, oid, sequence } from './der.ts';
import { OID } from './oids.ts';

/**
 * The AlgorithmIdentifier for a signing key. RSA signs PKCS#1 v1.5 with SHA-256 (its
 * parameters are an explicit NULL); ECDSA P-256 with SHA-256 (parameters absent, RFC 5758).
 */
export function signatureAlgorithm(privateKey: KeyObject): Buffer {
  const type = privateKey.asymmetricKeyType;
  if (type === 'rsa') return sequence(oid(OID.sha256WithRSAEncryption), nul());
  if (type === 'ec' && privateKey.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    return sequence(oid(OID.ecdsaWithSha256));
  }
  throw new BadInputError('CERT_KEY_UNSUPPORTED', `cannot sign certificates with a ${type} key`, {
    hint: 'sign with an RSA key or an EC key on the P-256 curve',
  });
}

/** Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }. */
export function signTbs(tbs: Buffer, algorithm: Buffer, privateKey: KeyObject): Buffer {
  // ECDSA signatures come out as DER SEQUENCE { r, s }, exactly what X.509 wants.
  const signature = sign('sha256', tbs, privateKey);
  return sequence(tbs, algorithm, bitString(signature));
}

/** The SubjectPublicKeyInfo DER of any key, private or public. */
export function spkiOf(key: KeyObject): Buffer {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return publicKey.export({ type: 'spki', format: 'der' });
}
