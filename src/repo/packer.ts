import { Semaphore } from '../util/index.ts';
import type { BlobType } from './blob-index.ts';
import { compress } from './compress.ts';
import { hex } from './crypto/seal.ts';
import type { IndexedPack } from './index-file.ts';
import { type FinishedPack, PackBuilder } from './pack.ts';
import { packName, type Repository } from './repository.ts';

export interface PackerStats {
  blobsAdded: number;
  bytesAddedRaw: number;
  bytesAddedStored: number;
  packsWritten: number;
}

/** How many finished packs are written to storage at once; each holds ~16 MiB in memory. */
const UPLOADS_IN_FLIGHT = 2;
/** An index file is written after this many packs, so an interrupted backup keeps its work. */
const PACKS_PER_INDEX = 8;

/**
 * Turns blobs into packs. Deduplicates against the index and against blobs still in
 * flight, compresses on the thread pool, seals, and uploads full packs while the caller
 * keeps chunking. A blob is in the index only after its pack is durably stored.
 */
export class Packer {
  readonly #repo: Repository;
  readonly #builders = new Map<BlobType, PackBuilder>();
  readonly #pending = new Set<string>();
  readonly #uploads = new Semaphore(UPLOADS_IN_FLIGHT);
  readonly #inFlight = new Set<Promise<void>>();
  #unindexed: IndexedPack[] = [];
  #failure: unknown;
  readonly stats: PackerStats = { blobsAdded: 0, bytesAddedRaw: 0, bytesAddedStored: 0, packsWritten: 0 };
  readonly treeStats = { blobsAdded: 0, bytesAddedStored: 0 };

  constructor(repo: Repository) {
    this.#repo = repo;
  }

  /** True when the blob is stored or on its way; such a blob is never written twice. */
  known(id: Buffer): boolean {
    return this.#repo.index.has(id) || this.#pending.has(hex(id));
  }

  /** Adds a blob unless known; resolves once it sits in a pack (not yet uploaded). */
  async add(type: BlobType, id: Buffer, plain: Uint8Array): Promise<boolean> {
    this.#throwIfFailed();
    if (this.known(id)) return false;
    const key = hex(id);
    this.#pending.add(key);
    const packed = await compress(plain, this.#repo.config.compressionLevel);
    const builder = this.#builder(type);
    const entry = builder.add(type, id, packed ?? plain, packed !== null, plain.length);
    this.#count(type, plain.length, entry.length);
    if (builder.size >= this.#repo.config.packSize) await this.#rotate(type);
    return true;
  }

  #count(type: BlobType, raw: number, stored: number): void {
    if (type === 0) {
      this.stats.blobsAdded++;
      this.stats.bytesAddedRaw += raw;
      this.stats.bytesAddedStored += stored;
    } else {
      this.treeStats.blobsAdded++;
      this.treeStats.bytesAddedStored += stored;
    }
  }

  #builder(type: BlobType): PackBuilder {
    let builder = this.#builders.get(type);
    if (!builder) {
      builder = new PackBuilder(this.#repo.keys.encKey);
      this.#builders.set(type, builder);
    }
    return builder;
  }

  async #rotate(type: BlobType): Promise<void> {
    const builder = this.#builders.get(type);
    if (!builder || builder.count === 0) return;
    this.#builders.delete(type);
    const pack = builder.finish();
    await this.#uploads.acquire();
    const upload = this.#upload(pack).finally(() => {
      this.#uploads.release();
      this.#inFlight.delete(upload);
    });
    this.#inFlight.add(upload);
  }

  async #upload(pack: FinishedPack): Promise<void> {
    try {
      await this.#repo.store.put(packName(pack.id), pack.bytes);
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

  async #writeIndex(): Promise<void> {
    if (this.#unindexed.length === 0) return;
    const packs = this.#unindexed;
    this.#unindexed = [];
    await this.#repo.saveIndex(packs);
  }

  /** The storage error that stopped this packer, if any; every later add rethrows it. */
  get failure(): unknown {
    return this.#failure;
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** Writes every open pack and the index; after this, everything added is durable. */
  async flush(): Promise<void> {
    for (const type of [...this.#builders.keys()]) await this.#rotate(type);
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
    this.#throwIfFailed();
    await this.#writeIndex();
  }
}
