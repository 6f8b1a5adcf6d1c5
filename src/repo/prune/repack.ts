import { BLOB_DATA, BLOB_TREE, type BlobType } from '../blob-index.ts';
import { decompress } from '../compress.ts';
import { hex, openBlob, packKey } from '../crypto/seal.ts';
import { parsePack } from '../pack.ts';
import { Packer } from '../packer.ts';
import { packName, type Repository } from '../repository.ts';

/**
 * Copies the blobs that snapshots need out of partly used packs into new packs. Every
 * blob is authenticated and its id checked on the way, so repacking never spreads damage.
 * The new packs are indexed before this returns; the old ones can then be condemned.
 */
export async function repack(
  repo: Repository,
  packIds: readonly string[],
  used: ReadonlySet<string>,
): Promise<{ blobs: number; bytes: number }> {
  const avoid = new Set(
    packIds.map((id) => repo.index.findPack(Buffer.from(id, 'hex'))!).filter((o) => o !== undefined),
  );
  const packer = new Packer(repo, { avoidPacks: avoid });
  let blobs = 0;
  let bytes = 0;
  try {
    for (const id of packIds) {
      const name = packName(Buffer.from(id, 'hex'));
      const data = await repo.store.get(name);
      const { salt, entries } = parsePack(data, repo.keys.encKey, name);
      const key = packKey(repo.keys.encKey, salt);
      for (const entry of entries) {
        if (!used.has(hex(entry.id))) continue;
        const stored = openBlob(key, entry, data.subarray(entry.offset, entry.offset + entry.length), name);
        const plain = entry.compressed ? await decompress(stored, entry.rawLength, name) : stored;
        const type: BlobType = entry.type === BLOB_TREE ? BLOB_TREE : BLOB_DATA;
        if (await packer.add(type, entry.id, plain)) {
          blobs++;
          bytes += plain.length;
        }
      }
    }
    await packer.flush();
  } finally {
    await packer.close();
  }
  return { blobs, bytes };
}
