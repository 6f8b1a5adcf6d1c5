import { createHash, type KeyObject, randomBytes } from 'node:crypto';
import { IntegrityError } from '../errors/index.ts';
import { openPackHeader, packKey, SEAL_OVERHEAD, sealBlob, sealPackHeader } from './crypto/seal.ts';
import { release } from './transfer.ts';

/**
 * Pack files (docs/design.md "Packs"):
 *   "OFSP" ‖ version(1) ‖ reserved(3) ‖ salt(32) ‖ blob… ‖ sealed header ‖ header length (u32 LE)
 * Each blob is AES-256-GCM ciphertext ‖ tag under the pack key, nonce = its offset.
 * The pack's name is the SHA-256 of all its bytes, so storage can verify it without keys.
 */

const MAGIC = Buffer.from('OFSP');
const VERSION = 1;
export const PACK_PREFIX_BYTES = 40;
export const PACK_ENTRY_BYTES = 46;
const MAX_ENTRIES = 1 << 20;

export interface PackEntry {
  type: number;
  compressed: boolean;
  id: Buffer;
  offset: number;
  /** Stored (sealed) length in the pack. */
  length: number;
  /** Length of the plaintext after decompression. */
  rawLength: number;
}

export interface FinishedPack {
  id: Buffer;
  salt: Buffer;
  bytes: Buffer;
  entries: PackEntry[];
}

/**
 * Accumulates sealed blobs in one buffer; `finish` adds the header and names the pack.
 * The buffer is reserved at `capacity` (pages are only resident once written, so
 * reserving room for the blob that crosses the pack size costs no memory) and grows
 * only for a blob larger than that room. Sealed pieces are copied in at once, so a
 * pack never sits in memory twice (as pieces and as their concatenation).
 */
export class PackBuilder {
  readonly salt = randomBytes(32);
  readonly #key: KeyObject;
  #buf: Buffer;
  readonly entries: PackEntry[] = [];
  #size = 0;

  constructor(encKey: Buffer, capacity = 1 << 20) {
    this.#key = packKey(encKey, this.salt);
    this.#buf = Buffer.allocUnsafeSlow(Math.max(capacity, PACK_PREFIX_BYTES));
    this.#append(MAGIC);
    this.#append(Buffer.from([VERSION, 0, 0, 0]));
    this.#append(this.salt);
  }

  get size(): number {
    return this.#size;
  }

  get count(): number {
    return this.entries.length;
  }

  add(type: number, id: Buffer, stored: Uint8Array, compressed: boolean, rawLength: number): PackEntry {
    const entry = {
      type,
      compressed,
      id,
      offset: this.#size,
      length: stored.length + SEAL_OVERHEAD,
      rawLength,
    };
    this.#reserve(entry.length);
    // The cipher's output is copied in and freed at once (see release).
    for (const part of sealBlob(this.#key, entry, stored)) {
      this.#append(part);
      release(part);
    }
    this.entries.push(entry);
    return entry;
  }

  /**
   * The finished pack. Its bytes are a view at offset 0 of a buffer that belongs to
   * the pack alone (the builder must not be used afterwards), so it can be transferred.
   */
  finish(): FinishedPack {
    const header = sealPackHeader(this.#key, encodeEntries(this.entries));
    const trailer = Buffer.alloc(4);
    trailer.writeUInt32LE(header.length);
    this.#reserve(header.length + 4);
    this.#append(header);
    this.#append(trailer);
    const bytes = this.#buf.subarray(0, this.#size);
    const id = createHash('sha256').update(bytes).digest();
    return { id, salt: this.salt, bytes, entries: this.entries };
  }

  #reserve(more: number): void {
    if (this.#size + more <= this.#buf.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(this.#size + more, this.#buf.length * 2));
    this.#buf.copy(grown, 0, 0, this.#size);
    this.#buf = grown;
  }

  #append(part: Uint8Array): void {
    this.#reserve(part.length);
    this.#buf.set(part, this.#size);
    this.#size += part.length;
  }
}

function encodeEntries(entries: PackEntry[]): Buffer {
  const out = Buffer.alloc(4 + entries.length * PACK_ENTRY_BYTES);
  out.writeUInt32LE(entries.length, 0);
  for (const [i, e] of entries.entries()) writeEntry(out, 4 + i * PACK_ENTRY_BYTES, e);
  return out;
}

export function writeEntry(out: Buffer, at: number, e: PackEntry): void {
  out[at] = e.type;
  out[at + 1] = e.compressed ? 1 : 0;
  out.set(e.id, at + 2);
  out.writeUInt32LE(e.offset, at + 34);
  out.writeUInt32LE(e.length, at + 38);
  out.writeUInt32LE(e.rawLength, at + 42);
}

export function readEntry(buf: Buffer, at: number): PackEntry {
  const type = buf[at]!;
  const flags = buf[at + 1]!;
  if (type > 1 || flags > 1) throw new Error('bad blob type or flags');
  return {
    type,
    compressed: flags === 1,
    id: Buffer.from(buf.subarray(at + 2, at + 34)),
    offset: buf.readUInt32LE(at + 34),
    length: buf.readUInt32LE(at + 38),
    rawLength: buf.readUInt32LE(at + 42),
  };
}

/** The size a pack must have, given its entries; lets `check` verify sizes without reading. */
export function expectedPackSize(entries: readonly { length: number }[]): number {
  const blobs = entries.reduce((sum, e) => sum + e.length, 0);
  return PACK_PREFIX_BYTES + blobs + 4 + entries.length * PACK_ENTRY_BYTES + SEAL_OVERHEAD + 4;
}

/** Parses and authenticates a whole pack held in memory; every entry is bounds-checked. */
export function parsePack(
  bytes: Buffer,
  encKey: Buffer,
  name: string,
): { salt: Buffer; entries: PackEntry[] } {
  if (bytes.length < PACK_PREFIX_BYTES + 4 + SEAL_OVERHEAD) {
    throw new IntegrityError('CORRUPT_PACK', `${name}: not an Offsite pack (truncated)`, { object: name });
  }
  const headerLength = bytes.readUInt32LE(bytes.length - 4);
  const headerStart = Math.max(0, bytes.length - 4 - headerLength);
  return parsePackHeader(
    bytes.subarray(0, PACK_PREFIX_BYTES),
    bytes.subarray(headerStart, bytes.length - 4),
    bytes.length,
    encKey,
    name,
  );
}

/** Where the sealed header sits, from the last 4 bytes of a pack of `size` bytes. */
export function headerRange(size: number, trailer: Buffer): { offset: number; length: number } | undefined {
  const length = trailer.readUInt32LE(0);
  const offset = size - 4 - length;
  return length >= 4 + SEAL_OVERHEAD && offset >= PACK_PREFIX_BYTES ? { offset, length } : undefined;
}

/**
 * Authenticates a pack's header from its 40-byte prefix and sealed header alone (so a
 * header can be read with ranged reads), checking every entry against the pack's size.
 */
export function parsePackHeader(
  prefix: Buffer,
  sealedHeader: Buffer,
  packSize: number,
  encKey: Buffer,
  name: string,
): { salt: Buffer; entries: PackEntry[] } {
  const fail = (why: string) => new IntegrityError('CORRUPT_PACK', `${name}: ${why}`, { object: name });
  if (prefix.length < PACK_PREFIX_BYTES || !prefix.subarray(0, 4).equals(MAGIC)) {
    throw fail('not an Offsite pack (bad magic or truncated)');
  }
  if (prefix[4] !== VERSION) throw fail(`unknown pack version ${prefix[4]}`);
  const headerStart = packSize - 4 - sealedHeader.length;
  if (sealedHeader.length < 4 + SEAL_OVERHEAD || headerStart < PACK_PREFIX_BYTES)
    throw fail('header length out of range');
  const salt = Buffer.from(prefix.subarray(8, PACK_PREFIX_BYTES));
  const header = openPackHeader(packKey(encKey, salt), sealedHeader, name);
  const count = header.readUInt32LE(0);
  if (count > MAX_ENTRIES || header.length !== 4 + count * PACK_ENTRY_BYTES)
    throw fail('header entry count is wrong');
  const entries: PackEntry[] = [];
  for (let i = 0; i < count; i++) {
    let entry: PackEntry;
    try {
      entry = readEntry(header, 4 + i * PACK_ENTRY_BYTES);
    } catch {
      throw fail(`header entry ${i} is malformed`);
    }
    if (
      entry.offset < PACK_PREFIX_BYTES ||
      entry.offset + entry.length > headerStart ||
      entry.length < SEAL_OVERHEAD
    ) {
      throw fail(`header entry ${i} points outside the pack`);
    }
    entries.push(entry);
  }
  return { salt, entries };
}
