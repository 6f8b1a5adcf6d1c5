import { createHash } from 'node:crypto';
import { Semaphore } from '../util/index.ts';
import { BLOB_DATA, BLOB_TREE } from './blob-index.ts';
import { decompress } from './compress.ts';
import { hex, openBlob, packKey } from './crypto/seal.ts';
import { decodeIndex, type IndexedPack } from './index-file.ts';
import { listKeySlots } from './keyring.ts';
import { expectedPackSize, parsePack } from './pack.ts';
import { packName, type Repository } from './repository.ts';
import { decodeSnapshot } from './snapshot.ts';
import { printableName } from './tree.ts';

export interface CheckProblem {
  /** The damaged or missing storage object (or blob), by name. */
  object: string;
  message: string;
}

export interface CheckResult {
  problems: CheckProblem[];
  snapshots: number;
  trees: number;
  packs: number;
  packsRead: number;
  blobsRead: number;
}

export interface CheckOptions {
  readData?: boolean;
  onPack?: (done: number, total: number) => void;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Verifies a repository and reports every problem rather than stopping at the first:
 * keys, index files, packs present with the right size, snapshots, every tree reachable
 * from them and every blob those trees need; with readData, every pack's bytes, header
 * and blobs are read and authenticated too.
 */
class Checker {
  readonly repo: Repository;
  readonly result: CheckResult = {
    problems: [],
    snapshots: 0,
    trees: 0,
    packs: 0,
    packsRead: 0,
    blobsRead: 0,
  };
  readonly packs = new Map<string, IndexedPack>();

  constructor(repo: Repository) {
    this.repo = repo;
  }

  problem(object: string, message: string): void {
    this.result.problems.push({ object, message });
  }

  async keys(): Promise<void> {
    try {
      await listKeySlots(this.repo.store);
    } catch (err) {
      this.problem('keys/', describe(err));
    }
  }

  async indexes(): Promise<void> {
    for (const id of await this.repo.listFiles('index')) {
      try {
        const file = decodeIndex(await this.repo.loadFile('index', id), `index/${id}`);
        for (const pack of file.packs) this.packs.set(hex(pack.id), pack);
        this.repo.addToIndex(file.packs);
      } catch (err) {
        this.problem(`index/${id}`, describe(err));
      }
    }
  }

  async packFiles(): Promise<Map<string, number>> {
    const stored = new Map<string, number>();
    for await (const object of this.repo.store.list('data/')) stored.set(object.name, object.size);
    for (const [id, pack] of this.packs) {
      const name = packName(pack.id);
      const size = stored.get(name);
      if (size === undefined)
        this.problem(name, `pack ${id} is listed in the index but missing from storage`);
      else if (size !== expectedPackSize(pack.entries))
        this.problem(name, `pack has ${size} bytes, the index implies ${expectedPackSize(pack.entries)}`);
    }
    for (const name of stored.keys()) {
      if (!this.packs.has(name.slice(name.lastIndexOf('/') + 1)))
        this.problem(name, 'orphan pack: not referenced by any index');
    }
    this.result.packs = stored.size;
    return stored;
  }

  async snapshots(): Promise<void> {
    const visited = new Set<string>();
    for (const id of await this.repo.listFiles('snapshot')) {
      try {
        const snapshot = decodeSnapshot(await this.repo.loadFile('snapshot', id), `snapshots/${id}`);
        this.result.snapshots++;
        await this.tree(Buffer.from(snapshot.tree, 'hex'), `snapshot ${id.slice(0, 8)}:`, visited);
      } catch (err) {
        this.problem(`snapshots/${id}`, describe(err));
      }
    }
  }

  async tree(id: Buffer, path: string, visited: Set<string>): Promise<void> {
    const key = hex(id);
    if (visited.has(key)) return;
    visited.add(key);
    if (!this.repo.index.has(id))
      return this.problem(`tree ${key}`, `tree of ${path || '/'} is missing from the index`);
    let nodes: Awaited<ReturnType<Repository['loadTree']>>;
    try {
      nodes = await this.repo.loadTree(id);
      this.result.trees++;
    } catch (err) {
      return this.problem(`tree ${key}`, `${describe(err)} (tree of ${path || '/'})`);
    }
    for (const node of nodes) {
      const child = `${path}/${printableName(node.name)}`;
      if (node.type === 'dir') await this.tree(node.subtree!, child, visited);
      for (const blob of node.content ?? []) {
        if (!this.repo.index.has(blob))
          this.problem(`blob ${hex(blob)}`, `data of ${child} is missing from the index`);
      }
    }
  }

  async readPack(id: string, onDone: () => void): Promise<void> {
    const pack = this.packs.get(id)!;
    const name = packName(pack.id);
    try {
      const bytes = await this.repo.store.get(name);
      if (createHash('sha256').update(bytes).digest('hex') !== id) {
        return this.problem(
          name,
          'pack contents do not match its name (SHA-256 mismatch): the pack is damaged',
        );
      }
      const { salt, entries } = parsePack(bytes, this.repo.keys.encKey, name);
      if (!salt.equals(pack.salt) || entries.length !== pack.entries.length)
        this.problem(name, 'pack header disagrees with the index');
      const key = packKey(this.repo.keys.encKey, salt);
      for (const entry of entries) {
        const sealed = bytes.subarray(entry.offset, entry.offset + entry.length);
        const stored = openBlob(key, entry, sealed, name);
        const plain = entry.compressed ? await decompress(stored, entry.rawLength, name) : stored;
        if (!this.repo.blobId(plain).equals(entry.id))
          this.problem(name, `blob ${hex(entry.id)} does not match its id`);
        if (entry.type !== BLOB_DATA && entry.type !== BLOB_TREE) this.problem(name, 'unknown blob type');
        this.result.blobsRead++;
      }
      this.result.packsRead++;
    } catch (err) {
      this.problem(name, describe(err));
    } finally {
      onDone();
    }
  }
}

export async function checkRepository(repo: Repository, options: CheckOptions = {}): Promise<CheckResult> {
  const checker = new Checker(repo);
  await checker.keys();
  await checker.indexes();
  const stored = await checker.packFiles();
  await checker.snapshots();
  if (options.readData) {
    const ids = [...checker.packs.keys()].filter((id) => stored.has(packName(Buffer.from(id, 'hex'))));
    const limit = new Semaphore(2);
    let done = 0;
    await Promise.all(
      ids.map((id) => limit.run(() => checker.readPack(id, () => options.onPack?.(++done, ids.length)))),
    );
  }
  return checker.result;
}
