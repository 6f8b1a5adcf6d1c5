import type { BigIntStats } from 'node:fs';
import { nativeFs } from './native.ts';
import type { Xattr } from './xattrs.ts';

/**
 * lstat and extended attributes of a folder's entries in batches, each one job on the
 * thread pool (the addon's lstatMany). A backup looks at every entry it sees; with one
 * promise per lstat and synchronous xattr calls on the main thread, an unchanged re-run of
 * 10 000 files spent ~140 ms of the main thread on that alone. Without the addon there is
 * no FolderScan and the caller asks Node entry by entry, as before.
 */

/** What the backup reads of an lstat: Node's BigIntStats, or the addon's equivalent. */
export type EntryStat = Pick<
  BigIntStats,
  | 'dev'
  | 'ino'
  | 'mode'
  | 'nlink'
  | 'uid'
  | 'gid'
  | 'rdev'
  | 'size'
  | 'mtimeNs'
  | 'ctimeNs'
  | 'isFile'
  | 'isDirectory'
  | 'isSymbolicLink'
  | 'isFIFO'
  | 'isSocket'
  | 'isCharacterDevice'
  | 'isBlockDevice'
>;

export type ScannedEntry =
  | { stat: EntryStat; xattrs: Xattr[] | undefined; error?: undefined }
  | { error: NodeJS.ErrnoException };

/** Entries per thread-pool job, and jobs started ahead of the entry being processed. */
const BATCH = 64;
const AHEAD = 4;
const FIELDS = 10;

const S_IFMT = 0o170000n;

class NativeStat implements EntryStat {
  readonly dev: bigint;
  readonly ino: bigint;
  readonly mode: bigint;
  readonly nlink: bigint;
  readonly uid: bigint;
  readonly gid: bigint;
  readonly rdev: bigint;
  readonly size: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;

  constructor(f: BigInt64Array, at: number) {
    // Device and inode numbers are unsigned 64-bit; the rest fit either way.
    this.dev = BigInt.asUintN(64, f[at]!);
    this.ino = BigInt.asUintN(64, f[at + 1]!);
    this.mode = f[at + 2]!;
    this.nlink = f[at + 3]!;
    this.uid = f[at + 4]!;
    this.gid = f[at + 5]!;
    this.rdev = BigInt.asUintN(64, f[at + 6]!);
    this.size = f[at + 7]!;
    this.mtimeNs = f[at + 8]!;
    this.ctimeNs = f[at + 9]!;
  }

  #is(type: bigint): boolean {
    return (this.mode & S_IFMT) === type;
  }
  isFile(): boolean {
    return this.#is(0o100000n);
  }
  isDirectory(): boolean {
    return this.#is(0o040000n);
  }
  isSymbolicLink(): boolean {
    return this.#is(0o120000n);
  }
  isFIFO(): boolean {
    return this.#is(0o010000n);
  }
  isSocket(): boolean {
    return this.#is(0o140000n);
  }
  isCharacterDevice(): boolean {
    return this.#is(0o020000n);
  }
  isBlockDevice(): boolean {
    return this.#is(0o060000n);
  }
}

/** "ENOENT: no such file or directory, lstat" as Node's own errors look (code set). */
function errnoError(text: string): NodeJS.ErrnoException {
  const err = new Error(text) as NodeJS.ErrnoException;
  err.code = /^([A-Z0-9]+):/.exec(text)?.[1] ?? 'EUNKNOWN';
  err.syscall = /, (\w+)$/.exec(text)?.[1];
  return err;
}

function scanBatch(dir: Buffer, names: Buffer[]): Promise<ScannedEntry[]> {
  const lstatMany = nativeFs!.lstatMany!;
  return new Promise((resolve, reject) => {
    lstatMany(dir, names, (failure, stats, errors, xattrs) => {
      if (failure !== null) return reject(new Error(failure));
      resolve(
        names.map((_, i): ScannedEntry => {
          const error = errors[i];
          if (error !== undefined) return { error: errnoError(error) };
          const pairs = xattrs[i];
          return {
            stat: new NativeStat(stats, i * FIELDS),
            xattrs: pairs
              ?.map(([name, value]) => ({ name, value }))
              .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
          };
        }),
      );
    });
  });
}

/** One folder's entries, scanned a few batches ahead of the caller, who asks in order. */
export class FolderScan {
  readonly #dir: Buffer;
  readonly #names: Buffer[];
  readonly #batches = new Map<number, Promise<ScannedEntry[]>>();
  #first = 0;

  private constructor(dir: Buffer, names: Buffer[]) {
    this.#dir = dir;
    this.#names = names;
  }

  /** undefined when the addon (or its lstatMany) is missing. */
  static of(dir: Buffer, names: Buffer[]): FolderScan | undefined {
    return nativeFs?.lstatMany ? new FolderScan(dir, names) : undefined;
  }

  /** The `i`-th name's entry; asking for batch b lets go of the batches before it. */
  entry(i: number): Promise<ScannedEntry> {
    const b = Math.floor(i / BATCH);
    for (; this.#first < b; this.#first++) this.#batches.delete(this.#first);
    const last = Math.min(b + AHEAD, Math.ceil(this.#names.length / BATCH));
    for (let k = b; k < last; k++) {
      if (!this.#batches.has(k)) {
        const batch = scanBatch(this.#dir, this.#names.slice(k * BATCH, (k + 1) * BATCH));
        // Batches started ahead may be dropped unread if the caller stops early.
        batch.catch(() => {});
        this.#batches.set(k, batch);
      }
    }
    return this.#batches.get(b)!.then((entries) => entries[i % BATCH]!);
  }
}
