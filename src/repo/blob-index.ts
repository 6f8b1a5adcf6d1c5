// The in-memory index: blob id → where the blob lives (pack, offset, lengths, type). A
// repository may hold tens of millions of blobs, so this is columns of typed arrays plus
// an open-addressing hash table, not a Map of objects: ~60 bytes per blob, ≤ 80 always.
import { BadInputError, IntegrityError } from '../errors/index.ts';

export const BLOB_DATA = 0;
export const BLOB_TREE = 1;
export type BlobType = 0 | 1;

export interface BlobLocation {
  /** Ordinal of the pack in this index (see BlobIndex.addPack), not its id. */
  packIndex: number;
  /** Byte offset of the stored (encrypted) blob inside the pack. */
  offset: number;
  /** Stored length in the pack. */
  length: number;
  /** Plaintext length before compression. */
  rawLength: number;
  type: BlobType;
  compressed: boolean;
}

const ID_BYTES = 32;
const ID_WORDS = ID_BYTES / 4;
const MIN_CAPACITY = 1024;
const MIN_SLOTS = 2048;
const U32_MAX = 0xffff_ffff;

const FLAG_TREE = 1;
const FLAG_COMPRESSED = 2;

/** Entries grow by 1.25×, not 2×: slack stays ≤ 25% (12 B/blob), which keeps the ≤ 80 B target. */
function grownCapacity(capacity: number, needed: number): number {
  return Math.max(MIN_CAPACITY, needed, Math.ceil(capacity * 1.25));
}

function checkId(id: Uint8Array, what: string): void {
  if (id.length !== ID_BYTES) {
    throw new BadInputError('BAD_ID', `${what} must be ${ID_BYTES} bytes, got ${id.length}`);
  }
}

/**
 * An append-only set of 32-byte ids numbered 0, 1, 2… in insertion order. Ids live as
 * 8 int32 words each in one Int32Array (compared word by word, no Buffer.compare call);
 * `slots` is a linear-probing table of ordinal + 1 (0 = empty) keyed by the first
 * 4 bytes of the id, which are uniformly random because ids are HMACs or hashes.
 */
class IdTable {
  #words = new Int32Array(0);
  #slots = new Uint32Array(MIN_SLOTS);
  #count = 0;
  /** The id being looked up, as words; filled through a byte view so endianness never matters. */
  readonly #query = new Int32Array(ID_WORDS);
  readonly #queryBytes = new Uint8Array(this.#query.buffer);

  get count(): number {
    return this.#count;
  }

  get capacity(): number {
    return this.#words.length / ID_WORDS;
  }

  memoryBytes(): number {
    return this.#words.byteLength + this.#slots.byteLength + this.#query.byteLength;
  }

  /** Ordinal of `id`, or -1. Allocates nothing. */
  find(id: Uint8Array): number {
    this.#queryBytes.set(id);
    const slot = this.#probe();
    return slot < 0 ? -1 : this.#slots[slot]! - 1;
  }

  /** Adds `id` if absent. Returns its new ordinal, or ~ordinal (negative) if it was already there. */
  insert(id: Uint8Array): number {
    this.#queryBytes.set(id);
    let slot = this.#probe();
    if (slot >= 0) return ~(this.#slots[slot]! - 1);
    const ordinal = this.#count;
    if (ordinal === this.capacity) this.#growWords(grownCapacity(ordinal, ordinal + 1));
    if ((ordinal + 1) * 2 > this.#slots.length) {
      this.#rehash(this.#slots.length * 2);
      slot = this.#probe();
    }
    this.#words.set(this.#query, ordinal * ID_WORDS);
    this.#slots[~slot] = ordinal + 1;
    this.#count = ordinal + 1;
    return ordinal;
  }

  /** A copy of the id with this ordinal. */
  id(ordinal: number): Buffer {
    const bytes = Buffer.from(this.#words.buffer, ordinal * ID_BYTES, ID_BYTES);
    return Buffer.from(bytes);
  }

  /** Room for `capacity` ids in all, table included, so that many inserts never regrow. */
  reserve(capacity: number): void {
    if (capacity > this.capacity) this.#growWords(capacity);
    let slots = this.#slots.length;
    while (capacity * 2 > slots) slots *= 2;
    if (slots !== this.#slots.length) this.#rehash(slots);
  }

  #growWords(capacity: number): void {
    const words = new Int32Array(capacity * ID_WORDS);
    words.set(this.#words.subarray(0, this.#count * ID_WORDS));
    this.#words = words;
  }

  /**
   * Looks for the query id: the slot holding it (≥ 0), or ~slot of the empty slot where
   * it would go (negative). The hot path of every lookup: locals and typed arrays only.
   */
  #probe(): number {
    const q = this.#query;
    const q0 = q[0]!;
    const q1 = q[1]!;
    const q2 = q[2]!;
    const q3 = q[3]!;
    const words = this.#words;
    const slots = this.#slots;
    const mask = slots.length - 1;
    for (let slot = q0 & mask; ; slot = (slot + 1) & mask) {
      const entry = slots[slot]!;
      if (entry === 0) return ~slot;
      const w = (entry - 1) * ID_WORDS;
      // The first words settle almost every comparison; the rest only confirm a match.
      if (words[w] === q0 && words[w + 1] === q1 && words[w + 2] === q2 && words[w + 3] === q3) {
        if (
          words[w + 4] === q[4] &&
          words[w + 5] === q[5] &&
          words[w + 6] === q[6] &&
          words[w + 7] === q[7]
        ) {
          return slot;
        }
      }
    }
  }

  #rehash(size: number): void {
    const slots = new Uint32Array(size);
    const mask = size - 1;
    const words = this.#words;
    for (let ordinal = 0; ordinal < this.#count; ordinal++) {
      let slot = words[ordinal * ID_WORDS]! & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = ordinal + 1;
    }
    this.#slots = slots;
  }
}

function checkU32(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > U32_MAX) {
    throw new BadInputError('BAD_BLOB_LOCATION', `blob ${name} ${value} is not a 32-bit unsigned integer`);
  }
}

/**
 * Blob id → location, plus the packs they live in (id and key salt), numbered by ordinal.
 * Per blob: 32 B id, 16 B location (pack ordinal, offset, length, raw length as one
 * 4-word row), 1 B flags, 8-16 B of hash table, and up to 25% growth slack.
 */
export class BlobIndex {
  readonly #ids = new IdTable();
  /** Rows of [pack ordinal, offset, length, rawLength]. */
  #locs = new Uint32Array(0);
  /** Bit 0: tree (else data); bit 1: compressed. */
  #flags = new Uint8Array(0);
  readonly #packs = new IdTable();
  #salts = Buffer.alloc(0);

  get size(): number {
    return this.#ids.count;
  }

  get packCount(): number {
    return this.#packs.count;
  }

  /** Registers a pack (32-byte id and key salt); the same id again gets the same ordinal. */
  addPack(packId: Uint8Array, salt: Uint8Array): number {
    checkId(packId, 'pack id');
    checkId(salt, 'pack salt');
    const inserted = this.#packs.insert(packId);
    if (inserted < 0) {
      const ordinal = ~inserted;
      if (!this.packSalt(ordinal).equals(salt)) {
        throw new IntegrityError('PACK_SALT_MISMATCH', 'a pack is listed twice with different salts', {
          object: Buffer.from(packId).toString('hex'),
        });
      }
      return ordinal;
    }
    if (this.#salts.length < this.#packs.capacity * ID_BYTES) {
      const salts = Buffer.alloc(this.#packs.capacity * ID_BYTES);
      this.#salts.copy(salts);
      this.#salts = salts;
    }
    this.#salts.set(salt, inserted * ID_BYTES);
    return inserted;
  }

  packId(ordinal: number): Buffer {
    this.#checkPack(ordinal);
    return this.#packs.id(ordinal);
  }

  packSalt(ordinal: number): Buffer {
    this.#checkPack(ordinal);
    return Buffer.from(this.#salts.subarray(ordinal * ID_BYTES, (ordinal + 1) * ID_BYTES));
  }

  findPack(packId: Uint8Array): number | undefined {
    checkId(packId, 'pack id');
    const ordinal = this.#packs.find(packId);
    return ordinal < 0 ? undefined : ordinal;
  }

  /** Adds a blob; false (and nothing changes) if the id is already indexed. */
  add(id: Uint8Array, loc: BlobLocation): boolean {
    this.#checkLocation(id, loc);
    const ordinal = this.#ids.insert(id);
    if (ordinal < 0) return false;
    if (this.#flags.length < this.#ids.capacity) this.#resizeColumns(this.#ids.capacity);
    this.#write(ordinal, loc);
    return true;
  }

  /**
   * Points an indexed blob at a new location (a copy stored again because its pack is
   * condemned); false if the id is not indexed.
   */
  move(id: Uint8Array, loc: BlobLocation): boolean {
    this.#checkLocation(id, loc);
    const ordinal = this.#ids.find(id);
    if (ordinal < 0) return false;
    this.#write(ordinal, loc);
    return true;
  }

  #checkLocation(id: Uint8Array, loc: BlobLocation): void {
    checkId(id, 'blob id');
    this.#checkPack(loc.packIndex);
    checkU32('offset', loc.offset);
    checkU32('length', loc.length);
    checkU32('raw length', loc.rawLength);
  }

  #write(ordinal: number, loc: BlobLocation): void {
    const row = ordinal * 4;
    this.#locs[row] = loc.packIndex;
    this.#locs[row + 1] = loc.offset;
    this.#locs[row + 2] = loc.length;
    this.#locs[row + 3] = loc.rawLength;
    this.#flags[ordinal] = (loc.type === BLOB_TREE ? FLAG_TREE : 0) | (loc.compressed ? FLAG_COMPRESSED : 0);
  }

  /** Allocates nothing: for the per-chunk "do we have it already?" question. */
  has(id: Uint8Array): boolean {
    checkId(id, 'blob id');
    return this.#ids.find(id) >= 0;
  }

  /** The ordinal of the pack holding the blob, or -1; allocates nothing (hot path). */
  packOf(id: Uint8Array): number {
    checkId(id, 'blob id');
    const ordinal = this.#ids.find(id);
    return ordinal < 0 ? -1 : this.#locs[ordinal * 4]!;
  }

  get(id: Uint8Array): BlobLocation | undefined {
    checkId(id, 'blob id');
    const ordinal = this.#ids.find(id);
    return ordinal < 0 ? undefined : this.#location(ordinal);
  }

  /** Makes room for this many blobs in total, so loading a known-size index never regrows. */
  reserve(blobs: number): void {
    if (!Number.isSafeInteger(blobs) || blobs < 0) {
      throw new BadInputError('BAD_RESERVE', `cannot reserve room for ${blobs} blobs`);
    }
    this.#ids.reserve(blobs);
    if (this.#flags.length < this.#ids.capacity) this.#resizeColumns(this.#ids.capacity);
  }

  /** Bytes held by every typed array and buffer of the index. */
  memoryBytes(): number {
    return (
      this.#ids.memoryBytes() +
      this.#locs.byteLength +
      this.#flags.byteLength +
      this.#packs.memoryBytes() +
      this.#salts.byteLength
    );
  }

  /** Every blob in insertion order; ids are copies. */
  *entries(): Generator<{ id: Buffer; loc: BlobLocation }> {
    for (let ordinal = 0; ordinal < this.#ids.count; ordinal++) {
      yield { id: this.#ids.id(ordinal), loc: this.#location(ordinal) };
    }
  }

  /** The blobs stored in one pack (a full scan: for prune and check, not hot paths). */
  *blobsOfPack(packIndex: number): Generator<{ id: Buffer; loc: BlobLocation }> {
    this.#checkPack(packIndex);
    for (let ordinal = 0; ordinal < this.#ids.count; ordinal++) {
      if (this.#locs[ordinal * 4] === packIndex)
        yield { id: this.#ids.id(ordinal), loc: this.#location(ordinal) };
    }
  }

  #location(ordinal: number): BlobLocation {
    const row = ordinal * 4;
    const flags = this.#flags[ordinal]!;
    return {
      packIndex: this.#locs[row]!,
      offset: this.#locs[row + 1]!,
      length: this.#locs[row + 2]!,
      rawLength: this.#locs[row + 3]!,
      type: flags & FLAG_TREE ? BLOB_TREE : BLOB_DATA,
      compressed: (flags & FLAG_COMPRESSED) !== 0,
    };
  }

  #resizeColumns(capacity: number): void {
    const locs = new Uint32Array(capacity * 4);
    locs.set(this.#locs);
    this.#locs = locs;
    const flags = new Uint8Array(capacity);
    flags.set(this.#flags);
    this.#flags = flags;
  }

  #checkPack(ordinal: number): void {
    if (!Number.isInteger(ordinal) || ordinal < 0 || ordinal >= this.#packs.count) {
      throw new BadInputError('BAD_PACK_INDEX', `no pack with ordinal ${ordinal} in the index`);
    }
  }
}
