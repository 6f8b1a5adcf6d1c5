import { NotFoundError } from '../../errors/index.ts';
import { BLOB_TREE } from '../blob-index.ts';
import { hex } from '../crypto/seal.ts';
import type { IndexedPack } from '../index-file.ts';
import { isPackName, type Repository } from '../repository.ts';
import { decodeSnapshot } from '../snapshot.ts';
import { decodeTree } from '../tree.ts';

export interface PackUsage {
  id: string;
  pack: IndexedPack;
  size: number;
  /** Sealed bytes of the blobs assigned to this pack that some snapshot needs. */
  usedBytes: number;
  usedBlobs: number;
  totalBytes: number;
}

export interface Usage {
  packs: Map<string, PackUsage>;
  /** Packs in storage that no index lists (hex id → size). */
  unindexed: Map<string, number>;
  snapshots: number;
  usedBlobs: number;
}

/**
 * Every blob id (hex) the listed snapshots need. The ids must be listed before the index
 * is loaded: a snapshot is written after its index, so every snapshot listed first finds
 * its blobs. A snapshot forgotten meanwhile needs nothing any more and is skipped.
 */
export async function usedBlobIds(
  repo: Repository,
  ids: readonly string[],
): Promise<{ used: Set<string>; snapshots: number }> {
  const used = new Set<string>();
  let snapshots = 0;
  const walk = async (tree: Buffer): Promise<void> => {
    const key = hex(tree);
    if (used.has(key)) return;
    used.add(key);
    for (const node of decodeTree(await repo.loadBlob(tree, BLOB_TREE), `tree ${key}`)) {
      for (const blob of node.content ?? []) used.add(hex(blob));
      if (node.subtree) await walk(node.subtree);
    }
  };
  for (const id of ids) {
    let body: Buffer;
    try {
      body = await repo.loadFile('snapshot', id);
    } catch (err) {
      if (err instanceof NotFoundError) continue;
      throw err;
    }
    await walk(Buffer.from(decodeSnapshot(body, `snapshots/${id}`).tree, 'hex'));
    snapshots++;
  }
  return { used, snapshots };
}

/**
 * Assigns each needed blob to one pack, live packs before condemned ones, so that a
 * blob copied by repacking keeps only its new pack alive. A pack with nothing assigned
 * is unused even if it holds copies of needed blobs.
 */
export function assignUsage(
  packs: readonly IndexedPack[],
  used: ReadonlySet<string>,
  condemned: ReadonlySet<string>,
  sizes: ReadonlyMap<string, number>,
): Map<string, PackUsage> {
  const ordered = [...packs].sort(
    (a, b) => Number(condemned.has(hex(a.id))) - Number(condemned.has(hex(b.id))),
  );
  const assigned = new Set<string>();
  const usage = new Map<string, PackUsage>();
  for (const pack of ordered) {
    const id = hex(pack.id);
    if (usage.has(id)) continue;
    const entry: PackUsage = {
      id,
      pack,
      size: sizes.get(id) ?? 0,
      usedBytes: 0,
      usedBlobs: 0,
      totalBytes: 0,
    };
    for (const blob of pack.entries) {
      const key = hex(blob.id);
      entry.totalBytes += blob.length;
      if (used.has(key) && !assigned.has(key)) {
        assigned.add(key);
        entry.usedBytes += blob.length;
        entry.usedBlobs++;
      }
    }
    usage.set(id, entry);
  }
  return usage;
}

export async function packSizes(repo: Repository): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  for await (const object of repo.store.list('data/')) {
    if (isPackName(object.name)) sizes.set(object.name.slice(object.name.lastIndexOf('/') + 1), object.size);
  }
  return sizes;
}
