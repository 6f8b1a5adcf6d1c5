import { ConflictError, IntegrityError, NotFoundError } from '../errors/index.ts';
import { Semaphore } from '../util/index.ts';
import { readPackHeader } from './adopt.ts';
import { BLOB_DATA, BLOB_TREE, type BlobType } from './blob-index.ts';
import { readCondemned } from './condemned.ts';
import { hex } from './crypto/seal.ts';
import { Packer } from './packer.ts';
import type { Repository } from './repository.ts';
import { startSession } from './sessions.ts';
import { decodeSnapshot, type Snapshot } from './snapshot.ts';
import { encodeTree, printableName, type TreeNode } from './tree.ts';

/**
 * `repair snapshots`: rewrites every snapshot that refers to data the repository no
 * longer has, so the rest of it restores. Decisions (docs/design.md, repair):
 * - a directory whose tree blob is missing or unreadable becomes an empty directory
 *   (its own metadata, held by its parent, is kept) and is listed as "emptied";
 * - a file with any missing or unreadable data blob is removed from its directory and
 *   listed as "removed": restoring a file with a piece silently cut out would hand back
 *   wrong contents that look right, which is worse than a named, missing file;
 * - a snapshot whose root tree is unreadable has nothing left to keep: it is reported as
 *   lost and left as it is (`offsite forget` removes it);
 * - the new snapshot keeps time, paths, host, parent and stats, adds the tag "repaired",
 *   `original` (the first snapshot of the chain, as written by backup) and
 *   `repair: {replaces, time, removed, emptied}`; with `forget` the old one is deleted
 *   after the new one is durable. Undamaged snapshots are not touched.
 * A blob is missing when the index does not list it or its pack is not in storage; with
 * readData every data blob is also read and authenticated, and one that fails counts as
 * missing. Tree blobs are always read.
 */

export interface RepairSnapshotsOptions {
  readData?: boolean;
  forget?: boolean;
  dryRun?: boolean;
  now?: () => Date;
}

export interface SnapshotRepair {
  /** The damaged snapshot. */
  id: string;
  /** Its replacement (not set in a dry run, or when the snapshot is lost). */
  newId?: string;
  /** Snapshot paths of the files removed, and of the directories emptied. */
  removed: string[];
  emptied: string[];
  /** The root tree is unreadable: nothing could be kept. */
  lost: boolean;
  /** The damaged snapshot was deleted (forget). */
  forgotten: boolean;
}

export interface RepairSnapshotsResult {
  snapshots: number;
  repaired: SnapshotRepair[];
  /** Snapshot files that cannot be read at all; left as they are. */
  unreadable: { object: string; message: string }[];
  treesWritten: number;
  blobsRead: number;
}

/** The snapshot file as repair writes it: a backup's snapshot plus where it came from. */
export type RepairedSnapshot = Snapshot & {
  original: string;
  repair: { replaces: string; time: string; removed: string[]; emptied: string[] };
};

/** A tree after repair; paths are relative to it ('' is the tree itself). */
interface TreeFix {
  id: Buffer;
  removed: string[];
  emptied: string[];
}

function isDamage(err: unknown): boolean {
  return err instanceof IntegrityError || err instanceof NotFoundError;
}

const PACK_HEX = /^[0-9a-f]{64}$/;
const under = (name: string, rel: string) => (rel ? `${name}/${rel}` : name);

class Repairer {
  readonly repo: Repository;
  readonly options: RepairSnapshotsOptions;
  readonly packer: Packer | undefined;
  /** Hex ids of the packs in storage. */
  readonly present: Set<string>;
  readonly #fixes = new Map<string, Promise<TreeFix>>();
  readonly #readable = new Map<string, Promise<boolean>>();
  readonly #reads = new Semaphore(8);
  treesWritten = 0;
  blobsRead = 0;

  constructor(repo: Repository, options: RepairSnapshotsOptions, present: Set<string>) {
    this.repo = repo;
    this.options = options;
    this.present = present;
    this.packer = options.dryRun ? undefined : new Packer(repo);
  }

  /** Indexed, in a pack that exists, and (readData, data blobs) read back intact. */
  async usable(id: Buffer, type: BlobType): Promise<boolean> {
    const loc = this.repo.index.get(id);
    if (!loc || loc.type !== type || !this.present.has(hex(this.repo.index.packId(loc.packIndex))))
      return false;
    if (type !== BLOB_DATA || !this.options.readData) return true;
    const key = hex(id);
    let readable = this.#readable.get(key);
    if (!readable) {
      readable = this.#reads.run(async () => {
        this.blobsRead++;
        try {
          await this.repo.loadBlob(id, BLOB_DATA);
          return true;
        } catch (err) {
          if (!isDamage(err)) throw err;
          return false;
        }
      });
      this.#readable.set(key, readable);
    }
    return readable;
  }

  async store(nodes: TreeNode[]): Promise<Buffer> {
    const data = encodeTree(nodes);
    const id = this.repo.blobId(data);
    if (this.packer && (await this.packer.add(BLOB_TREE, id, data))) this.treesWritten++;
    return id;
  }

  fixTree(id: Buffer): Promise<TreeFix> {
    const key = hex(id);
    let fix = this.#fixes.get(key);
    if (!fix) {
      fix = this.#fixTree(id);
      this.#fixes.set(key, fix);
    }
    return fix;
  }

  async #fixTree(id: Buffer): Promise<TreeFix> {
    let nodes: TreeNode[];
    try {
      if (!(await this.usable(id, BLOB_TREE))) throw new NotFoundError('BLOB_MISSING', 'tree missing');
      nodes = await this.repo.loadTree(id);
    } catch (err) {
      if (!isDamage(err)) throw err;
      return { id: await this.store([]), removed: [], emptied: [''] };
    }
    // Files are checked side by side (their reads are bounded); directories one by one.
    const files = await Promise.all(
      nodes.map(async (n) => n.type !== 'file' || (await this.#fileIsWhole(n))),
    );
    const kept: TreeNode[] = [];
    const fix: TreeFix = { id, removed: [], emptied: [] };
    for (const [i, node] of nodes.entries()) {
      const name = printableName(node.name);
      if (!files[i]) {
        fix.removed.push(name);
        continue;
      }
      if (node.type !== 'dir') {
        kept.push(node);
        continue;
      }
      const child = await this.fixTree(node.subtree!);
      fix.removed.push(...child.removed.map((rel) => under(name, rel)));
      fix.emptied.push(...child.emptied.map((rel) => under(name, rel)));
      kept.push(child.id.equals(node.subtree!) ? node : { ...node, subtree: child.id });
    }
    if (fix.removed.length === 0 && fix.emptied.length === 0) return fix;
    return { ...fix, id: await this.store(kept) };
  }

  async #fileIsWhole(node: TreeNode): Promise<boolean> {
    const checks = await Promise.all((node.content ?? []).map((id) => this.usable(id, BLOB_DATA)));
    return checks.every(Boolean);
  }
}

/**
 * Refuses to run while packs that could be indexed are not: their blobs would look
 * missing and snapshots would lose data they still have. A pack whose header cannot be
 * read (what `repair index` leaves out) does not count, nor a condemned one.
 * Returns the hex ids of the packs in storage.
 */
async function refuseUnindexedPacks(repo: Repository): Promise<Set<string>> {
  const condemned = (await readCondemned(repo)).packs;
  const present = new Set<string>();
  const unindexed: [string, number][] = [];
  for await (const object of repo.store.list('data/')) {
    const id = object.name.slice(object.name.lastIndexOf('/') + 1);
    if (!PACK_HEX.test(id)) continue;
    present.add(id);
    if (repo.index.findPack(Buffer.from(id, 'hex')) === undefined && !condemned.has(id))
      unindexed.push([object.name, object.size]);
  }
  let readable = 0;
  for (const [name, size] of unindexed) {
    try {
      await readPackHeader(repo, name, size);
      readable++;
    } catch (err) {
      if (!isDamage(err)) throw err;
    }
  }
  if (readable > 0) {
    throw new ConflictError(
      'INDEX_INCOMPLETE',
      `${readable} readable packs in storage are not in the index, so data would look missing that is not`,
      { hint: 'run `offsite repair index` first (or let a running backup finish), then repair snapshots' },
    );
  }
  return present;
}

function repairedSnapshot(old: Snapshot, oldId: string, fix: TreeFix, time: Date): RepairedSnapshot {
  const previous = old as Partial<RepairedSnapshot>;
  return {
    ...old,
    tree: hex(fix.id),
    tags: [...new Set([...old.tags, 'repaired'])].sort(),
    original: previous.original ?? oldId,
    repair: {
      replaces: oldId,
      time: time.toISOString(),
      removed: fix.removed.map((p) => `/${p}`),
      emptied: fix.emptied.map((p) => `/${p}`),
    },
  };
}

async function findDamage(
  repairer: Repairer,
  result: RepairSnapshotsResult,
): Promise<{ report: SnapshotRepair; snapshot: Snapshot; fix: TreeFix }[]> {
  const { repo } = repairer;
  const damaged: { report: SnapshotRepair; snapshot: Snapshot; fix: TreeFix }[] = [];
  for (const id of await repo.listFiles('snapshot')) {
    let snapshot: Snapshot;
    try {
      snapshot = decodeSnapshot(await repo.loadFile('snapshot', id), `snapshots/${id}`);
    } catch (err) {
      if (!isDamage(err)) throw err;
      result.unreadable.push({ object: `snapshots/${id}`, message: (err as Error).message });
      continue;
    }
    result.snapshots++;
    const fix = await repairer.fixTree(Buffer.from(snapshot.tree, 'hex'));
    if (fix.removed.length === 0 && fix.emptied.length === 0) continue;
    const lost = fix.emptied.includes('');
    const report: SnapshotRepair = {
      id,
      removed: fix.removed.map((p) => `/${p}`),
      emptied: lost ? ['/'] : fix.emptied.map((p) => `/${p}`),
      lost,
      forgotten: false,
    };
    damaged.push({ report, snapshot, fix });
  }
  return damaged;
}

/** Finds and (unless dryRun) replaces every damaged snapshot; see the comment at the top. */
export async function repairSnapshots(
  repo: Repository,
  options: RepairSnapshotsOptions = {},
): Promise<RepairSnapshotsResult> {
  // Like a backup, the repair announces itself before reading, so that prune deletes
  // nothing the new trees might share (design.md §11).
  const session = options.dryRun ? undefined : await startSession(repo, 'repair-snapshots');
  const result: RepairSnapshotsResult = {
    snapshots: 0,
    repaired: [],
    unreadable: [],
    treesWritten: 0,
    blobsRead: 0,
  };
  let repairer: Repairer | undefined;
  try {
    await repo.loadIndex();
    repairer = new Repairer(repo, options, await refuseUnindexedPacks(repo));
    const damaged = await findDamage(repairer, result);
    result.treesWritten = repairer.treesWritten;
    result.blobsRead = repairer.blobsRead;
    result.repaired = damaged.map((d) => d.report);
    if (options.dryRun) return result;
    // Order: new trees durable → new snapshots → old snapshots deleted.
    await repairer.packer?.flush();
    const time = (options.now ?? (() => new Date()))();
    for (const { report, snapshot, fix } of damaged) {
      if (report.lost) continue;
      const body = repairedSnapshot(snapshot, report.id, fix, time);
      report.newId = await repo.saveFile('snapshot', Buffer.from(JSON.stringify(body)));
      if (options.forget) {
        await repo.store.delete(`snapshots/${report.id}`);
        report.forgotten = true;
      }
    }
    return result;
  } finally {
    await repairer?.packer?.close();
    await session?.end();
  }
}
