// Just enough ASN.1 DER to build and read X.509 certificates. Node can parse certificates
// but not create them, so we encode the structures ourselves. Every encoder returns a
// complete TLV (tag, length, value) as a Buffer, so callers compose by nesting calls.
import { BadInputError, IntegrityError } from '../errors/index.ts';

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

const CONSTRUCTED = 0x20;
const CONTEXT = 0x80;

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One element with a single-octet identifier (tag numbers up to 30 are all X.509 needs). */
export function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

export function sequence(...items: Buffer[]): Buffer {
  return tlv(TAG.SEQUENCE, Buffer.concat(items));
}

/** SET OF: DER requires the member encodings in ascending byte order (X.690 11.6). */
export function set(...items: Buffer[]): Buffer {
  return tlv(TAG.SET, Buffer.concat([...items].sort(Buffer.compare)));
}

/** Two's complement, minimal length: 128 needs a leading 0x00, -129 a leading 0xff. */
export function integer(value: bigint | number): Buffer {
  let n = BigInt(value);
  const bytes: number[] = [];
  for (;;) {
    const byte = Number(n & 0xffn);
    bytes.unshift(byte);
    n >>= 8n;
    const signBit = byte & 0x80;
    if ((n === 0n && !signBit) || (n === -1n && signBit)) break;
  }
  return tlv(TAG.INTEGER, Buffer.from(bytes));
}

/** An unsigned big-endian magnitude (a serial number, an RSA modulus) as a positive INTEGER. */
export function unsignedInteger(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.length === 0 ? Buffer.from([0]) : magnitude.subarray(start);
  const pad = trimmed[0]! & 0x80 ? Buffer.from([0]) : Buffer.alloc(0);
  return tlv(TAG.INTEGER, Buffer.concat([pad, trimmed]));
}

function base128(value: bigint): number[] {
  const out = [Number(value & 0x7fn)];
  for (let n = value >> 7n; n > 0n; n >>= 7n) out.unshift(Number(n & 0x7fn) | 0x80);
  return out;
}

export function oid(dotted: string): Buffer {
  if (!/^[0-2](\.\d+)+$/.test(dotted)) throw new BadInputError('DER_BAD_OID', `"${dotted}" is not an OID`);
  const arcs = dotted.split('.').map(BigInt);
  const [first, second, ...rest] = arcs as [bigint, bigint, ...bigint[]];
  if (first < 2n && second > 39n) throw new BadInputError('DER_BAD_OID', `"${dotted}" is not an OID`);
  const bytes = [first * 40n + second, ...rest].flatMap(base128);
  return tlv(TAG.OID, Buffer.from(bytes));
}

export function utf8String(text: string): Buffer {
  return tlv(TAG.UTF8_STRING, Buffer.from(text, 'utf8'));
}

export function printableString(text: string): Buffer {
  if (!/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(text)) {
    throw new BadInputError('DER_NOT_PRINTABLE', `"${text}" has characters a PrintableString cannot hold`);
  }
  return tlv(TAG.PRINTABLE_STRING, Buffer.from(text, 'latin1'));
}

export function ia5String(text: string): Buffer {
  if (!/^[\x00-\x7f]*$/.test(text)) {
    throw new BadInputError('DER_NOT_IA5', `"${text}" has characters an IA5String cannot hold`);
  }
  return tlv(TAG.IA5_STRING, Buffer.from(text, 'latin1'));
}

/** `unusedBits` counts the padding bits at the end of the last octet (0–7). */
export function bitString(bytes: Buffer, unusedBits = 0): Buffer {
  return tlv(TAG.BIT_STRING, Buffer.concat([Buffer.from([unusedBits]), bytes]));
}

export function octetString(bytes: Buffer): Buffer {
  return tlv(TAG.OCTET_STRING, bytes);
}

/** DER allows only 0xff for TRUE. */
export function boolean(value: boolean): Buffer {
  return tlv(TAG.BOOLEAN, Buffer.from([value ? 0xff : 0x00]));
}

export function nul(): Buffer {
  return tlv(TAG.NULL, Buffer.alloc(0));
}

function digits(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    pad(date.getUTCMonth() + 1) +
    pad(date.getUTCDate()) +
    pad(date.getUTCHours()) +
    pad(date.getUTCMinutes()) +
    pad(date.getUTCSeconds()) +
    'Z'
  );
}

/** YYMMDDHHMMSSZ; whole seconds, as RFC 5280 requires (milliseconds are dropped). */
export function utcTime(date: Date): Buffer {
  const year = date.getUTCFullYear();
  if (year < 1950 || year > 2049) {
    throw new BadInputError('DER_BAD_TIME', `UTCTime cannot hold the year ${year}`);
  }
  return tlv(TAG.UTC_TIME, Buffer.from(String(year % 100).padStart(2, '0') + digits(date), 'latin1'));
}

/** YYYYMMDDHHMMSSZ; whole seconds, no fraction. */
export function generalizedTime(date: Date): Buffer {
  const year = date.getUTCFullYear();
  if (year < 0 || year > 9999) {
    throw new BadInputError('DER_BAD_TIME', `GeneralizedTime cannot hold the year ${year}`);
  }
  return tlv(TAG.GENERALIZED_TIME, Buffer.from(String(year).padStart(4, '0') + digits(date), 'latin1'));
}

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050 (and before 1950). */
export function time(date: Date): Buffer {
  const year = date.getUTCFullYear();
  return year >= 1950 && year <= 2049 ? utcTime(date) : generalizedTime(date);
}

function checkTagNumber(n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 30) {
    throw new BadInputError('DER_BAD_TAG', `context tag [${n}] is out of range 0–30`);
  }
}

/** [n] EXPLICIT: wraps a whole element in a constructed context-specific tag. */
export function explicit(n: number, element: Buffer): Buffer {
  checkTagNumber(n);
  return tlv(CONTEXT | CONSTRUCTED | n, element);
}

/** [n] IMPLICIT: replaces an element's own tag, keeping whether it is constructed. */
export function implicit(n: number, element: Buffer): Buffer {
  checkTagNumber(n);
  const copy = Buffer.from(element);
  copy[0] = CONTEXT | (element[0]! & CONSTRUCTED) | n;
  return copy;
}

// ---- Decoding: enough to walk a certificate. Strict about lengths, no BER leniency. ----

export type Element = {
  /** The identifier octet as-is, e.g. 0x30 for SEQUENCE or 0xa3 for [3] EXPLICIT. */
  tag: number;
  /** The value octets. */
  content: Buffer;
  /** The whole element, identifier and length included. */
  raw: Buffer;
};

function malformed(detail: string): IntegrityError {
  return new IntegrityError('DER_MALFORMED', `malformed DER: ${detail}`);
}

function readLength(buf: Buffer, at: number): { length: number; next: number } {
  const first = buf[at];
  if (first === undefined) throw malformed('truncated length');
  if (first < 0x80) return { length: first, next: at + 1 };
  const count = first & 0x7f;
  if (count === 0) throw malformed('indefinite length');
  if (count > 4) throw malformed('length too large');
  if (at + 1 + count > buf.length) throw malformed('truncated length');
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + buf[at + 1 + i]!;
  if (length < 0x80 || (count > 1 && buf[at + 1] === 0)) throw malformed('non-minimal length');
  return { length, next: at + 1 + count };
}

/** Reads the element starting at `offset`; `end` is where the next one starts. */
export function decodeAt(buf: Buffer, offset = 0): Element & { end: number } {
  const tag = buf[offset];
  if (tag === undefined) throw malformed('truncated element');
  if ((tag & 0x1f) === 0x1f) throw malformed('multi-byte tags are not supported');
  const { length, next } = readLength(buf, offset + 1);
  const end = next + length;
  if (end > buf.length) throw malformed('element runs past the end of its container');
  return { tag, content: buf.subarray(next, end), raw: buf.subarray(offset, end), end };
}

/** Exactly one element filling the whole buffer: no trailing bytes. */
export function decode(buf: Buffer): Element {
  const element = decodeAt(buf, 0);
  if (element.end !== buf.length) throw malformed('trailing bytes after the element');
  return { tag: element.tag, content: element.content, raw: element.raw };
}

/** The members of a constructed element (SEQUENCE, SET, EXPLICIT tag). */
export function children(parent: Element): Element[] {
  if (!(parent.tag & CONSTRUCTED)) throw malformed(`tag 0x${parent.tag.toString(16)} is not constructed`);
  const out: Element[] = [];
  for (let at = 0; at < parent.content.length; ) {
    const { end, ...element } = decodeAt(parent.content, at);
    out.push(element);
    at = end;
  }
  return out;
}

export function expectTag(element: Element | undefined, tag: number, what: string): Element {
  if (!element || element.tag !== tag) throw malformed(`expected ${what}`);
  return element;
}

export function readInteger(element: Element): bigint {
  expectTag(element, TAG.INTEGER, 'INTEGER');
  const { content } = element;
  if (content.length === 0) throw malformed('empty INTEGER');
  let n = BigInt.asIntN(8, BigInt(content[0]!));
  for (const byte of content.subarray(1)) n = (n << 8n) | BigInt(byte);
  return n;
}

export function readOid(element: Element): string {
  expectTag(element, TAG.OID, 'OBJECT IDENTIFIER');
  const arcs: bigint[] = [];
  let n = 0n;
  for (const byte of element.content) {
    n = (n << 7n) | BigInt(byte & 0x7f);
    if (!(byte & 0x80)) {
      arcs.push(n);
      n = 0n;
    }
  }
  const [first = 0n, ...rest] = arcs;
  const head = first < 80n ? [first / 40n, first % 40n] : [2n, first - 80n];
  return [...head, ...rest].join('.');
}

/** The bytes of a BIT STRING; X.509 keys and signatures always use whole octets. */
export function readBitString(element: Element): { bytes: Buffer; unusedBits: number } {
  expectTag(element, TAG.BIT_STRING, 'BIT STRING');
  const unusedBits = element.content[0];
  if (unusedBits === undefined || unusedBits > 7) throw malformed('bad BIT STRING');
  return { bytes: element.content.subarray(1), unusedBits };
}
