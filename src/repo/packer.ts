import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { IntegrityError } from '../errors/index.ts';
import { Semaphore } from '../util/index.ts';
import { BLOB_DATA, type BlobType } from './blob-index.ts';
import { blobBuffers } from './chunker.ts';
import { hex } from './crypto/seal.ts';
import type { IndexedPack } from './index-file.ts';
import type { FinishedPack } from './pack.ts';
import type { PackWorkerConfig, WorkerReply, WorkerRequest } from './pack-worker.ts';
import { packName, type Repository } from './repository.ts';
import { asBuffer, release } from './transfer.ts';
import { workerUrl } from './worker-source.ts';

export interface PackerStats {
  blobsAdded: number;
  bytesAddedRaw: number;
  bytesAddedStored: number;
  packsWritten: number;
}

/**
 * Finished packs waiting for or in upload beyond one per worker; each holds ~17 MiB.
 * Uploads to a local or nearby store finish faster than a worker fills the next pack.
 */
const UPLOADS_IN_FLIGHT = 1;
/** An index file is written after this many packs, so an interrupted backup keeps its work. */
const PACKS_PER_INDEX = 8;

interface Pending {
  resolve: (stored: number) => void;
  reject: (err: Error) => void;
}

/** One worker thread and the replies it still owes. */
class PackWorker {
  readonly worker: Worker;
  readonly waiting = new Map<number, Pending>();
  bytesQueued = 0;

  constructor(
    config: PackWorkerConfig,
    onPack: (pack: FinishedPack) => void,
    onFailure: (err: Error) => void,
    onReturned: (buffer: ArrayBuffer) => void,
  ) {
    this.worker = new Worker(workerUrl(new URL('./pack-worker.ts', import.meta.url)), {
      workerData: config,
    });
    this.worker.on('message', (reply: WorkerReply) => {
      if (reply.op === 'pack') return onPack(restorePack(reply.pack));
      const pending = this.waiting.get(reply.seq);
      this.waiting.delete(reply.seq);
      if (reply.op === 'error') {
        const err = new IntegrityError('PACK_WORKER_FAILED', `packing failed: ${reply.message}`);
        pending?.reject(err);
        return onFailure(err);
      }
      if (reply.op === 'added') onReturned(reply.buffer);
      pending?.resolve(reply.op === 'added' ? reply.stored : 0);
    });
    this.worker.on('error', (err) => this.#failAll(err, onFailure));
    this.worker.on('exit', (code) => {
      if (this.waiting.size > 0) this.#failAll(new Error(`pack worker exited with code ${code}`), onFailure);
    });
  }

  request(message: WorkerRequest, transfer: ArrayBuffer[] = []): Promise<number> {
    return new Promise((resolve, reject) => {
      this.waiting.set(message.seq, { resolve, reject });
      this.worker.postMessage(message, transfer);
    });
  }

  #failAll(err: Error, onFailure: (err: Error) => void): void {
    for (const pending of this.waiting.values()) pending.reject(err);
    this.waiting.clear();
    onFailure(err);
  }
}

/** Structured clone turns Buffers into Uint8Arrays; give them their methods back. */
function restorePack(pack: FinishedPack): FinishedPack {
  return {
    id: asBuffer(pack.id),
    salt: asBuffer(pack.salt),
    bytes: asBuffer(pack.bytes),
    entries: pack.entries.map((e) => ({ ...e, id: asBuffer(e.id) })),
  };
}

/**
 * Turns blobs into packs. The calling thread deduplicates (against the index and blobs
 * still in flight); worker threads compress, seal and assemble packs in parallel; full
 * packs are uploaded while the caller keeps chunking. A blob enters the index only after
 * its pack is durably stored. Workers start on the first add and stop at flush.
 */
export class Packer {
  readonly #repo: Repository;
  readonly #pending = new Set<string>();
  readonly #uploadSlots = new Semaphore(UPLOADS_IN_FLIGHT);
  readonly #uploads = new Set<Promise<void>>();
  /** Blob buffers lent to workers come back to the process-wide pool (see blobBuffers). */
  readonly #buffers = blobBuffers;
  #workers: PackWorker[] = [];
  #seq = 0;
  #unindexed: IndexedPack[] = [];
  #failure: unknown;
  readonly stats: PackerStats = { blobsAdded: 0, bytesAddedRaw: 0, bytesAddedStored: 0, packsWritten: 0 };
  readonly treeStats = { blobsAdded: 0, bytesAddedStored: 0 };

  /** Packs whose blobs count as absent: they are being repacked. */
  readonly #avoid: ReadonlySet<number>;

  constructor(repo: Repository, options: { avoidPacks?: ReadonlySet<number> } = {}) {
    this.#repo = repo;
    this.#avoid = options.avoidPacks ?? new Set();
  }

  /**
   * True when the blob is stored in a live pack or on its way; such a blob is never
   * written twice. A blob only in a condemned pack counts as absent (design.md §11).
   */
  known(id: Buffer): boolean {
    if (this.#pending.has(hex(id))) return true;
    return this.#repo.hasLive(id) && !this.#avoid.has(this.#repo.index.packOf(id));
  }

  /** The error that stopped this packer, if any; every later call rethrows it. */
  get failure(): unknown {
    return this.#failure;
  }

  /**
   * Adds a blob unless known; resolves once it sits in a pack (not yet uploaded).
   * `plain` is copied before this returns its promise, so the caller may reuse it at once.
   */
  add(type: BlobType, id: Buffer, plain: Uint8Array): Promise<boolean> {
    this.#throwIfFailed();
    if (this.known(id)) return Promise.resolve(false);
    this.#pending.add(hex(id));
    // A copy in a recycled buffer of its own moves to the worker without another copy
    // (posting a view would clone its whole ArrayBuffer) and comes back for reuse.
    const data = this.#buffers.take(plain.length);
    data.set(plain);
    return this.#send(type, id, data);
  }

  async #send(type: BlobType, id: Buffer, data: Buffer): Promise<boolean> {
    await this.backpressure();
    const worker = this.#leastBusy();
    const length = data.length;
    worker.bytesQueued += length;
    try {
      const stored = await worker.request({ op: 'add', seq: ++this.#seq, type, id, data }, [
        data.buffer as ArrayBuffer,
      ]);
      this.#count(type, length, stored);
    } finally {
      worker.bytesQueued -= length;
    }
    return true;
  }

  #leastBusy(): PackWorker {
    if (this.#workers.length === 0) this.#start();
    return this.#workers.reduce((a, b) => (b.bytesQueued < a.bytesQueued ? b : a));
  }

  #start(): void {
    const config: PackWorkerConfig = {
      encKey: this.#repo.keys.encKey,
      level: this.#repo.config.compressionLevel,
      packSize: this.#repo.config.packSize,
      maxBlob: this.#repo.config.chunker.max,
    };
    const count = Math.max(1, availableParallelism());
    const fail = (err: Error) => {
      this.#failure ??= err;
    };
    this.#workers = Array.from(
      { length: count },
      () =>
        new PackWorker(
          config,
          (pack) => this.#queueUpload(pack),
          fail,
          (buffer) => this.#buffers.give(buffer),
        ),
    );
  }

  #count(type: BlobType, raw: number, stored: number): void {
    if (type === BLOB_DATA) {
      this.stats.blobsAdded++;
      this.stats.bytesAddedRaw += raw;
      this.stats.bytesAddedStored += stored;
    } else {
      this.treeStats.blobsAdded++;
      this.treeStats.bytesAddedStored += stored;
    }
  }

  #queueUpload(pack: FinishedPack): void {
    const upload = this.#uploadSlots
      .run(() => this.#upload(pack))
      .finally(() => this.#uploads.delete(upload));
    this.#uploads.add(upload);
  }

  async #upload(pack: FinishedPack): Promise<void> {
    try {
      await this.#repo.store.put(packName(pack.id), pack.bytes);
      // ~17 MiB that would otherwise wait for a garbage collection (see release). Only
      // after a put that succeeded: a failed one may still be reading it (a timeout).
      release(pack.bytes);
      const indexed = { id: pack.id, salt: pack.salt, entries: pack.entries };
      this.#repo.addToIndex([indexed]);
      for (const e of pack.entries) this.#pending.delete(hex(e.id));
      this.stats.packsWritten++;
      this.#unindexed.push(indexed);
      if (this.#unindexed.length >= PACKS_PER_INDEX) await this.#writeIndex();
    } catch (err) {
      this.#failure ??= err;
    }
  }

  /**
   * Waits while more packs wait for upload than may be held in memory. Blobs already
   * queued keep the workers busy meanwhile, so at most one more pack per worker lands.
   */
  async backpressure(): Promise<void> {
    while (this.#uploads.size > UPLOADS_IN_FLIGHT) await Promise.race(this.#uploads);
  }

  async #writeIndex(): Promise<void> {
    if (this.#unindexed.length === 0) return;
    const packs = this.#unindexed;
    this.#unindexed = [];
    await this.#repo.saveIndex(packs);
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** Writes every open pack and the index, then stops the workers; all added is durable. */
  async flush(): Promise<void> {
    try {
      await Promise.all(this.#workers.map((w) => w.request({ op: 'flush', seq: ++this.#seq })));
      while (this.#uploads.size > 0) await Promise.all([...this.#uploads]);
      this.#throwIfFailed();
      await this.#writeIndex();
    } finally {
      await this.close();
    }
  }

  /** Stops the workers without writing anything more (after a failure). */
  async close(): Promise<void> {
    const workers = this.#workers;
    this.#workers = [];
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }
}
