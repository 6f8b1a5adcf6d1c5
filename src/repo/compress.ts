import { promisify } from 'node:util';
import {
  constants,
  createZstdCompress,
  zstdCompress,
  zstdCompressSync,
  zstdDecompress,
  zstdDecompressSync,
} from 'node:zlib';
import { IntegrityError } from '../errors/index.ts';

const compressAsync = promisify(zstdCompress);
const decompressAsync = promisify(zstdDecompress);

/** Too small to win anything once zstd's frame header is paid. */
const MIN_COMPRESS = 64;

/**
 * Below this, the thread pool costs more than it overlaps: measured per call, 2 KB /
 * 20 KB / 100 KB took 30 / 70 / 190 µs of CPU to decompress through the pool and 8 / 18 /
 * 52 µs in place (compress: 64 / 106 / 136 against 10 / 20 / 16 µs). Tree blobs, read
 * by the thousand on every backup, are that small.
 */
const IN_PLACE_BELOW = 256 * 1024;

/**
 * zstd on the libuv thread pool, so compression overlaps hashing on the main thread.
 * Returns null when compression does not shrink the data: the blob is then stored raw.
 */
export async function compress(data: Uint8Array, level: number): Promise<Buffer | null> {
  if (data.length < MIN_COMPRESS) return null;
  if (data.length < IN_PLACE_BELOW) return compressSync(data, level);
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

/** The native side of a zstd stream (Node's zlib binding; not a public API). */
interface ZstdHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inOff: number,
    inLen: number,
    out: Uint8Array,
    outOff: number,
    outLen: number,
  ): void;
  reset(): void;
}

/**
 * One zstd context and one output buffer for many blobs, for a pack worker: the one-shot
 * `zstdCompressSync` allocates a context (~3 MiB at level 3) and an output buffer the
 * size of the input for every blob, and that churn kept tens of MiB of each worker's
 * malloc arena resident. This drives the stream's native handle directly, one whole
 * frame per call, into a buffer owned here; where that handle is not what is expected
 * (another Node version) it falls back to `compressSync`.
 */
export class BlobCompressor {
  readonly #level: number;
  readonly #out: Buffer;
  readonly #handle: ZstdHandle | undefined;
  readonly #state: Uint32Array | undefined;
  readonly #stream: ReturnType<typeof createZstdCompress>;
  #failed: unknown;

  /** `maxInput`: the largest blob to compress through the shared buffer. */
  constructor(level: number, maxInput: number) {
    this.#level = level;
    this.#out = Buffer.allocUnsafeSlow(maxInput);
    const stream = createZstdCompress({ params: { [constants.ZSTD_c_compressionLevel]: level } });
    this.#stream = stream;
    stream.on('error', (err) => {
      this.#failed = err;
    });
    const internals = stream as unknown as { _handle?: Partial<ZstdHandle>; _writeState?: unknown };
    const handle = internals._handle;
    const usable =
      typeof handle?.writeSync === 'function' &&
      typeof handle.reset === 'function' &&
      internals._writeState instanceof Uint32Array;
    this.#handle = usable ? (handle as ZstdHandle) : undefined;
    this.#state = usable ? (internals._writeState as Uint32Array) : undefined;
  }

  /**
   * The compressed frame, or null when compression does not shrink the data. The
   * result is a view of a buffer reused by the next call: copy or seal it before then.
   */
  compress(data: Uint8Array): Buffer | null {
    if (data.length < MIN_COMPRESS) return null;
    const handle = this.#handle;
    if (!handle || this.#failed !== undefined || data.length > this.#out.length) {
      return compressSync(data, this.#level);
    }
    // Room for one byte less than the input: a frame that does not fit is no gain.
    const room = data.length - 1;
    handle.writeSync(constants.ZSTD_e_end, data, 0, data.length, this.#out, 0, room);
    // A native error destroys the stream at once (its 'error' event comes a tick later).
    if (this.#stream.destroyed) {
      this.#failed ??= new Error('zstd stream failed');
      return compressSync(data, this.#level);
    }
    const availOut = this.#state![0]!;
    const availIn = this.#state![1]!;
    // With output room left, ZSTD_e_end has consumed all input and closed the frame;
    // otherwise the frame is unfinished: drop it and start the next one clean.
    if (availOut > 0 && availIn === 0) return this.#out.subarray(0, room - availOut);
    handle.reset();
    return null;
  }
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
  // A sealed file's length is not recorded: judge by the frame, which zstd shrinks ~3-4x.
  const small = rawLength === undefined ? data.length < IN_PLACE_BELOW / 4 : rawLength < IN_PLACE_BELOW;
  if (small) return decompressSync(data, rawLength, where);
  try {
    const out = await decompressAsync(data, decompressOptions(rawLength));
    if (rawLength === undefined || out.length === rawLength) return out;
  } catch {
    // reported below
  }
  throw damaged(where);
}

/** The same, synchronously: for restore workers, which are threads of their own. */
export function decompressSync(data: Uint8Array, rawLength: number | undefined, where: string): Buffer {
  try {
    const out = zstdDecompressSync(data, decompressOptions(rawLength));
    if (rawLength === undefined || out.length === rawLength) return out;
  } catch {
    // reported below
  }
  throw damaged(where);
}
