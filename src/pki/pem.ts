import { createHash } from 'node:crypto';
import { BadInputError } from '../errors/index.ts';

const CERT_PEM = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]*?)-----END CERTIFICATE-----/;

/** Standard PEM: base64 in 64-column lines between BEGIN/END lines. */
export function toPem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/**
 * The DER of a certificate given as PEM (the first CERTIFICATE block) or as DER already
 * (a binary `.cer`). Anything that is neither comes back unchanged, for the parser to refuse.
 */
export function certificateDer(input: Buffer | string): Buffer {
  const text = typeof input === 'string' ? input : input.toString('latin1');
  const match = CERT_PEM.exec(text);
  if (match) return Buffer.from(match[1]!.replace(/\s+/g, ''), 'base64');
  if (typeof input === 'string') {
    throw new BadInputError('CERT_NOT_PEM', 'text has no -----BEGIN CERTIFICATE----- block');
  }
  return input;
}

/**
 * SHA-256 over the certificate's DER, as 64 lowercase hex digits: the identifier Offsite
 * stores and shows. It equals node's `fingerprint256` without colons, lowercased.
 */
export function certificateFingerprint(input: Buffer | string): string {
  return createHash('sha256').update(certificateDer(input)).digest('hex');
}
