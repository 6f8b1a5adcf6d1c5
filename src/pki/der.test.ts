import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BadInputError, IntegrityError } from '../errors/index.ts';
import {
  bitString,
  boolean,
  children,
  decode,
  explicit,
  generalizedTime,
  ia5String,
  implicit,
  integer,
  nul,
  octetString,
  oid,
  printableString,
  readBitString,
  readInteger,
  readOid,
  sequence,
  set,
  time,
  unsignedInteger,
  utcTime,
  utf8String,
} from './der.ts';
import { ipAddressBytes } from './ip.ts';

const hex = (buf: Buffer) => buf.toString('hex');

describe('DER INTEGER', () => {
  it('encodes small and signed values in minimal two’s complement', () => {
    const cases: [bigint | number, string][] = [
      [0n, '020100'],
      [127n, '02017f'],
      [128n, '02020080'],
      [255n, '020200ff'],
      [256n, '02020100'],
      [-1n, '0201ff'],
      [-128n, '020180'],
      [-129n, '0202ff7f'],
      [2, '020102'],
      [2n ** 64n, '0209010000000000000000'],
    ];
    for (const [value, expected] of cases) assert.equal(hex(integer(value)), expected, String(value));
  });

  it('encodes unsigned magnitudes, padding a set top bit and dropping leading zeros', () => {
    const cases: [string, string][] = [
      ['', '020100'],
      ['00', '020100'],
      ['7f', '02017f'],
      ['80', '02020080'],
      ['000001', '020101'],
      ['0080', '02020080'],
      ['ffff', '020300ffff'],
    ];
    for (const [input, expected] of cases) {
      assert.equal(hex(unsignedInteger(Buffer.from(input, 'hex'))), expected, input);
    }
  });

  it('reads back what it writes', () => {
    for (const value of [0n, 1n, 127n, 128n, -1n, -128n, -129n, 2n ** 100n, -(2n ** 100n)]) {
      assert.equal(readInteger(decode(integer(value))), value);
    }
  });
});

describe('DER OBJECT IDENTIFIER', () => {
  it('encodes known OIDs', () => {
    assert.equal(hex(oid('1.2.840.113549.1.1.11')), '06092a864886f70d01010b');
    assert.equal(hex(oid('1.2.840.10045.4.3.2')), '06082a8648ce3d040302');
    assert.equal(hex(oid('2.5.29.37')), '0603551d25');
    assert.equal(hex(oid('1.3.6.1.5.5.7.3.2')), '06082b06010505070302');
    assert.equal(hex(oid('2.999.3')), '0603883703');
  });

  it('reads back what it writes', () => {
    for (const dotted of ['1.2.840.113549.1.1.11', '2.5.4.3', '2.999.3', '0.9.2342.19200300.100.1.1']) {
      assert.equal(readOid(decode(oid(dotted))), dotted);
    }
  });

  it('refuses malformed OIDs', () => {
    for (const bad of ['', '1', '3.1', '1.40', 'a.b', '1..2']) {
      assert.throws(() => oid(bad), BadInputError, bad);
    }
  });
});

describe('DER strings and simple types', () => {
  it('encodes strings, booleans, NULL, BIT STRING and OCTET STRING', () => {
    assert.equal(hex(utf8String('é')), '0c02c3a9');
    assert.equal(hex(printableString('Ab 1')), '130441622031');
    assert.equal(hex(ia5String('a.b')), '1603612e62');
    assert.equal(hex(boolean(true)), '0101ff');
    assert.equal(hex(boolean(false)), '010100');
    assert.equal(hex(nul()), '0500');
    assert.equal(hex(bitString(Buffer.from([0xa0]), 5)), '030205a0');
    assert.equal(hex(octetString(Buffer.from([1, 2]))), '04020102');
  });

  it('refuses characters a PrintableString or IA5String cannot hold', () => {
    assert.throws(() => printableString('a@b'), BadInputError);
    assert.throws(() => printableString('é'), BadInputError);
    assert.throws(() => ia5String('é'), BadInputError);
  });

  it('uses long-form lengths from 128 bytes on', () => {
    assert.equal(hex(octetString(Buffer.alloc(127)).subarray(0, 2)), '047f');
    assert.equal(hex(octetString(Buffer.alloc(128)).subarray(0, 3)), '048180');
    assert.equal(hex(octetString(Buffer.alloc(300)).subarray(0, 4)), '0482012c');
    assert.equal(hex(octetString(Buffer.alloc(70000)).subarray(0, 5)), '0483011170');
  });
});

describe('DER times', () => {
  const ascii = (buf: Buffer) => buf.subarray(2).toString('latin1');

  it('uses UTCTime through 2049 and GeneralizedTime from 2050 (RFC 5280 4.1.2.5)', () => {
    const end2049 = time(new Date('2049-12-31T23:59:59Z'));
    assert.equal(end2049[0], 0x17);
    assert.equal(ascii(end2049), '491231235959Z');
    const start2050 = time(new Date('2050-01-01T00:00:00Z'));
    assert.equal(start2050[0], 0x18);
    assert.equal(ascii(start2050), '20500101000000Z');
    assert.equal(hex(start2050), '180f' + Buffer.from('20500101000000Z').toString('hex'));
  });

  it('uses UTCTime from 1950 and GeneralizedTime before it', () => {
    assert.equal(ascii(time(new Date('1950-01-01T00:00:00Z'))), '500101000000Z');
    assert.equal(ascii(time(new Date('1949-12-31T23:59:59Z'))), '19491231235959Z');
  });

  it('drops milliseconds', () => {
    assert.equal(ascii(utcTime(new Date('2026-03-04T05:06:07.890Z'))), '260304050607Z');
    assert.equal(ascii(generalizedTime(new Date('2051-03-04T05:06:07.890Z'))), '20510304050607Z');
  });

  it('refuses a UTCTime outside 1950–2049', () => {
    assert.throws(() => utcTime(new Date('2050-01-01T00:00:00Z')), BadInputError);
    assert.throws(() => utcTime(new Date('1949-12-31T23:59:59Z')), BadInputError);
  });
});

describe('DER constructed types and tags', () => {
  it('nests SEQUENCE and sorts SET OF members', () => {
    assert.equal(hex(sequence()), '3000');
    assert.equal(hex(sequence(integer(1), nul())), '30050201010500');
    assert.equal(hex(set(integer(2), integer(1), boolean(true))), '31090101ff020101020102');
  });

  it('writes explicit and implicit context tags', () => {
    assert.equal(hex(explicit(0, integer(2))), 'a003020102');
    assert.equal(hex(explicit(3, sequence())), 'a3023000');
    assert.equal(hex(implicit(2, ia5String('a'))), '820161');
    assert.equal(hex(implicit(0, sequence())), 'a000');
    assert.throws(() => explicit(31, nul()), BadInputError);
  });
});

describe('DER decoding', () => {
  it('walks nested structures', () => {
    const encoded = sequence(integer(5), explicit(1, oid('2.5.4.3')), bitString(Buffer.from([9])));
    const [n, tagged, bits] = children(decode(encoded));
    assert.equal(readInteger(n!), 5n);
    assert.equal(tagged!.tag, 0xa1);
    assert.equal(readOid(children(tagged!)[0]!), '2.5.4.3');
    assert.deepEqual(readBitString(bits!), { bytes: Buffer.from([9]), unusedBits: 0 });
  });

  it('refuses malformed input', () => {
    const bad = [
      '', // nothing
      '3003020101ff', // trailing byte
      '300502', // truncated
      '30800201010000', // indefinite length (BER, not DER)
      '04810100', // long form for a length that fits the short form
      '1f0100', // multi-byte tag
    ];
    for (const input of bad) assert.throws(() => decode(Buffer.from(input, 'hex')), IntegrityError, input);
    assert.throws(() => children(decode(integer(1))), IntegrityError);
  });
});

describe('IP addresses for subjectAltName', () => {
  it('converts IPv4 and IPv6 to network-order octets', () => {
    assert.equal(hex(ipAddressBytes('127.0.0.1')), '7f000001');
    assert.equal(hex(ipAddressBytes('::1')), '00000000000000000000000000000001');
    assert.equal(hex(ipAddressBytes('::')), '00000000000000000000000000000000');
    assert.equal(hex(ipAddressBytes('2001:db8::8:1')), '20010db8000000000000000000080001');
    assert.equal(hex(ipAddressBytes('fe80::')), 'fe800000000000000000000000000000');
    assert.equal(hex(ipAddressBytes('::ffff:192.0.2.1')), '00000000000000000000ffffc0000201');
    assert.equal(hex(ipAddressBytes('1:2:3:4:5:6:7:8')), '00010002000300040005000600070008');
  });

  it('refuses things that are not addresses, and IPv6 zones', () => {
    for (const bad of ['', 'localhost', '256.0.0.1', '1.2.3', 'fe80::1%eth0', '1:2']) {
      assert.throws(() => ipAddressBytes(bad), BadInputError, bad);
    }
  });
});
