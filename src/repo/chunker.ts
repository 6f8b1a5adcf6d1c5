// Content-defined chunking (FastCDC with normalized chunking, level 2). Boundaries depend
// only on content, so an insertion shifts at most a couple of chunks and the rest still
// deduplicate. The gear table comes from a repository secret: without it, boundaries
// (and so chunk sizes, which an observer of pack sizes could see) reveal nothing.
import { createHmac } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { BadInputError } from '../errors/index.ts';
import { BufferPool, poolClass } from '../util/index.ts';

export interface ChunkerParams {
  /** No cut before this many bytes (those bytes are not even hashed). */
  min: number;
  /** Target average; a power of two. */
  avg: number;
  /** Forced cut at this many bytes. */
  max: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;

export const DEFAULT_CHUNKER_PARAMS: Readonly<ChunkerParams> = Object.freeze({
  min: 256 * KiB,
  avg: 1 * MiB,
  max: 8 * MiB,
});

/** Normalization level 2: the mask before `avg` has 2 more bits than log2(avg), after it 2 fewer. */
const NORMALIZATION = 2;

/** Domain-separation label for the gear table, so the secret may be a derived subkey shared by nothing else. */
const GEAR_LABEL = Buffer.from('offsite/chunker/gear/v1', 'utf8');

/**
 * 256 pseudo-random uint32 from a 32-byte secret:
 * block i (i = 0..31) = HMAC-SHA256(secret, "offsite/chunker/gear/v1" || uint32be(i));
 * the 1024 bytes of blocks 0..31 concatenated are read as 256 little-endian uint32.
 */
export function gearTable(secret: Uint8Array): Uint32Array {
  if (secret.length !== 32) {
    throw new BadInputError('BAD_CHUNKER_SECRET', `chunker secret must be 32 bytes, got ${secret.length}`);
  }
  const bytes = Buffer.alloc(1024);
  const counter = Buffer.alloc(4);
  for (let i = 0; i < 32; i++) {
    counter.writeUInt32BE(i);
    createHmac('sha256', secret)
      .update(GEAR_LABEL)
      .update(counter)
      .digest()
      .copy(bytes, i * 32);
  }
  const gear = new Uint32Array(256);
  for (let i = 0; i < 256; i++) gear[i] = bytes.readUInt32LE(i * 4);
  return gear;
}

function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

function validateParams(p: ChunkerParams): void {
  const ints = Number.isSafeInteger(p.min) && Number.isSafeInteger(p.max) && p.min >= 0;
  // avg ≥ 2^(NORMALIZATION+1) keeps the large mask non-empty; max ≤ 1 GiB keeps indexes small ints.
  if (!ints || !isPowerOfTwo(p.avg) || p.avg < 8 || p.max > 2 ** 30 || !(p.min < p.avg && p.avg < p.max)) {
    throw new BadInputError(
      'BAD_CHUNKER_PARAMS',
      `invalid chunker sizes min=${p.min} avg=${p.avg} max=${p.max}`,
      { hint: 'need integers with min < avg < max ≤ 1 GiB and avg a power of two ≥ 8' },
    );
  }
}

/** A mask of the `bits` highest bits of a 32-bit word, as an int32 (high bits see the widest window). */
function highMask(bits: number): number {
  return bits >= 32 ? -1 : ~(0xffffffff >>> bits) | 0;
}

/**
 * Finds chunk boundaries. Stateless between calls (apart from its configuration), so one
 * Chunker may serve many files, one after another or interleaved.
 */
export class Chunker {
  readonly min: number;
  readonly avg: number;
  readonly max: number;
  /** Gear values as int32, so the hash stays in small-integer arithmetic in the JIT. */
  readonly #gear: Int32Array;
  readonly #maskS: number;
  readonly #maskL: number;

  constructor(gear: Uint32Array, params: ChunkerParams = DEFAULT_CHUNKER_PARAMS) {
    if (gear.length !== 256) {
      throw new BadInputError('BAD_GEAR_TABLE', `gear table must have 256 entries, got ${gear.length}`);
    }
    validateParams(params);
    this.min = params.min;
    this.avg = params.avg;
    this.max = params.max;
    this.#gear = new Int32Array(gear);
    const bits = Math.log2(params.avg);
    this.#maskS = highMask(bits + NORMALIZATION);
    this.#maskL = highMask(bits - NORMALIZATION);
  }

  /**
   * Length of the chunk starting at `start`, looking at data[start, end). Returns -1 when
   * no boundary lies in the bytes available and more could change that (fewer than `max`
   * bytes and not `final`); with `final` the rest is the last chunk. 0 only for final and empty.
   * The answer never depends on bytes past start + max, so callers may offer any window ≥ max.
   *
   * The chunk ends just after the first byte i ≥ start + min at which (h & mask) === 0,
   * where h = ((h << 1) + gear[byte]) | 0 rolls from 0 at start + min, mask is maskS
   * before start + avg and maskL from there on; or at start + max.
   *
   * The loops are written out here on purpose (V8 made every tidier shape measurably
   * slower, see bench/chunker.ts): per mask, eight bytes are hashed with one combined
   * test; on a hit the hash is rewound and the byte-at-a-time loop, which also handles
   * the tail, finds the exact byte. One loop per mask keeps each mask a plain local.
   */
  cut(data: Uint8Array, start: number, end: number, final: boolean): number {
    const avail = end - start;
    if (avail <= this.min) return final ? avail : -1;
    const max = this.max;
    const limit = Math.min(avail, max);
    const normal = Math.min(limit, this.avg);
    const gear = this.#gear;
    const maskS = this.#maskS;
    const maskL = this.#maskL;
    let h = 0;
    let i = start + this.min;
    let stop = start + normal - 7;
    for (; i < stop; i += 8) {
      const before = h;
      h = ((h << 1) + gear[data[i]!]!) | 0;
      const t0 = h & maskS;
      h = ((h << 1) + gear[data[i + 1]!]!) | 0;
      const t1 = h & maskS;
      h = ((h << 1) + gear[data[i + 2]!]!) | 0;
      const t2 = h & maskS;
      h = ((h << 1) + gear[data[i + 3]!]!) | 0;
      const t3 = h & maskS;
      h = ((h << 1) + gear[data[i + 4]!]!) | 0;
      const t4 = h & maskS;
      h = ((h << 1) + gear[data[i + 5]!]!) | 0;
      const t5 = h & maskS;
      h = ((h << 1) + gear[data[i + 6]!]!) | 0;
      const t6 = h & maskS;
      h = ((h << 1) + gear[data[i + 7]!]!) | 0;
      const t7 = h & maskS;
      if (t0 === 0 || t1 === 0 || t2 === 0 || t3 === 0 || t4 === 0 || t5 === 0 || t6 === 0 || t7 === 0) {
        h = before;
        break;
      }
    }
    for (stop = start + normal; i < stop; i++) {
      h = ((h << 1) + gear[data[i]!]!) | 0;
      if ((h & maskS) === 0) return i + 1 - start;
    }
    for (stop = start + limit - 7; i < stop; i += 8) {
      const before = h;
      h = ((h << 1) + gear[data[i]!]!) | 0;
      const t0 = h & maskL;
      h = ((h << 1) + gear[data[i + 1]!]!) | 0;
      const t1 = h & maskL;
      h = ((h << 1) + gear[data[i + 2]!]!) | 0;
      const t2 = h & maskL;
      h = ((h << 1) + gear[data[i + 3]!]!) | 0;
      const t3 = h & maskL;
      h = ((h << 1) + gear[data[i + 4]!]!) | 0;
      const t4 = h & maskL;
      h = ((h << 1) + gear[data[i + 5]!]!) | 0;
      const t5 = h & maskL;
      h = ((h << 1) + gear[data[i + 6]!]!) | 0;
      const t6 = h & maskL;
      h = ((h << 1) + gear[data[i + 7]!]!) | 0;
      const t7 = h & maskL;
      if (t0 === 0 || t1 === 0 || t2 === 0 || t3 === 0 || t4 === 0 || t5 === 0 || t6 === 0 || t7 === 0) {
        h = before;
        break;
      }
    }
    for (stop = start + limit; i < stop; i++) {
      h = ((h << 1) + gear[data[i]!]!) | 0;
      if ((h & maskL) === 0) return i + 1 - start;
    }
    if (limit === max) return max;
    return final ? avail : -1;
  }
}

/** Splits in-memory data. Chunks are views into `data` (no copy): they stay valid while `data` is unchanged. */
export function* chunkBuffer(data: Uint8Array, chunker: Chunker): Generator<Buffer> {
  let pos = 0;
  while (pos < data.length) {
    const len = chunker.cut(data, pos, data.length, true);
    yield Buffer.from(data.buffer, data.byteOffset + pos, len);
    pos += len;
  }
}

export const DEFAULT_READ_SIZE = 4 * MiB;

/**
 * Splits a file read with large positional reads (from offset 0; the handle's own position
 * is not used). Memory: one recycled working buffer of max + readSize, or for a file no
 * larger than `max` (most files, when `sizeHint` says so) a recycled buffer of its size
 * class, read in one go and chunked in place.
 *
 * Each chunk is a view into that buffer, valid only until the generator resumes:
 * a caller that keeps a chunk copies it (the packer copies into recycled buffers it can
 * hand to a worker thread). No per-chunk or per-file allocation means no garbage for the
 * collector and a C heap that does not grow with it.
 */
export async function* chunkFile(
  handle: FileHandle,
  chunker: Chunker,
  readSize: number = DEFAULT_READ_SIZE,
  sizeHint?: number,
): AsyncGenerator<Buffer> {
  if (!Number.isSafeInteger(readSize) || readSize < 1) {
    throw new BadInputError('BAD_READ_SIZE', `read size must be a positive integer, got ${readSize}`);
  }
  if (sizeHint !== undefined && sizeHint <= chunker.max) {
    const whole = blobBuffers.take(sizeHint + 1);
    try {
      // One byte more than lstat said shows whether the file grew since. A first read
      // that ends exactly at that size is the end of the file: asking again to see 0
      // bytes would double the reads of a backup of small files.
      const { bytesRead } = await handle.read(whole, 0, whole.length, 0);
      const length =
        bytesRead === sizeHint
          ? bytesRead
          : bytesRead + (await fill(handle, whole.subarray(bytesRead), bytesRead));
      if (length <= sizeHint) {
        yield* chunkBuffer(whole.subarray(0, length), chunker);
        return;
      }
    } finally {
      blobBuffers.give(whole.buffer as ArrayBuffer);
    }
  }
  yield* chunkStream(handle, chunker, readSize);
}

/** Larger files (or one that grew past its size hint): reads from offset 0 through a recycled working buffer. */
async function* chunkStream(handle: FileHandle, chunker: Chunker, readSize: number): AsyncGenerator<Buffer> {
  const buf = largeFiles.take(chunker.max + readSize);
  try {
    let start = 0;
    let end = 0;
    let position = 0;
    let eof = false;
    for (;;) {
      // Offer cut() every byte we hold: it answers -1 only while fewer than max remain.
      while (start < end) {
        const len = chunker.cut(buf, start, end, eof);
        if (len < 0) break;
        yield buf.subarray(start, start + len);
        start += len;
      }
      if (eof) return;
      buf.copyWithin(0, start, end);
      end -= start;
      start = 0;
      const read = await fill(handle, buf.subarray(end), position);
      eof = end + read < buf.length;
      end += read;
      position += read;
    }
  } finally {
    largeFiles.give(buf.buffer as ArrayBuffer);
  }
}

/** The read buffer chunkFile takes for a file of `size` bytes (for memory budgets). */
export function readBufferSize(chunker: Chunker, size: number, readSize = DEFAULT_READ_SIZE): number {
  return size <= chunker.max ? poolClass(size + 1) : chunker.max + readSize;
}

/** Reads at `position` until `into` is full or the file ends; returns the bytes read. */
async function fill(handle: FileHandle, into: Buffer, position: number): Promise<number> {
  let filled = 0;
  while (filled < into.length) {
    const { bytesRead } = await handle.read(into, filled, into.length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}

/**
 * Buffers in size classes, one pool for the whole process: files read whole (a small
 * file must not take a 12 MiB working buffer: every such allocation counts as external
 * memory and, a few at a time, set off full garbage collections: measured 8x slower on
 * 100 000 small files) and the copies of chunks the packer lends to its workers. One
 * idle budget for both stages (they were 64 and 32 MiB apart) and no buffer freed by
 * one stage while the other allocates the same size: that churn fragmented the heap.
 */
export const blobBuffers = new BufferPool(16 * MiB);

/**
 * Working buffers for large files are recycled too: allocating 12 MiB per file would
 * mean page faults and GC churn. Up to four wait for reuse (the backup reads at most
 * four large files at once), in the 16 MiB size class of 8 MiB max + 4 MiB reads.
 */
const largeFiles = new BufferPool(16 * MiB);
