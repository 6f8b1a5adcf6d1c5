import { promisify } from 'node:util';
import { constants, zstdCompress, zstdCompressSync, zstdDecompress, zstdDecompressSync } from 'node:zlib';
import { IntegrityError } from '../errors/index.ts';

const compressAsync = promisify(zstdCompress);
const decompressAsync = promisify(zstdDecompress);

/** Too small to win anything once zstd's frame header is paid. */
const MIN_COMPRESS = 64;

/**
 * zstd on the libuv thread pool, so compression overlaps hashing on the main thread.
 * Returns null when compression does not shrink the data: the blob is then stored raw.
 */
export async function compress(data: Uint8Array, level: number): Promise<Buffer | null> {
  if (data.length < MIN_COMPRESS) return null;
  // One output buffer that fits the worst case: the default 16 KiB pieces cost a
  // callback, an allocation and a concat each, which showed up as a third of all CPU.
  const chunkSize = data.length + (data.length >> 7) + 1024;
  const out = await compressAsync(data, {
    chunkSize,
    params: { [constants.ZSTD_c_compressionLevel]: level },
  });
  return out.length < data.length ? out : null;
}

/** Sealed files (indexes, snapshots) have no recorded length; this bounds them. */
const MAX_FILE_BYTES = 1 << 30;

/**
 * The same, synchronously: for pack workers, which are threads of their own. The async
 * form costs the calling thread about twice the compression work in stream set-up.
 */
export function compressSync(data: Uint8Array, level: number): Buffer | null {
  if (data.length < MIN_COMPRESS) return null;
  const chunkSize = data.length + (data.length >> 7) + 1024;
  const out = zstdCompressSync(data, { chunkSize, params: { [constants.ZSTD_c_compressionLevel]: level } });
  return out.length < data.length ? out : null;
}

/**
 * Output limits for a blob of `rawLength` bytes (undefined: any length up to
 * MAX_FILE_BYTES). The bound stops a hostile frame from expanding without limit; one
 * byte of room spares zlib a second output buffer (of the same size) that it would
 * allocate only to learn that nothing more comes.
 */
function decompressOptions(rawLength: number | undefined): { maxOutputLength: number; chunkSize: number } {
  if (rawLength === undefined) return { maxOutputLength: MAX_FILE_BYTES, chunkSize: 1024 * 1024 };
  return { maxOutputLength: Math.max(rawLength, 1), chunkSize: Math.max(rawLength + 1, 64) };
}

function damaged(where: string): IntegrityError {
  return new IntegrityError('CORRUPT_BLOB', `${where}: compressed data is damaged`, { object: where });
}

/** `rawLength` undefined: any length up to MAX_FILE_BYTES is accepted. */
export async function decompress(
  data: Uint8Array,
  rawLength: number | undefined,
  where: string,
): Promise<Buffer> {
  try {
    const out = await decompressAsync(data, decompressOptions(rawLength));
    if (rawLength === undefined || out.length === rawLength) return out;
  } catch {
    // reported below
  }
  throw damaged(where);
}

/** The same, synchronously: for restore workers, which are threads of their own. */
export function decompressSync(data: Uint8Array, rawLength: number, where: string): Buffer {
  try {
    const out = zstdDecompressSync(data, decompressOptions(rawLength));
    if (out.length === rawLength) return out;
  } catch {
    // reported below
  }
  throw damaged(where);
}
