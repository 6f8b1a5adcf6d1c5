import { isIPv4, isIPv6 } from 'node:net';
import { BadInputError } from '../errors/index.ts';

function ipv4Bytes(text: string): number[] {
  return text.split('.').map(Number);
}

function groupBytes(groups: string[]): number[] {
  return groups.flatMap((group) => {
    if (group.includes('.')) return ipv4Bytes(group);
    const n = Number.parseInt(group, 16);
    return [n >> 8, n & 0xff];
  });
}

function ipv6Bytes(text: string): number[] {
  const [head = '', tail] = text.split('::');
  const left = groupBytes(head === '' ? [] : head.split(':'));
  if (tail === undefined) return left;
  const right = groupBytes(tail === '' ? [] : tail.split(':'));
  return [...left, ...new Array<number>(16 - left.length - right.length).fill(0), ...right];
}

/** The 4 or 16 octets a subjectAltName iPAddress holds (RFC 5280 4.2.1.6). */
export function ipAddressBytes(text: string): Buffer {
  if (isIPv4(text)) return Buffer.from(ipv4Bytes(text));
  // A zone (fe80::1%eth0) is local to one host and has no place in a certificate.
  if (isIPv6(text) && !text.includes('%')) return Buffer.from(ipv6Bytes(text));
  throw new BadInputError('CERT_BAD_IP', `"${text}" is not an IPv4 or IPv6 address`);
}
