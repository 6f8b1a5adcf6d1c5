import { createHash, createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { ConflictError, IntegrityError, NotFoundError } from '../errors/index.ts';
import type { BlobStore } from '../storage/index.ts';
import { Semaphore } from '../util/index.ts';
import { BLOB_TREE, BlobIndex, type BlobLocation, type BlobType } from './blob-index.ts';
import { checkedPlain, unseal } from './blob-open.ts';
import type { DiskCache } from './cache.ts';
import { Chunker, gearTable } from './chunker.ts';
import { compress, decompress } from './compress.ts';
import { readCondemned } from './condemned.ts';
import { decodeConfig, newConfig, type RepoConfig } from './config.ts';
import { checkPassphraseStrength, type KdfParams } from './crypto/kdf.ts';
import { keysFromMaster, newMasterSecret, type RepoKeys } from './crypto/keys.ts';
import { hex, openFile, packKey, sealFile } from './crypto/seal.ts';
import { decodeIndex, encodeIndex, type IndexedPack, type IndexFile } from './index-file.ts';
import { addKeySlot, type KeySlot, unlock } from './keyring.ts';
import { decodeTree, type TreeNode } from './tree.ts';

const PACK_NAME = /^data\/([0-9a-f]{2})\/\1[0-9a-f]{62}$/;

/** Only objects named like packs are packs; anything else in data/ is left alone. */
export function isPackName(name: string): boolean {
  return PACK_NAME.test(name);
}

export function packName(id: Uint8Array): string {
  const h = hex(id);
  return `data/${h.slice(0, 2)}/${h}`;
}

/** Sealed files stored under their content hash, and the folder of each type. */
export type StoredFileType = 'index' | 'snapshot' | 'session' | 'gc';
const FILE_DIRS: Record<StoredFileType, string> = {
  index: 'index',
  snapshot: 'snapshots',
  session: 'sessions',
  gc: 'gc',
};

/**
 * An open repository: its keys, parameters and in-memory index. Reading and writing of
 * sealed files and blobs goes through here so that every read is verified the same way.
 */
export class Repository {
  readonly store: BlobStore;
  readonly config: RepoConfig;
  readonly keys: RepoKeys;
  readonly slot: KeySlot;
  /** Replaced whole by every loadIndex, so a reload never mixes old and new state. */
  index = new BlobIndex();
  /** A local cache of index files, snapshots and trees (remote repositories); optional. */
  cache: DiskCache | undefined;
  /** Pack ordinals (in `index`) of condemned packs: a backup must not rely on them. */
  condemnedOrdinals = new Set<number>();
  readonly chunker: Chunker;
  /** Index files loaded (hex ids), so compaction knows what it may supersede. */
  indexFiles = new Set<string>();
  readonly #packKeys = new Map<number, KeyObject>();
  /** The blob-id key as a KeyObject: an HMAC per blob then skips preparing the key (3x faster on small blobs). */
  readonly #idKey: KeyObject;
  readonly #trees = new Map<string, TreeNode[]>();

  private constructor(store: BlobStore, config: RepoConfig, keys: RepoKeys, slot: KeySlot) {
    this.store = store;
    this.config = config;
    this.keys = keys;
    this.#idKey = createSecretKey(keys.idKey);
    this.slot = slot;
    this.chunker = new Chunker(gearTable(keys.chunkerSecret), config.chunker);
  }

  static async init(
    store: BlobStore,
    passphrase: string,
    options: { kdf?: KdfParams; config?: Parameters<typeof newConfig>[0] } = {},
  ): Promise<Repository> {
    checkPassphraseStrength(passphrase);
    if ((await store.head('config')) !== null) {
      throw new ConflictError('REPO_EXISTS', `a repository already exists at ${store.location}`, {
        hint: 'use it as it is, or choose another location',
      });
    }
    const master = newMasterSecret();
    const keys = keysFromMaster(master);
    const config = newConfig(options.config);
    const slot = await addKeySlot(store, master, passphrase, options.kdf ? { kdf: options.kdf } : {});
    // config last: a repository "exists" only once it is complete.
    await store.put('config', sealFile(keys.encKey, 'config', Buffer.from(JSON.stringify(config))));
    return new Repository(store, config, keys, slot);
  }

  static async open(store: BlobStore, passphrase: string): Promise<Repository> {
    if ((await store.head('config')) === null) {
      throw new NotFoundError('REPO_NOT_FOUND', `there is no Offsite repository at ${store.location}`, {
        hint: 'check --repo / OFFSITE_REPOSITORY, or create one with `offsite init`',
      });
    }
    const { master, slot } = await unlock(store, passphrase);
    const keys = keysFromMaster(master);
    const sealed = await store.get('config');
    const config = decodeConfig(openFile(keys.encKey, 'config', sealed, 'config'));
    return new Repository(store, config, keys, slot);
  }

  blobId(data: Uint8Array): Buffer {
    return createHmac('sha256', this.#idKey).update(data).digest();
  }

  /** Compresses, seals and stores a file object under its content hash; returns the hex id. */
  async saveFile(type: StoredFileType, body: Buffer): Promise<string> {
    const packed = await compress(body, this.config.compressionLevel);
    const framed = Buffer.concat([Buffer.from([packed ? 1 : 0]), packed ?? body]);
    const sealed = sealFile(this.keys.encKey, type, framed);
    const id = createHash('sha256').update(sealed).digest('hex');
    await this.store.put(`${FILE_DIRS[type]}/${id}`, sealed);
    return id;
  }

  /**
   * Reads a file object, checking its name (hash), authenticity and framing. Index files
   * and snapshots come from the cache when it has them; an entry that fails a check is
   * dropped and read from the store again.
   */
  async loadFile(type: StoredFileType, id: string): Promise<Buffer> {
    const kind = type === 'index' || type === 'snapshot' ? type : undefined;
    const cached = kind && (await this.cache?.get(kind, id));
    if (cached) {
      try {
        return await this.#openFile(type, id, cached);
      } catch {
        await this.cache?.drop(kind, id);
      }
    }
    const sealed = await this.store.get(`${FILE_DIRS[type]}/${id}`);
    const body = await this.#openFile(type, id, sealed);
    if (kind) await this.cache?.put(kind, id, sealed);
    return body;
  }

  async #openFile(type: StoredFileType, id: string, sealed: Buffer): Promise<Buffer> {
    const name = `${FILE_DIRS[type]}/${id}`;
    if (createHash('sha256').update(sealed).digest('hex') !== id) {
      throw new IntegrityError('HASH_MISMATCH', `${name} does not match its name: the object is damaged`, {
        object: name,
        hint: 'run `offsite check --read-data` to see every damaged object',
      });
    }
    const framed = openFile(this.keys.encKey, type, sealed, name);
    if (framed[0] === 0) return framed.subarray(1);
    if (framed[0] !== 1)
      throw new IntegrityError('CORRUPT_OBJECT', `${name}: unknown compression`, { object: name });
    return decompress(framed.subarray(1), undefined, name);
  }

  async listFiles(type: StoredFileType): Promise<string[]> {
    const prefix = `${FILE_DIRS[type]}/`;
    const ids: string[] = [];
    for await (const object of this.store.list(prefix)) ids.push(object.name.slice(prefix.length));
    return ids.sort();
  }

  /**
   * Loads every index file afresh; superseded ones are skipped, and packs that prune or
   * the vault has condemned go last (a damaged marker is passed over, never fatal), so a
   * blob that also lives in a live pack resolves there. A prune may replace index files
   * while they are read: then the load starts over.
   */
  async loadIndex(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#loadIndexOnce();
      } catch (err) {
        if (!(err instanceof NotFoundError) || attempt >= 5) throw err;
      }
    }
  }

  /** Every index file that no other supersedes, decoded. */
  async readIndexFiles(): Promise<{ id: string; file: IndexFile }[]> {
    const ids = await this.listFiles('index');
    const limit = new Semaphore(16);
    const files = await Promise.all(
      ids.map((id) =>
        limit.run(async () => ({ id, file: decodeIndex(await this.loadFile('index', id), `index/${id}`) })),
      ),
    );
    const superseded = new Set(files.flatMap((f) => f.file.supersedes.map((s) => s.toString('hex'))));
    return files.filter((f) => !superseded.has(f.id));
  }

  async #loadIndexOnce(): Promise<void> {
    const condemned = (await readCondemned(this)).packs;
    const kept = await this.readIndexFiles();
    const packs = kept.flatMap((f) => f.file.packs);
    const isCondemned = (p: IndexedPack) => condemned.has(hex(p.id));
    this.index = new BlobIndex();
    this.index.reserve(packs.reduce((n, p) => n + p.entries.length, 0));
    this.indexFiles = new Set(kept.map((f) => f.id));
    this.#packKeys.clear();
    this.addToIndex(packs.filter((p) => !isCondemned(p)));
    this.addToIndex(packs.filter(isCondemned));
    this.condemnedOrdinals = new Set(packs.filter(isCondemned).map((p) => this.index.findPack(p.id)!));
  }

  /** True when the blob is indexed in a pack that is not condemned. */
  hasLive(id: Uint8Array): boolean {
    const pack = this.index.packOf(id);
    return pack >= 0 && !this.condemnedOrdinals.has(pack);
  }

  /**
   * A blob already indexed keeps its location, unless that pack is condemned: then the
   * blob was stored again (it counted as absent) and the new copy is the one a recovery
   * point may name — the condemned pack is about to be deleted.
   */
  addToIndex(packs: readonly IndexedPack[]): void {
    for (const pack of packs) {
      const ordinal = this.index.addPack(pack.id, pack.salt);
      for (const e of pack.entries) {
        const loc = {
          packIndex: ordinal,
          offset: e.offset,
          length: e.length,
          rawLength: e.rawLength,
          type: e.type as BlobType,
          compressed: e.compressed,
        };
        if (!this.index.add(e.id, loc) && this.#inCondemnedPack(e.id, ordinal)) this.index.move(e.id, loc);
      }
    }
  }

  #inCondemnedPack(id: Uint8Array, newPack: number): boolean {
    return !this.condemnedOrdinals.has(newPack) && this.condemnedOrdinals.has(this.index.packOf(id));
  }

  async saveIndex(packs: IndexedPack[], supersedes: Buffer[] = []): Promise<string> {
    const id = await this.saveFile('index', encodeIndex({ packs, supersedes }));
    this.indexFiles.add(id);
    return id;
  }

  #packKey(ordinal: number): KeyObject {
    let key = this.#packKeys.get(ordinal);
    if (!key) {
      key = packKey(this.keys.encKey, this.index.packSalt(ordinal));
      this.#packKeys.set(ordinal, key);
    }
    return key;
  }

  /** Where a blob is stored; a blob absent from the index (or of another type) is an error. */
  locate(id: Buffer, type: BlobType): BlobLocation {
    const loc = this.index.get(id);
    if (!loc || loc.type !== type) {
      throw new IntegrityError(
        'BLOB_MISSING',
        `blob ${hex(id)} is not in the index: the repository is missing data`,
        {
          object: `blob ${hex(id)}`,
          hint: 'run `offsite check` to see what is missing',
        },
      );
    }
    return loc;
  }

  /** The storage name of the pack with this ordinal in the index. */
  packObject(packIndex: number): string {
    return packName(this.index.packId(packIndex));
  }

  /** Reads one blob by range, authenticates, decompresses and checks its id. */
  async loadBlob(id: Buffer, type: BlobType): Promise<Buffer> {
    const loc = this.locate(id, type);
    const sealed = await this.store.get(this.packObject(loc.packIndex), {
      offset: loc.offset,
      length: loc.length,
    });
    return this.#openBlob(id, loc, sealed);
  }

  async #openBlob(id: Buffer, loc: BlobLocation, sealed: Buffer): Promise<Buffer> {
    const where = this.packObject(loc.packIndex);
    const stored = unseal(this.#packKey(loc.packIndex), id, loc, sealed, where);
    const plain = loc.compressed ? await decompress(stored, loc.rawLength, where) : stored;
    return checkedPlain(plain, id, loc, where, (data) => this.blobId(data));
  }

  /** A tree blob, from the cache when it has it (checked all the same). */
  async #loadTreeBlob(id: Buffer): Promise<Buffer> {
    const loc = this.locate(id, BLOB_TREE);
    const key = hex(id);
    const cached = await this.cache?.get('tree', key);
    if (cached) {
      try {
        return await this.#openBlob(id, loc, cached);
      } catch {
        await this.cache?.drop('tree', key);
      }
    }
    const sealed = await this.store.get(this.packObject(loc.packIndex), {
      offset: loc.offset,
      length: loc.length,
    });
    const plain = await this.#openBlob(id, loc, sealed);
    await this.cache?.put('tree', key, sealed);
    return plain;
  }

  async loadTree(id: Buffer): Promise<TreeNode[]> {
    const key = hex(id);
    const cached = this.#trees.get(key);
    if (cached) return cached;
    const nodes = decodeTree(await this.#loadTreeBlob(id), `tree ${key}`);
    if (this.#trees.size > 4096) this.#trees.clear();
    this.#trees.set(key, nodes);
    return nodes;
  }
}
