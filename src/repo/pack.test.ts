import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { IntegrityError } from '../errors/index.ts';
import { openBlob, openPackHeader, packKey, SEAL_OVERHEAD, sealPackHeader } from './crypto/seal.ts';
import {
  expectedPackSize,
  type FinishedPack,
  PACK_ENTRY_BYTES,
  PACK_PREFIX_BYTES,
  PackBuilder,
  type PackEntry,
  parsePack,
  readEntry,
  writeEntry,
} from './pack.ts';

const NAME = 'data/ab/abcdef0123';
const encKey = randomBytes(32);

interface Added {
  type: number;
  id: Buffer;
  stored: Buffer;
  compressed: boolean;
  rawLength: number;
}

const blobs: Added[] = [
  { type: 0, id: randomBytes(32), stored: Buffer.from('first blob, raw'), compressed: false, rawLength: 15 },
  { type: 0, id: randomBytes(32), stored: randomBytes(1000), compressed: true, rawLength: 5000 },
  { type: 1, id: randomBytes(32), stored: Buffer.alloc(0), compressed: false, rawLength: 0 },
  { type: 0, id: randomBytes(32), stored: randomBytes(70_000), compressed: false, rawLength: 70_000 },
];

function build(items: Added[] = blobs): FinishedPack {
  const builder = new PackBuilder(encKey);
  for (const b of items) builder.add(b.type, b.id, b.stored, b.compressed, b.rawLength);
  return builder.finish();
}

/** Asserts an IntegrityError whose code is one of `codes`, naming NAME. */
function refused(fn: () => unknown, codes: string[], why?: RegExp): void {
  assert.throws(fn, (err) => {
    assert.ok(err instanceof IntegrityError, `expected IntegrityError, got ${String(err)}`);
    assert.ok(codes.includes(err.code), `unexpected code ${err.code}: ${err.message}`);
    assert.equal(err.object, NAME);
    if (why) assert.match(err.message, why);
    return true;
  });
}

/** Replaces the pack's sealed header by `plain` sealed with the right pack key. */
function resealHeader(pack: FinishedPack, plain: Buffer): Buffer {
  const bytes = pack.bytes;
  const headerLength = bytes.readUInt32LE(bytes.length - 4);
  const headerStart = bytes.length - 4 - headerLength;
  const sealed = sealPackHeader(packKey(encKey, pack.salt), plain);
  const trailer = Buffer.alloc(4);
  trailer.writeUInt32LE(sealed.length);
  return Buffer.concat([bytes.subarray(0, headerStart), sealed, trailer]);
}

function headerPlain(pack: FinishedPack): Buffer {
  const bytes = pack.bytes;
  const headerLength = bytes.readUInt32LE(bytes.length - 4);
  return openPackHeader(
    packKey(encKey, pack.salt),
    bytes.subarray(bytes.length - 4 - headerLength, bytes.length - 4),
    NAME,
  );
}

/** A pack whose header entry `i` is changed by `change`, sealed correctly. */
function withEntry(pack: FinishedPack, i: number, change: (e: PackEntry) => PackEntry): Buffer {
  const plain = Buffer.from(headerPlain(pack));
  const at = 4 + i * PACK_ENTRY_BYTES;
  writeEntry(plain, at, change(readEntry(plain, at)));
  return resealHeader(pack, plain);
}

describe('PackBuilder', () => {
  it('finish(): id = SHA-256 of the bytes, size = expectedPackSize(entries), layout per design.md §4', () => {
    const pack = build();
    assert.deepEqual(pack.id, createHash('sha256').update(pack.bytes).digest());
    assert.equal(pack.bytes.length, expectedPackSize(pack.entries));
    assert.deepEqual(pack.bytes.subarray(0, 8), Buffer.from([0x4f, 0x46, 0x53, 0x50, 1, 0, 0, 0]));
    assert.deepEqual(pack.bytes.subarray(8, PACK_PREFIX_BYTES), pack.salt);
    assert.equal(
      pack.bytes.readUInt32LE(pack.bytes.length - 4),
      4 + blobs.length * PACK_ENTRY_BYTES + SEAL_OVERHEAD,
    );
  });

  it('records entries with contiguous offsets from 40 and lengths including the tag', () => {
    const builder = new PackBuilder(encKey);
    assert.equal(builder.size, PACK_PREFIX_BYTES);
    assert.equal(builder.count, 0);
    let offset = PACK_PREFIX_BYTES;
    for (const b of blobs) {
      const e = builder.add(b.type, b.id, b.stored, b.compressed, b.rawLength);
      assert.deepEqual(e, {
        type: b.type,
        compressed: b.compressed,
        id: b.id,
        offset,
        length: b.stored.length + 16,
        rawLength: b.rawLength,
      });
      offset += e.length;
      assert.equal(builder.size, offset);
    }
    assert.equal(builder.count, blobs.length);
  });

  it('uses a fresh salt (hence key) per pack: same blobs, different bytes', () => {
    const a = build();
    const b = build();
    assert.notDeepEqual(a.salt, b.salt);
    assert.notDeepEqual(a.id, b.id);
  });

  it('parsePack round-trips the entries and the salt', () => {
    const pack = build();
    const parsed = parsePack(pack.bytes, encKey, NAME);
    assert.deepEqual(parsed.salt, pack.salt);
    assert.deepEqual(parsed.entries, pack.entries);
  });

  it('every blob decrypts with openBlob under packKey(encKey, salt)', () => {
    const pack = build();
    const { salt, entries } = parsePack(pack.bytes, encKey, NAME);
    const key = packKey(encKey, salt);
    entries.forEach((e, i) => {
      const plain = openBlob(key, e, pack.bytes.subarray(e.offset, e.offset + e.length), NAME);
      assert.deepEqual(plain, blobs[i]!.stored);
      assert.equal(e.compressed, blobs[i]!.compressed);
      assert.equal(e.rawLength, blobs[i]!.rawLength);
    });
  });

  it('an empty pack is valid and as small as expected', () => {
    const pack = build([]);
    assert.equal(pack.bytes.length, expectedPackSize([]));
    assert.equal(expectedPackSize([]), 40 + 4 + 16 + 4);
    assert.deepEqual(parsePack(pack.bytes, encKey, NAME).entries, []);
  });

  it('expectedPackSize follows 40 + Σ lengths + 4 + 46·n + 16 + 4', () => {
    assert.equal(expectedPackSize([{ length: 100 }, { length: 16 }]), 40 + 116 + 4 + 92 + 16 + 4);
  });
});

describe('parsePack refuses damaged or hostile packs', () => {
  const pack = build();
  const corrupt = (at: number, value: number) => {
    const bad = Buffer.from(pack.bytes);
    bad[at] = value;
    return bad;
  };

  it('refuses the wrong key (AUTH_FAILED)', () => {
    refused(() => parsePack(pack.bytes, randomBytes(32), NAME), ['AUTH_FAILED']);
  });

  it('refuses a bad magic in each byte (CORRUPT_PACK)', () => {
    for (let i = 0; i < 4; i++)
      refused(() => parsePack(corrupt(i, pack.bytes[i]! ^ 0x20), encKey, NAME), ['CORRUPT_PACK'], /magic/);
  });

  it('refuses an unknown version (CORRUPT_PACK)', () => {
    for (const v of [0, 2, 255])
      refused(() => parsePack(corrupt(4, v), encKey, NAME), ['CORRUPT_PACK'], /version/);
  });

  it('refuses a changed salt (the pack key changes: AUTH_FAILED)', () => {
    refused(() => parsePack(corrupt(20, pack.bytes[20]! ^ 1), encKey, NAME), ['AUTH_FAILED']);
  });

  it('refuses every wrong header length (CORRUPT_PACK or AUTH_FAILED)', () => {
    const real = pack.bytes.readUInt32LE(pack.bytes.length - 4);
    for (const length of [
      0,
      1,
      19,
      real - 1,
      real + 1,
      real + 46,
      pack.bytes.length - 44,
      pack.bytes.length,
      2 ** 32 - 1,
    ]) {
      const bad = Buffer.from(pack.bytes);
      bad.writeUInt32LE(length, bad.length - 4);
      refused(() => parsePack(bad, encKey, NAME), ['CORRUPT_PACK', 'AUTH_FAILED']);
    }
  });

  it('refuses a flipped bit in every byte of the sealed header (AUTH_FAILED)', () => {
    const headerLength = pack.bytes.readUInt32LE(pack.bytes.length - 4);
    for (let i = pack.bytes.length - 4 - headerLength; i < pack.bytes.length - 4; i++) {
      refused(() => parsePack(corrupt(i, pack.bytes[i]! ^ 0x40), encKey, NAME), ['AUTH_FAILED']);
    }
  });

  it('refuses a pack truncated at every length (never another exception type)', () => {
    // Every length near the ends (prefix, header, trailer), a sample in between.
    const len = pack.bytes.length;
    for (let n = 0; n < len; n += n < 200 || n >= len - 400 ? 1 : 97) {
      refused(() => parsePack(pack.bytes.subarray(0, n), encKey, NAME), ['CORRUPT_PACK', 'AUTH_FAILED']);
    }
  });

  it('refuses a pack with bytes appended', () => {
    refused(
      () => parsePack(Buffer.concat([pack.bytes, Buffer.alloc(1)]), encKey, NAME),
      ['CORRUPT_PACK', 'AUTH_FAILED'],
    );
  });

  it('accepts a correctly resealed, unchanged header (the crafting below is sound)', () => {
    const same = resealHeader(pack, headerPlain(pack));
    assert.deepEqual(parsePack(same, encKey, NAME).entries, pack.entries);
  });

  const outside: [string, (e: PackEntry, headerStart: number) => PackEntry][] = [
    ['before the blobs (inside the prefix)', (e) => ({ ...e, offset: 39 })],
    ['at offset 0', (e) => ({ ...e, offset: 0 })],
    ['into the header', (e, h) => ({ ...e, offset: h - e.length + 1 })],
    ['beyond the end', (e) => ({ ...e, offset: 2 ** 32 - 100 })],
    ['with a length past the header', (e, h) => ({ ...e, length: h - e.offset + 1 })],
    ['with a huge length', (e) => ({ ...e, length: 2 ** 32 - 1 })],
    ['with a length shorter than a tag', (e) => ({ ...e, length: 15 })],
  ];
  for (const [what, change] of outside) {
    it(`refuses a header entry pointing outside the pack: ${what} (CORRUPT_PACK)`, () => {
      const headerStart = pack.bytes.length - 4 - pack.bytes.readUInt32LE(pack.bytes.length - 4);
      for (const i of [0, blobs.length - 1]) {
        const bad = withEntry(pack, i, (e) => change(e, headerStart));
        refused(
          () => parsePack(bad, encKey, NAME),
          ['CORRUPT_PACK'],
          new RegExp(`entry ${i} points outside`),
        );
      }
    });
  }

  it('refuses a header entry with an unknown type or flags (CORRUPT_PACK)', () => {
    for (const i of [0, 2]) {
      const plain = Buffer.from(headerPlain(pack));
      plain[4 + i * PACK_ENTRY_BYTES] = 2;
      refused(() => parsePack(resealHeader(pack, plain), encKey, NAME), ['CORRUPT_PACK'], /malformed/);
      const flags = Buffer.from(headerPlain(pack));
      flags[4 + i * PACK_ENTRY_BYTES + 1] = 3;
      refused(() => parsePack(resealHeader(pack, flags), encKey, NAME), ['CORRUPT_PACK'], /malformed/);
    }
  });

  it('refuses a header whose count disagrees with its entries (CORRUPT_PACK)', () => {
    for (const count of [0, blobs.length - 1, blobs.length + 1, 2 ** 20 + 1, 2 ** 32 - 1]) {
      const plain = Buffer.from(headerPlain(pack));
      plain.writeUInt32LE(count, 0);
      refused(() => parsePack(resealHeader(pack, plain), encKey, NAME), ['CORRUPT_PACK'], /count/);
    }
    const extra = Buffer.concat([headerPlain(pack), Buffer.alloc(1)]);
    refused(() => parsePack(resealHeader(pack, extra), encKey, NAME), ['CORRUPT_PACK'], /count/);
  });
});

describe('readEntry / writeEntry', () => {
  it('round-trip a 46-byte entry, little-endian', () => {
    const entry: PackEntry = {
      type: 1,
      compressed: true,
      id: randomBytes(32),
      offset: 0x01020304,
      length: 0xfffffff0,
      rawLength: 7,
    };
    const buf = Buffer.alloc(50);
    writeEntry(buf, 2, entry);
    assert.equal(buf[2], 1);
    assert.equal(buf[3], 1);
    assert.deepEqual(buf.subarray(36, 40), Buffer.from([4, 3, 2, 1]));
    assert.deepEqual(readEntry(buf, 2), entry);
  });

  it('refuses type > 1 and flags > 1', () => {
    const buf = Buffer.alloc(46);
    buf[0] = 2;
    assert.throws(() => readEntry(buf, 0));
    buf[0] = 0;
    buf[1] = 2;
    assert.throws(() => readEntry(buf, 0));
  });
});
