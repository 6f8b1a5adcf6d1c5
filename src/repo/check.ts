import { createHash } from 'node:crypto';
import { NotFoundError } from '../errors/index.ts';
import { Semaphore } from '../util/index.ts';
import { BLOB_DATA, BLOB_TREE } from './blob-index.ts';
import { describeSubset, type PackSubset, parseSubset, selectPacks } from './check-subset.ts';
import { decompress } from './compress.ts';
import { readCondemned } from './condemned.ts';
import { hex, openBlob, packKey } from './crypto/seal.ts';
import { decodeIndex, type IndexedPack, type IndexFile } from './index-file.ts';
import { listKeySlots } from './keyring.ts';
import { expectedPackSize, type PackEntry, parsePack } from './pack.ts';
import { packName, type Repository } from './repository.ts';
import { decodeSnapshot } from './snapshot.ts';
import { printableName } from './tree.ts';

/** What is wrong; stable, so scripts and tests can match on it. */
export type ProblemKind =
  | 'missing-pack'
  | 'pack-size'
  | 'hash-mismatch'
  | 'unreadable-pack'
  | 'corrupt-index'
  | 'corrupt-snapshot'
  | 'corrupt-tree'
  | 'corrupt-marker'
  | 'missing-blob'
  | 'bad-key'
  | 'header-mismatch'
  | 'blob-mismatch';

export interface CheckProblem {
  kind: ProblemKind;
  /** The damaged or missing storage object (or blob), by name. */
  object: string;
  message: string;
}

/**
 * Not damage: state that an interrupted backup or prune leaves, or that garbage
 * collection leaves on purpose, and that the next backup or prune finishes
 * (docs/design.md §11). Nothing a snapshot needs is missing; `check` exits 0 when there
 * are only notes.
 */
export interface CheckNote {
  kind: 'pending-deletion' | 'condemned-deleted' | 'orphan-pack';
  object: string;
  message: string;
}

export interface CheckResult {
  problems: CheckProblem[];
  notes: CheckNote[];
  snapshots: number;
  trees: number;
  /** Packs in storage. */
  packs: number;
  /** Packs chosen for reading (all indexed packs with readData, fewer with a subset). */
  packsSelected: number;
  /** Packs whose bytes were read (damaged ones included). */
  packsRead: number;
  blobsRead: number;
  /** The subset read, as given (e.g. "1/10", "5%"). */
  subset?: string;
}

export interface CheckOptions {
  readData?: boolean;
  /** Read only some packs (implies reading data); see check-subset.ts. */
  readDataSubset?: PackSubset | string;
  /** Random integer in [0, n), for a percentage subset; injectable for tests. */
  random?: (n: number) => number;
  onPack?: (done: number, total: number) => void;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const HASH_MISMATCH = 'pack contents do not match its name (SHA-256 mismatch): the pack is damaged';
const SHOWN_BLOBS = 10;
const VAULT_PENDING =
  "condemned by the vault's garbage collection (no recovery point needs it): deleted after the grace period";

function sameEntries(a: readonly PackEntry[], b: readonly PackEntry[]): boolean {
  if (a.length !== b.length) return false;
  const byOffset = (list: readonly PackEntry[]) => [...list].sort((x, y) => x.offset - y.offset);
  const [x, y] = [byOffset(a), byOffset(b)];
  return x.every(
    (e, i) =>
      e.id.equals(y[i]!.id) &&
      e.type === y[i]!.type &&
      e.compressed === y[i]!.compressed &&
      e.offset === y[i]!.offset &&
      e.length === y[i]!.length &&
      e.rawLength === y[i]!.rawLength,
  );
}

function listBlobs(ids: string[]): string {
  const shown = ids.slice(0, SHOWN_BLOBS).join(', ');
  return ids.length > SHOWN_BLOBS ? `${shown} and ${ids.length - SHOWN_BLOBS} more` : shown;
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
    notes: [],
    snapshots: 0,
    trees: 0,
    packs: 0,
    packsSelected: 0,
    packsRead: 0,
    blobsRead: 0,
  };
  /** Packs listed by the index files in force (superseded files left out), by hex id. */
  readonly packs = new Map<string, IndexedPack>();
  /** Indexed packs that are not in storage, by hex id. */
  readonly missing = new Set<string>();
  condemned = new Set<string>();
  /** The condemned packs that a vault's garbage collection (not prune) deletes. */
  vaultCondemned = new Set<string>();

  constructor(repo: Repository) {
    this.repo = repo;
  }

  problem(kind: ProblemKind, object: string, message: string): void {
    this.result.problems.push({ kind, object, message });
  }

  async keys(): Promise<void> {
    try {
      await listKeySlots(this.repo.store);
    } catch (err) {
      this.problem('bad-key', 'keys/', describe(err));
    }
  }

  /** Read first: a pack condemned after this is never mistaken for damage below. */
  async markers(): Promise<void> {
    const { packs, vaultPacks, damaged } = await readCondemned(this.repo);
    this.condemned = packs;
    this.vaultCondemned = vaultPacks;
    for (const d of damaged) this.problem('corrupt-marker', d.object, d.message);
  }

  /** Index files in force: every readable one, less those another one supersedes. */
  async indexes(): Promise<void> {
    const limit = new Semaphore(16);
    const loaded = await Promise.all(
      (await this.repo.listFiles('index')).map((id) =>
        limit.run(async (): Promise<{ id: string; file?: IndexFile }> => {
          try {
            return { id, file: decodeIndex(await this.repo.loadFile('index', id), `index/${id}`) };
          } catch (err) {
            this.problem('corrupt-index', `index/${id}`, describe(err));
            return { id };
          }
        }),
      ),
    );
    const superseded = new Set(loaded.flatMap((f) => f.file?.supersedes.map((s) => hex(s)) ?? []));
    const inForce = loaded.filter((f) => !superseded.has(f.id)).flatMap((f) => f.file?.packs ?? []);
    for (const pack of inForce) this.packs.set(hex(pack.id), pack);
    // As loadIndex does: a blob that also lives in a live pack resolves there.
    const isCondemned = (p: IndexedPack) => this.condemned.has(hex(p.id));
    this.repo.addToIndex(inForce.filter((p) => !isCondemned(p)));
    this.repo.addToIndex(inForce.filter(isCondemned));
  }

  async packFiles(): Promise<Map<string, number>> {
    const stored = new Map<string, number>();
    for await (const object of this.repo.store.list('data/')) stored.set(object.name, object.size);
    for (const [id, pack] of this.packs) {
      const name = packName(pack.id);
      const size = stored.get(name);
      if (size === undefined) {
        this.missing.add(id);
        if (this.condemned.has(id)) {
          this.result.notes.push({
            kind: 'condemned-deleted',
            object: name,
            message: this.vaultCondemned.has(id)
              ? "deleted by the vault's garbage collection: no recovery point needs it any more"
              : 'condemned pack was deleted while checking (a prune is running)',
          });
        } else
          this.problem('missing-pack', name, `pack ${id} is listed in the index but missing from storage`);
      } else if (size !== expectedPackSize(pack.entries)) {
        this.problem(
          'pack-size',
          name,
          `pack has ${size} bytes, the index implies ${expectedPackSize(pack.entries)}`,
        );
      }
    }
    for (const name of stored.keys()) {
      const id = name.slice(name.lastIndexOf('/') + 1);
      if (this.vaultCondemned.has(id)) {
        this.result.notes.push({ kind: 'pending-deletion', object: name, message: VAULT_PENDING });
      } else if (this.packs.has(id)) {
      } else if (this.condemned.has(id)) {
        this.result.notes.push({
          kind: 'pending-deletion',
          object: name,
          message: 'condemned by prune and no longer indexed: pending deletion by the next prune',
        });
      } else {
        // Left by a backup or prune that stopped between writing a pack and its index.
        this.result.notes.push({
          kind: 'orphan-pack',
          object: name,
          message:
            'not in any index (left by an interrupted backup or prune): the next backup reuses it, prune removes it',
        });
      }
    }
    this.result.packs = stored.size;
    return stored;
  }

  async snapshots(ids: readonly string[]): Promise<void> {
    const visited = new Set<string>();
    for (const id of ids) {
      try {
        const snapshot = decodeSnapshot(await this.repo.loadFile('snapshot', id), `snapshots/${id}`);
        this.result.snapshots++;
        await this.tree(Buffer.from(snapshot.tree, 'hex'), `snapshot ${id.slice(0, 8)}:`, visited);
      } catch (err) {
        if (err instanceof NotFoundError) continue; // forgotten while check ran
        this.problem('corrupt-snapshot', `snapshots/${id}`, describe(err));
      }
    }
  }

  /** Why a referenced blob cannot be read, judged from the index and the pack listing. */
  whyMissing(id: Buffer, type: number): string | undefined {
    const loc = this.repo.index.get(id);
    if (!loc) return 'is missing from the index';
    if (loc.type !== type) return `is indexed as a ${loc.type === BLOB_DATA ? 'data' : 'tree'} blob`;
    const pack = hex(this.repo.index.packId(loc.packIndex));
    if (this.missing.has(pack)) return `is in pack ${packName(Buffer.from(pack, 'hex'))}, which is missing`;
    return undefined;
  }

  async tree(id: Buffer, path: string, visited: Set<string>): Promise<void> {
    const key = hex(id);
    if (visited.has(key)) return;
    visited.add(key);
    const missing = this.whyMissing(id, BLOB_TREE);
    if (missing) return this.problem('missing-blob', `tree ${key}`, `tree of ${path || '/'} ${missing}`);
    let nodes: Awaited<ReturnType<Repository['loadTree']>>;
    try {
      nodes = await this.repo.loadTree(id);
      this.result.trees++;
    } catch (err) {
      const kind = err instanceof NotFoundError ? 'missing-blob' : 'corrupt-tree';
      return this.problem(kind, `tree ${key}`, `${describe(err)} (tree of ${path || '/'})`);
    }
    for (const node of nodes) {
      const child = `${path}/${printableName(node.name)}`;
      if (node.type === 'dir') await this.tree(node.subtree!, child, visited);
      for (const blob of node.content ?? []) {
        const why = this.whyMissing(blob, BLOB_DATA);
        if (why) this.problem('missing-blob', `blob ${hex(blob)}`, `data of ${child} ${why}`);
      }
    }
  }

  async readPack(id: string, onDone: () => void): Promise<void> {
    const pack = this.packs.get(id)!;
    const name = packName(pack.id);
    try {
      let bytes: Buffer;
      try {
        bytes = await this.repo.store.get(name);
      } catch (err) {
        return this.problem('unreadable-pack', name, describe(err));
      }
      this.result.packsRead++;
      await this.verifyPack(bytes, pack, name, createHash('sha256').update(bytes).digest('hex') === id);
    } finally {
      onDone();
    }
  }

  /**
   * Header and every blob. A pack whose hash is wrong gets one problem that says what
   * still authenticates (header, which blobs), so the damage can be judged.
   */
  async verifyPack(bytes: Buffer, pack: IndexedPack, name: string, hashOk: boolean): Promise<void> {
    let parsed: ReturnType<typeof parsePack>;
    try {
      parsed = parsePack(bytes, this.repo.keys.encKey, name);
    } catch (err) {
      if (hashOk) return this.problem('unreadable-pack', name, describe(err));
      return this.problem(
        'hash-mismatch',
        name,
        `${HASH_MISMATCH}; its header cannot be read: ${describe(err)}`,
      );
    }
    if (!parsed.salt.equals(pack.salt) || !sameEntries(parsed.entries, pack.entries))
      this.problem('header-mismatch', name, 'pack header disagrees with the index');
    const damaged = await this.verifyBlobs(bytes, parsed, name);
    if (!hashOk) {
      const which = damaged.length
        ? `${damaged.length} of ${parsed.entries.length} blobs are damaged: ${listBlobs(damaged.map((d) => d.id))}`
        : 'every blob still authenticates';
      this.problem('hash-mismatch', name, `${HASH_MISMATCH}; ${which}`);
    } else for (const d of damaged) this.problem('blob-mismatch', name, `blob ${d.id}: ${d.why}`);
  }

  async verifyBlobs(
    bytes: Buffer,
    { salt, entries }: { salt: Buffer; entries: PackEntry[] },
    name: string,
  ): Promise<{ id: string; why: string }[]> {
    const key = packKey(this.repo.keys.encKey, salt);
    const damaged: { id: string; why: string }[] = [];
    for (const entry of entries) {
      this.result.blobsRead++;
      try {
        const stored = openBlob(key, entry, bytes.subarray(entry.offset, entry.offset + entry.length), name);
        const plain = entry.compressed ? await decompress(stored, entry.rawLength, name) : stored;
        if (plain.length !== entry.rawLength || !this.repo.blobId(plain).equals(entry.id))
          damaged.push({ id: hex(entry.id), why: 'does not match its id' });
      } catch (err) {
        damaged.push({ id: hex(entry.id), why: describe(err) });
      }
    }
    return damaged;
  }
}

/** Reads the selected packs, two at a time (each is held whole in memory). */
async function readPacks(
  checker: Checker,
  stored: Map<string, number>,
  subset: PackSubset | undefined,
  options: CheckOptions,
): Promise<void> {
  if (subset) checker.result.subset = describeSubset(subset);
  const present = [...checker.packs.keys()].filter((id) => stored.has(packName(Buffer.from(id, 'hex'))));
  const ids = selectPacks(present.sort(), subset, options.random);
  checker.result.packsSelected = ids.length;
  const limit = new Semaphore(2);
  let done = 0;
  await Promise.all(
    ids.map((id) => limit.run(() => checker.readPack(id, () => options.onPack?.(++done, ids.length)))),
  );
}

export async function checkRepository(repo: Repository, options: CheckOptions = {}): Promise<CheckResult> {
  // A bad subset is refused before any work.
  const subset =
    typeof options.readDataSubset === 'string' ? parseSubset(options.readDataSubset) : options.readDataSubset;
  const checker = new Checker(repo);
  await checker.keys();
  await checker.markers();
  // Snapshots are listed before the index is read: a snapshot is written after its index,
  // so a backup finishing meanwhile is never mistaken for missing data.
  const snapshotIds = await repo.listFiles('snapshot');
  await checker.indexes();
  const stored = await checker.packFiles();
  await checker.snapshots(snapshotIds);
  if (options.readData || subset) await readPacks(checker, stored, subset, options);
  return checker.result;
}
