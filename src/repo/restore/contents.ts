import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { IntegrityError } from '../../errors/index.ts';
import { Semaphore } from '../../util/index.ts';
import { BLOB_DATA, type BlobLocation } from '../blob-index.ts';
import type { Repository } from '../repository.ts';
import { release } from '../transfer.ts';
import type { TreeNode } from '../tree.ts';
import { BlobOpeners } from './blob-openers.ts';
import { writeSparse } from './sparse.ts';

/** A regular file to fill: its blobs arrive in pack order, not file order. */
export interface FileTarget {
  /** Where the contents are written. */
  path: Buffer;
  node: TreeNode;
  /** When the file replaces one: its name, which `path` (a temporary name beside it) takes once complete. */
  final?: Buffer;
}

/** What the caller learns about each file. */
export interface ContentEvents {
  /** The file was created; `handle` is open, before any content is written. */
  create(path: Buffer): Promise<FileHandle>;
  /** Every byte is written; metadata may go on the still-open descriptor. */
  finished(target: FileTarget, handle: FileHandle): Promise<void>;
  failed(target: FileTarget, err: unknown): void;
  wrote(bytes: number): void;
}

/** One place a blob goes. */
interface Use {
  file: FileState;
  position: number;
}

interface PlannedBlob {
  id: Buffer;
  loc: BlobLocation;
  uses: Use[];
}

interface FileState {
  target: FileTarget;
  /** Blob writes still to come (a blob used twice in a file counts twice). */
  remaining: number;
  /** Where the last blob starts: a hole written there means the size must be set. */
  lastPosition: number;
  endsInHole: boolean;
  handle?: FileHandle;
  opening?: Promise<FileHandle>;
  /** Created already: a later open (after its descriptor was closed) must not replace it. */
  created: boolean;
  /** Writes started and not yet finished; the file closes only when none are left. */
  writing: number;
  error?: unknown;
}

/** Packs read and opened at once: one with the worker and one being read or written out. */
const PACKS_IN_FLIGHT = 2;
/** Blob writes in flight across all files: enough to keep the thread pool busy. */
const WRITES_IN_FLIGHT = 16;
/** Blobs nearer than this in a pack are read with one request (the gap is read and dropped). */
const MAX_GAP = 256 * 1024;
/**
 * Longest single read. A run's plaintext (up to ~3× its stored bytes) is held until its
 * blobs are written: with whole 16 MiB packs as runs that was up to ~100 MiB of the
 * restore's peak. 4 MiB runs measured ~30 MiB less than 8 MiB ones, and no slower.
 */
const MAX_RUN = 4 * 1024 * 1024;
/** Open descriptors of half-written files; beyond this the least recent is closed. */
const MAX_OPEN = 128;

const REOPEN = constants.O_WRONLY | constants.O_NOFOLLOW;

/**
 * Writes the contents of many files, planned by pack: each pack is read once in long
 * runs, each blob is authenticated, decompressed and checked once, and written to every
 * place in every file that holds it. Files are written out of order and finished
 * (metadata, close) as soon as their last blob lands. Per-blob reads of the pack file
 * (open, read, close for every blob, as a file-by-file restore does) were the largest
 * cost of restoring many small files.
 */
export async function writeContents(
  repo: Repository,
  targets: readonly FileTarget[],
  events: ContentEvents,
  options: { maxOpen?: number } = {},
): Promise<void> {
  const writer = new ContentWriter(repo, events, options.maxOpen ?? MAX_OPEN);
  try {
    const packs = writer.plan(targets);
    await writer.finishEmpty();
    const slots = new Semaphore(PACKS_IN_FLIGHT);
    await Promise.all([...packs].map(([packIndex, blobs]) => slots.run(() => writer.pack(packIndex, blobs))));
    await writer.drain();
  } finally {
    await writer.close();
  }
}

class ContentWriter {
  readonly #repo: Repository;
  readonly #events: ContentEvents;
  readonly #writes = new Semaphore(WRITES_IN_FLIGHT);
  /** Files holding a descriptor, least recently used first (a Set keeps insertion order). */
  readonly #open = new Set<FileState>();
  readonly #empty: FileState[] = [];
  /** Writes, metadata and closes still running. */
  readonly #running = new Set<Promise<void>>();
  /** The first unexpected failure of running work (a bug, not a file's error): drain rethrows it. */
  #broken: { err: unknown } | undefined;

  readonly #maxOpen: number;
  readonly #openers: BlobOpeners;

  constructor(repo: Repository, events: ContentEvents, maxOpen: number) {
    this.#repo = repo;
    this.#events = events;
    this.#maxOpen = maxOpen;
    this.#openers = new BlobOpeners(repo);
  }

  close(): Promise<void> {
    return this.#openers.close();
  }

  /** Blobs by pack (in index order), each with every place it goes. */
  plan(targets: readonly FileTarget[]): Map<number, Map<number, PlannedBlob>> {
    const packs = new Map<number, Map<number, PlannedBlob>>();
    for (const target of targets) {
      const file = this.#planFile(target, packs);
      if (file && file.remaining === 0) this.#empty.push(file);
    }
    return new Map([...packs].sort((a, b) => a[0] - b[0]));
  }

  #planFile(target: FileTarget, packs: Map<number, Map<number, PlannedBlob>>): FileState | undefined {
    const file: FileState = {
      target,
      remaining: 0,
      lastPosition: 0,
      endsInHole: false,
      writing: 0,
      created: false,
    };
    const uses: { id: Buffer; loc: BlobLocation; position: number }[] = [];
    let position = 0;
    try {
      for (const id of target.node.content ?? []) {
        const loc = this.#repo.locate(id, BLOB_DATA);
        uses.push({ id, loc, position });
        position += loc.rawLength;
      }
      if (position !== target.node.size) {
        throw new IntegrityError(
          'SIZE_MISMATCH',
          `the snapshot records ${target.node.size} bytes but its blobs hold ${position}`,
        );
      }
    } catch (err) {
      this.#events.failed(target, err);
      return undefined;
    }
    file.remaining = uses.length;
    file.lastPosition = uses.at(-1)?.position ?? 0;
    for (const { id, loc, position } of uses) {
      const blobs = packs.get(loc.packIndex) ?? new Map<number, PlannedBlob>();
      packs.set(loc.packIndex, blobs);
      const blob = blobs.get(loc.offset) ?? { id, loc, uses: [] };
      blobs.set(loc.offset, blob);
      blob.uses.push({ file, position });
    }
    return file;
  }

  /** Empty files have no blob to wait for. */
  async finishEmpty(): Promise<void> {
    for (const file of this.#empty) {
      try {
        file.handle = await this.#events.create(file.target.path);
      } catch (err) {
        this.#fail(file, err);
        continue;
      }
      await this.#finish(file);
    }
  }

  async pack(packIndex: number, blobs: Map<number, PlannedBlob>): Promise<void> {
    const where = this.#repo.packObject(packIndex);
    const sorted = [...blobs.values()].sort((a, b) => a.loc.offset - b.loc.offset);
    for (const run of runs(sorted)) {
      const live = run.filter((b) => b.uses.some((u) => u.file.error === undefined));
      if (live.length === 0) continue;
      const start = live[0]!.loc.offset;
      const end = live.at(-1)!.loc.offset + live.at(-1)!.loc.length;
      let bytes: Buffer;
      try {
        bytes = await this.#repo.store.get(where, { offset: start, length: end - start });
      } catch (err) {
        for (const blob of live) this.#failUses(blob, err);
        continue;
      }
      let plains: (Buffer | Error)[];
      try {
        plains = await this.#openers.open(packIndex, where, bytes, start, live);
      } catch (err) {
        for (const blob of live) this.#failUses(blob, err);
        continue;
      }
      for (const [i, blob] of live.entries()) await this.#blob(blob, plains[i]!);
    }
  }

  async #blob(blob: PlannedBlob, plain: Buffer | Error): Promise<void> {
    if (plain instanceof Error) {
      this.#failUses(blob, plain);
      return;
    }
    // The plaintext came from a worker and is this blob's alone: once the last write
    // of it is done it is freed at once, not at the next garbage collection.
    let writing = 1;
    const done = () => {
      if (--writing === 0) release(plain);
    };
    for (const use of blob.uses) {
      if (use.file.error !== undefined) continue;
      await this.#writes.acquire();
      use.file.writing++;
      writing++;
      this.#track(
        this.#write(use, plain).finally(() => {
          this.#writes.release();
          done();
        }),
      );
    }
    done();
  }

  async #write(use: Use, plain: Buffer): Promise<void> {
    const file = use.file;
    try {
      const handle = await this.#handle(file);
      const wroteEnd = await writeSparse(handle, plain, use.position);
      if (use.position === file.lastPosition) file.endsInHole = !wroteEnd;
      this.#events.wrote(plain.length);
    } catch (err) {
      this.#fail(file, err);
    }
    file.writing--;
    file.remaining--;
    if (file.error !== undefined) return this.#closeIfIdle(file);
    if (file.remaining > 0) return;
    // Out of the eviction list before anything awaits: its descriptor is needed to the end.
    this.#open.delete(file);
    await this.#finish(file);
  }

  #track(work: Promise<void>): void {
    this.#running.add(work);
    work.then(
      () => this.#running.delete(work),
      (err: unknown) => {
        this.#running.delete(work);
        this.#broken ??= { err };
      },
    );
  }

  /** A close can report a failed write-back (e.g. on a network file system). */
  async #close(file: FileState, handle: FileHandle): Promise<void> {
    try {
      await handle.close();
    } catch (err) {
      this.#fail(file, err);
    }
  }

  /** The file's descriptor: created on its first blob, reopened if it was closed to save descriptors. */
  async #handle(file: FileState): Promise<FileHandle> {
    if (file.handle) {
      this.#open.delete(file);
      this.#open.add(file);
      return file.handle;
    }
    file.opening ??= file.created ? open(file.target.path, REOPEN) : this.#events.create(file.target.path);
    const handle = await file.opening;
    file.opening = undefined;
    file.created = true;
    file.handle = handle;
    this.#open.add(file);
    this.#evict();
    return handle;
  }

  #evict(): void {
    for (const file of this.#open) {
      if (this.#open.size <= this.#maxOpen) return;
      this.#closeIfIdle(file);
    }
  }

  async #finish(file: FileState): Promise<void> {
    const handle = file.handle!;
    file.handle = undefined;
    try {
      // Only a file that ends in a hole needs its size set; the rest got it from writing.
      if (file.endsInHole) await handle.truncate(file.target.node.size);
      await this.#events.finished(file.target, handle);
    } catch (err) {
      this.#fail(file, err);
    } finally {
      await this.#close(file, handle);
    }
  }

  #failUses(blob: PlannedBlob, err: unknown): void {
    for (const use of blob.uses) {
      this.#fail(use.file, err);
      this.#closeIfIdle(use.file);
    }
  }

  #fail(file: FileState, err: unknown): void {
    if (file.error !== undefined) return;
    file.error = err;
    this.#events.failed(file.target, err);
  }

  #closeIfIdle(file: FileState): void {
    if (file.writing > 0 || !file.handle) return;
    this.#open.delete(file);
    const handle = file.handle;
    file.handle = undefined;
    this.#track(this.#close(file, handle));
  }

  /** Waits for every write, metadata and close still running. */
  async drain(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
    if (this.#broken) throw this.#broken.err;
  }
}

/** Blobs sorted by offset, grouped into runs that one read covers. */
function* runs(sorted: PlannedBlob[]): Generator<PlannedBlob[]> {
  let run: PlannedBlob[] = [];
  for (const blob of sorted) {
    const first = run[0];
    const last = run.at(-1);
    if (
      first &&
      last &&
      (blob.loc.offset - (last.loc.offset + last.loc.length) > MAX_GAP ||
        blob.loc.offset + blob.loc.length - first.loc.offset > MAX_RUN)
    ) {
      yield run;
      run = [];
    }
    run.push(blob);
  }
  if (run.length > 0) yield run;
}
