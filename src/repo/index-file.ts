import { IntegrityError } from '../errors/index.ts';
import { PACK_ENTRY_BYTES, type PackEntry, readEntry, writeEntry } from './pack.ts';

/**
 * Index files map blob ids to their place in packs. Binary, then compressed and sealed
 * as a file of type "index" (docs/design.md "Index files"):
 *   "OFSI" ‖ version(1) ‖ supersedes count (u32) ‖ superseded index ids (32 each)
 *   ‖ pack count (u32) ‖ per pack: id(32) ‖ salt(32) ‖ blob count (u32) ‖ entries (46 each)
 */

const MAGIC = Buffer.from('OFSI');
const VERSION = 1;

export interface IndexedPack {
  id: Buffer;
  salt: Buffer;
  entries: PackEntry[];
}

export interface IndexFile {
  /** Index files this one replaces (written by index compaction; empty otherwise). */
  supersedes: Buffer[];
  packs: IndexedPack[];
}

export function encodeIndex(index: IndexFile): Buffer {
  const blobs = index.packs.reduce((n, p) => n + p.entries.length, 0);
  const size = 5 + 4 + 32 * index.supersedes.length + 4 + index.packs.length * 68 + blobs * PACK_ENTRY_BYTES;
  const out = Buffer.alloc(size);
  MAGIC.copy(out, 0);
  out[4] = VERSION;
  let at = 5;
  out.writeUInt32LE(index.supersedes.length, at);
  at += 4;
  for (const id of index.supersedes) at += id.copy(out, at);
  out.writeUInt32LE(index.packs.length, at);
  at += 4;
  for (const pack of index.packs) {
    at += pack.id.copy(out, at);
    at += pack.salt.copy(out, at);
    out.writeUInt32LE(pack.entries.length, at);
    at += 4;
    for (const entry of pack.entries) {
      writeEntry(out, at, entry);
      at += PACK_ENTRY_BYTES;
    }
  }
  return out;
}

/** Parses untrusted bytes: every count is checked against the bytes actually present. */
export function decodeIndex(buf: Buffer, name: string): IndexFile {
  const fail = (why: string) => new IntegrityError('CORRUPT_INDEX', `${name}: ${why}`, { object: name });
  if (buf.length < 13 || !buf.subarray(0, 4).equals(MAGIC) || buf[4] !== VERSION)
    throw fail('not an index file');
  let at = 5;
  const need = (n: number) => {
    if (at + n > buf.length) throw fail('truncated');
  };
  need(4);
  const superseded = buf.readUInt32LE(at);
  at += 4;
  need(superseded * 32);
  const supersedes = Array.from({ length: superseded }, (_, i) =>
    Buffer.from(buf.subarray(at + i * 32, at + i * 32 + 32)),
  );
  at += superseded * 32;
  need(4);
  const packCount = buf.readUInt32LE(at);
  at += 4;
  const packs: IndexedPack[] = [];
  for (let p = 0; p < packCount; p++) {
    need(68);
    const id = Buffer.from(buf.subarray(at, at + 32));
    const salt = Buffer.from(buf.subarray(at + 32, at + 64));
    const count = buf.readUInt32LE(at + 64);
    at += 68;
    need(count * PACK_ENTRY_BYTES);
    const entries: PackEntry[] = [];
    for (let i = 0; i < count; i++, at += PACK_ENTRY_BYTES) {
      try {
        entries.push(readEntry(buf, at));
      } catch {
        throw fail(`entry ${i} of pack ${id.toString('hex')} is malformed`);
      }
    }
    packs.push({ id, salt, entries });
  }
  if (at !== buf.length) throw fail('trailing bytes after the last pack');
  return { supersedes, packs };
}
