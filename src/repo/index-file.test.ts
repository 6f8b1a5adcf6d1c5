import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { IntegrityError } from '../errors/index.ts';
import { decodeIndex, encodeIndex, type IndexFile } from './index-file.ts';
import { PACK_ENTRY_BYTES, type PackEntry } from './pack.ts';

const NAME = 'index/feedface';

function entry(i: number): PackEntry {
  return {
    type: i % 2,
    compressed: i % 3 === 0,
    id: randomBytes(32),
    offset: 40 + i * 1000,
    length: 1000,
    rawLength: 984 + i,
  };
}

function pack(blobs: number) {
  return {
    id: randomBytes(32),
    salt: randomBytes(32),
    entries: Array.from({ length: blobs }, (_, i) => entry(i)),
  };
}

const sample: IndexFile = {
  supersedes: [randomBytes(32), randomBytes(32)],
  packs: [pack(3), pack(0), pack(5)],
};

function corruptIndex(fn: () => unknown, why?: RegExp): void {
  assert.throws(fn, (err) => {
    assert.ok(err instanceof IntegrityError, `expected IntegrityError, got ${String(err)}`);
    assert.equal(err.code, 'CORRUPT_INDEX');
    assert.equal(err.object, NAME);
    if (why) assert.match(err.message, why);
    return true;
  });
}

/** The offset of pack p's blob count in the encoding of `index`. */
function blobCountOffset(index: IndexFile, p: number): number {
  let at = 5 + 4 + 32 * index.supersedes.length + 4;
  for (let i = 0; i < p; i++) at += 68 + index.packs[i]!.entries.length * PACK_ENTRY_BYTES;
  return at + 64;
}

describe('encodeIndex / decodeIndex', () => {
  it('round-trips supersedes and several packs, one of them empty', () => {
    const bytes = encodeIndex(sample);
    assert.deepEqual(bytes.subarray(0, 5), Buffer.from('OFSI\x01', 'latin1'));
    assert.equal(bytes.length, 5 + 4 + 64 + 4 + 3 * 68 + 8 * PACK_ENTRY_BYTES);
    assert.deepEqual(decodeIndex(bytes, NAME), sample);
  });

  it('round-trips an index with no packs and nothing superseded (13 bytes)', () => {
    const empty: IndexFile = { supersedes: [], packs: [] };
    const bytes = encodeIndex(empty);
    assert.equal(bytes.length, 13);
    assert.deepEqual(decodeIndex(bytes, NAME), empty);
  });

  it('round-trips supersedes without packs, and packs without supersedes', () => {
    const a: IndexFile = { supersedes: [randomBytes(32)], packs: [] };
    const b: IndexFile = { supersedes: [], packs: [pack(1)] };
    assert.deepEqual(decodeIndex(encodeIndex(a), NAME), a);
    assert.deepEqual(decodeIndex(encodeIndex(b), NAME), b);
  });

  it('decoded buffers do not alias the input', () => {
    const bytes = encodeIndex(sample);
    const decoded = decodeIndex(bytes, NAME);
    bytes.fill(0);
    assert.deepEqual(decoded, sample);
  });

  it('refuses input truncated at every length with CORRUPT_INDEX (and nothing else)', () => {
    const bytes = encodeIndex(sample);
    for (let n = 0; n < bytes.length; n++) {
      corruptIndex(() => decodeIndex(bytes.subarray(0, n), NAME));
    }
  });

  it('refuses a trailing byte', () => {
    for (const index of [sample, { supersedes: [], packs: [] }]) {
      corruptIndex(
        () => decodeIndex(Buffer.concat([encodeIndex(index), Buffer.from([0])]), NAME),
        /trailing/,
      );
    }
  });

  it('refuses a bad magic or version', () => {
    const bytes = encodeIndex(sample);
    for (const [at, value] of [
      [0, 0x6f],
      [3, 0x00],
      [4, 0],
      [4, 2],
    ] as const) {
      const bad = Buffer.from(bytes);
      bad[at] = value;
      corruptIndex(() => decodeIndex(bad, NAME), /not an index file/);
    }
  });

  it('refuses an entry with an unknown type or flags, naming the pack', () => {
    const bytes = encodeIndex(sample);
    const first = blobCountOffset(sample, 0) + 4;
    for (const [at, value] of [
      [first, 2],
      [first + 1, 2],
      [first + 2 * PACK_ENTRY_BYTES, 255],
    ] as const) {
      const bad = Buffer.from(bytes);
      bad[at] = value;
      corruptIndex(() => decodeIndex(bad, NAME), new RegExp(sample.packs[0]!.id.toString('hex')));
    }
  });

  // The timeout stands for "quickly": a loop or allocation driven by a 2^32 count cannot finish in it.
  it('refuses huge counts with few bytes, quickly (no allocation by count, no long loop)', {
    timeout: 5000,
  }, () => {
    const small = encodeIndex({ supersedes: [], packs: [] });
    const supersedes = Buffer.from(small);
    supersedes.writeUInt32LE(0xffffffff, 5);
    corruptIndex(() => decodeIndex(supersedes, NAME), /truncated/);

    const packs = Buffer.from(small);
    packs.writeUInt32LE(0xffffffff, 9);
    corruptIndex(() => decodeIndex(packs, NAME), /truncated/);

    const bytes = encodeIndex(sample);
    for (const [p, count] of [
      [0, 0xffffffff],
      [1, 0x7fffffff],
      [2, 6],
    ] as const) {
      const bad = Buffer.from(bytes);
      bad.writeUInt32LE(count, blobCountOffset(sample, p));
      corruptIndex(() => decodeIndex(bad, NAME));
    }

    // A count that fits in memory but not in the bytes given.
    const lying = Buffer.from(encodeIndex({ supersedes: [randomBytes(32)], packs: [] }));
    lying.writeUInt32LE(2, 5);
    corruptIndex(() => decodeIndex(lying, NAME));
  });

  it('an under-stated blob count is refused (remaining bytes do not parse as a pack or trailer)', () => {
    const bytes = encodeIndex(sample);
    const bad = Buffer.from(bytes);
    bad.writeUInt32LE(4, blobCountOffset(sample, 2));
    corruptIndex(() => decodeIndex(bad, NAME));
  });

  it('random garbage after a valid prefix only ever gives CORRUPT_INDEX', () => {
    const prefix = encodeIndex({ supersedes: [], packs: [] }).subarray(0, 5);
    for (let i = 0; i < 300; i++) {
      const junk = Buffer.concat([prefix, randomBytes(i)]);
      try {
        decodeIndex(junk, NAME);
      } catch (err) {
        assert.ok(err instanceof IntegrityError && err.code === 'CORRUPT_INDEX', String(err));
      }
    }
  });
});
