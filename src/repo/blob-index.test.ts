import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { describe, it } from 'node:test';
import { BadInputError, IntegrityError } from '../errors/index.ts';
import { BLOB_DATA, BLOB_TREE, BlobIndex, type BlobLocation } from './blob-index.ts';

/** n deterministic pseudo-random 32-byte ids (AES-256-CTR keystream). */
function ids(n: number, seed = 1): Buffer[] {
  const bytes = createCipheriv('aes-256-ctr', Buffer.alloc(32, seed), Buffer.alloc(16)).update(
    Buffer.alloc(n * 32),
  );
  return Array.from({ length: n }, (_, i) => bytes.subarray(i * 32, i * 32 + 32));
}

function locationOf(i: number, packIndex = 0): BlobLocation {
  return {
    packIndex,
    offset: (i * 7919) >>> 0,
    length: (i % 5000) + 1,
    rawLength: 0xffff_ffff - i,
    type: i % 3 === 0 ? BLOB_TREE : BLOB_DATA,
    compressed: i % 2 === 0,
  };
}

function withPacks(count: number): BlobIndex {
  const index = new BlobIndex();
  for (const id of ids(count, 200)) index.addPack(id, Buffer.alloc(32, 9));
  return index;
}

describe('BlobIndex blobs', () => {
  it('adds, finds and reports 200k random ids through several growths', () => {
    const index = withPacks(3);
    const all = ids(200_000);
    all.forEach((id, i) => {
      assert.equal(index.add(id, locationOf(i, i % 3)), true);
    });
    assert.equal(index.size, all.length);
    all.forEach((id, i) => {
      assert.equal(index.has(id), true);
      assert.deepEqual(index.get(id), locationOf(i, i % 3));
    });
    for (const id of ids(1000, 2)) {
      assert.equal(index.has(id), false);
      assert.equal(index.get(id), undefined);
    }
  });

  it('rejects a duplicate id and keeps the first location', () => {
    const index = withPacks(1);
    const [id] = ids(1);
    assert.equal(index.add(id!, locationOf(1)), true);
    assert.equal(index.add(Buffer.from(id!), locationOf(2)), false);
    assert.equal(index.size, 1);
    assert.deepEqual(index.get(id!), locationOf(1));
  });

  it('tells apart ids that share their first 4 bytes (the hash key)', () => {
    const index = withPacks(1);
    const colliding = ids(5000, 3).map((id) => {
      const copy = Buffer.from(id);
      copy.writeUInt32BE(0xdeadbeef, 0);
      return copy;
    });
    // Also ids equal but for the last byte: every word must be compared.
    const twin = Buffer.from(colliding[0]!);
    twin[31]! ^= 1;
    colliding.push(twin);
    colliding.forEach((id, i) => {
      assert.equal(index.add(id, locationOf(i)), true);
    });
    colliding.forEach((id, i) => {
      assert.deepEqual(index.get(id), locationOf(i));
    });
    const absent = Buffer.from(colliding[1]!);
    absent[20]! ^= 0x80;
    assert.equal(index.has(absent), false);
  });

  it('accepts ids in any Uint8Array, at any offset', () => {
    const index = withPacks(1);
    const backing = new Uint8Array(100);
    backing.set(ids(1, 4)[0]!, 33);
    const id = backing.subarray(33, 65);
    index.add(id, locationOf(5));
    assert.deepEqual(index.get(Buffer.from(id)), locationOf(5));
  });

  it('lists entries in insertion order and blobs by pack', () => {
    const index = withPacks(2);
    const some = ids(3000, 5);
    some.forEach((id, i) => {
      index.add(id, locationOf(i, i % 2));
    });
    const listed = [...index.entries()];
    assert.equal(listed.length, some.length);
    listed.forEach(({ id, loc }, i) => {
      assert.ok(id.equals(some[i]!));
      assert.deepEqual(loc, locationOf(i, i % 2));
    });
    const ofPack1 = [...index.blobsOfPack(1)];
    assert.equal(ofPack1.length, 1500);
    assert.ok(ofPack1.every(({ loc }) => loc.packIndex === 1));
  });

  it('rejects malformed input', () => {
    const index = withPacks(1);
    assert.throws(() => index.add(Buffer.alloc(31), locationOf(1)), BadInputError);
    assert.throws(() => index.add(Buffer.alloc(32), locationOf(1, 1)), BadInputError);
    assert.throws(() => index.add(Buffer.alloc(32), { ...locationOf(1), offset: 2 ** 32 }), BadInputError);
    assert.throws(() => index.add(Buffer.alloc(32), { ...locationOf(1), length: -1 }), BadInputError);
    assert.throws(() => index.has(Buffer.alloc(33)), BadInputError);
    assert.equal(index.size, 0);
  });

  it('stays within 80 bytes per blob at 1M entries', () => {
    const index = withPacks(100);
    const all = ids(1_000_000, 6);
    all.forEach((id, i) => {
      index.add(id, locationOf(i, i % 100));
    });
    const perBlob = index.memoryBytes() / index.size;
    assert.ok(perBlob <= 80, `${perBlob.toFixed(1)} bytes per blob`);
    assert.ok(all.every((id) => index.has(id)));
  });

  it('reserve() makes room without losing entries', () => {
    const index = withPacks(1);
    const all = ids(5000, 7);
    all.slice(0, 2000).forEach((id, i) => {
      index.add(id, locationOf(i));
    });
    const before = index.memoryBytes();
    index.reserve(100_000);
    const reserved = index.memoryBytes();
    assert.ok(reserved > before);
    all.slice(2000).forEach((id, i) => {
      index.add(id, locationOf(i + 2000));
    });
    assert.equal(index.memoryBytes(), reserved, 'no regrowth below the reserved size');
    all.forEach((id, i) => {
      assert.deepEqual(index.get(id), locationOf(i));
    });
  });
});

describe('BlobIndex packs', () => {
  it('numbers packs and gives the same ordinal for the same id', () => {
    const index = new BlobIndex();
    const packs = ids(3000, 8);
    const salts = ids(3000, 9);
    packs.forEach((id, i) => {
      assert.equal(index.addPack(id, salts[i]!), i);
    });
    assert.equal(index.addPack(Buffer.from(packs[17]!), salts[17]!), 17);
    assert.equal(index.packCount, 3000);
    packs.forEach((id, i) => {
      assert.equal(index.findPack(id), i);
      assert.ok(index.packId(i).equals(id));
      assert.ok(index.packSalt(i).equals(salts[i]!));
    });
    assert.equal(index.findPack(ids(1, 10)[0]!), undefined);
  });

  it('returns copies, not views of its own storage', () => {
    const index = new BlobIndex();
    const [pack, salt] = ids(2, 11);
    index.addPack(pack!, salt!);
    index.packId(0).fill(0);
    index.packSalt(0).fill(0);
    assert.ok(index.packId(0).equals(pack!));
    assert.ok(index.packSalt(0).equals(salt!));
  });

  it('refuses the same pack with another salt, and unknown ordinals', () => {
    const index = new BlobIndex();
    const [pack, salt, other] = ids(3, 12);
    index.addPack(pack!, salt!);
    assert.throws(() => index.addPack(pack!, other!), IntegrityError);
    assert.throws(() => index.packId(1), BadInputError);
    assert.throws(() => index.packSalt(-1), BadInputError);
  });
});
