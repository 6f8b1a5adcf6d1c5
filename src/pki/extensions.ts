import { BadInputError } from '../errors/index.ts';
import {
  bitString,
  boolean,
  explicit,
  ia5String,
  implicit,
  integer,
  octetString,
  oid,
  sequence,
  set,
  utf8String,
} from './der.ts';
import { ipAddressBytes } from './ip.ts';
import { OID } from './oids.ts';

export type ExtendedKeyUsage = 'clientAuth' | 'serverAuth';

export type DistinguishedName = { commonName: string; organization?: string };

function attribute(type: string, value: string): Buffer {
  // 64 is the upper bound RFC 5280 (appendix A) sets for both CN and O.
  if (value.length === 0 || value.length > 64) {
    throw new BadInputError('CERT_BAD_NAME', `"${value}" must be 1 to 64 characters long`);
  }
  return set(sequence(oid(type), utf8String(value)));
}

/** O before CN: a Name lists its most significant part first. UTF8String per RFC 5280. */
export function encodeName(name: DistinguishedName): Buffer {
  const organization =
    name.organization === undefined ? [] : [attribute(OID.organization, name.organization)];
  return sequence(...organization, attribute(OID.commonName, name.commonName));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [boolean(true)] : []), octetString(value));
}

/** pathLen 0 on a CA: ours signs end-entity certificates only, never another CA. */
export function basicConstraints(ca: boolean): Buffer {
  const value = ca ? sequence(boolean(true), integer(0)) : sequence();
  return extension(OID.basicConstraints, true, value);
}

const KEY_USAGE_BIT = { digitalSignature: 0, keyEncipherment: 2, keyCertSign: 5, cRLSign: 6 } as const;
export type KeyUsage = keyof typeof KEY_USAGE_BIT;

/** A named-bit list: DER drops trailing zero bits, so the unused-bit count varies. */
export function keyUsage(usages: readonly KeyUsage[]): Buffer {
  const bits = usages.map((usage) => KEY_USAGE_BIT[usage]);
  const highest = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const bit of bits) bytes[bit >> 3] = bytes[bit >> 3]! | (0x80 >> (bit & 7));
  return extension(OID.keyUsage, true, bitString(bytes, 7 - (highest & 7)));
}

export function extKeyUsage(usages: readonly ExtendedKeyUsage[]): Buffer {
  return extension(OID.extKeyUsage, false, sequence(...usages.map((usage) => oid(OID[usage]))));
}

const DNS_NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

function dnsName(name: string): Buffer {
  const lower = name.toLowerCase();
  if (lower.length > 253 || !DNS_NAME.test(lower)) {
    throw new BadInputError('CERT_BAD_DNS_NAME', `"${name}" is not a DNS name`);
  }
  return implicit(2, ia5String(lower));
}

/** dNSName is [2] IA5String, iPAddress is [7] OCTET STRING (RFC 5280 4.2.1.6). */
export function subjectAltName(dnsNames: readonly string[], ipAddresses: readonly string[]): Buffer {
  const names = [
    ...dnsNames.map(dnsName),
    ...ipAddresses.map((ip) => implicit(7, octetString(ipAddressBytes(ip)))),
  ];
  return extension(OID.subjectAltName, false, sequence(...names));
}

export function subjectKeyIdentifier(keyId: Buffer): Buffer {
  return extension(OID.subjectKeyIdentifier, false, octetString(keyId));
}

/** Only the keyIdentifier form ([0]); issuer name + serial would tie us to one CA cert. */
export function authorityKeyIdentifier(keyId: Buffer): Buffer {
  return extension(OID.authorityKeyIdentifier, false, sequence(implicit(0, octetString(keyId))));
}

/** extensions [3] EXPLICIT SEQUENCE OF Extension. */
export function extensionsField(list: readonly Buffer[]): Buffer {
  return explicit(3, sequence(...list));
}
