import { BLOB_DATA, BLOB_TREE, type BlobType } from './blob-index.ts';
import type { Repository } from './repository.ts';

// The packs a snapshot needs: every pack holding one of its trees or file contents. A
// vault records them when the snapshot is committed, so retention and garbage collection
// know what each recovery point holds without reading the (encrypted) snapshot.

/** Hex ids of the packs, from the repository's loaded index. Shared subtrees are walked once. */
export async function snapshotPacks(repo: Repository, rootTree: Buffer): Promise<string[]> {
  const ordinals = new Set<number>();
  const seenTrees = new Set<string>();
  const note = (id: Buffer, type: BlobType) => ordinals.add(repo.locate(id, type).packIndex);
  const visit = async (treeId: Buffer): Promise<void> => {
    const key = treeId.toString('hex');
    if (seenTrees.has(key)) return;
    seenTrees.add(key);
    note(treeId, BLOB_TREE);
    for (const node of await repo.loadTree(treeId)) {
      for (const id of node.content ?? []) note(id, BLOB_DATA);
      if (node.subtree) await visit(node.subtree);
    }
  };
  await visit(rootTree);
  return [...ordinals].map((o) => repo.index.packId(o).toString('hex'));
}
