import { readCondemned } from './condemned.ts';
import type { IndexedPack } from './index-file.ts';
import { headerRange, PACK_PREFIX_BYTES, parsePackHeader } from './pack.ts';
import { isPackName, type Repository } from './repository.ts';

/** Reads and authenticates a pack's header with three small ranged reads. */
export async function readPackHeader(repo: Repository, name: string, size: number): Promise<IndexedPack> {
  const id = Buffer.from(name.slice(name.lastIndexOf('/') + 1), 'hex');
  const prefix = await repo.store.get(name, { offset: 0, length: Math.min(size, PACK_PREFIX_BYTES) });
  const trailer = await repo.store.get(name, { offset: Math.max(0, size - 4), length: Math.min(size, 4) });
  const range = trailer.length === 4 ? headerRange(size, trailer) : undefined;
  const sealed = range ? await repo.store.get(name, range) : Buffer.alloc(0);
  const { salt, entries } = parsePackHeader(prefix, sealed, size, repo.keys.encKey, name);
  return { id, salt, entries };
}

/** Packs in storage that no index lists, with their sizes. */
export async function unindexedPacks(repo: Repository): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for await (const object of repo.store.list('data/')) {
    const hexId = object.name.slice(object.name.lastIndexOf('/') + 1);
    // Anything else in data/ (a stray file) is not a pack: check reports it, backups go on.
    if (!isPackName(object.name)) continue;
    if (repo.index.findPack(Buffer.from(hexId, 'hex')) === undefined) found.set(object.name, object.size);
  }
  return found;
}

/**
 * Resumes after an interrupted backup: packs it uploaded but never indexed are indexed
 * now, so their blobs are not uploaded again. Condemned packs are left to prune, and a
 * pack whose header does not authenticate is left for `check` to report.
 */
export async function adoptUnindexedPacks(
  repo: Repository,
): Promise<{ adopted: number; unreadable: string[] }> {
  const condemned = (await readCondemned(repo)).packs;
  const packs: IndexedPack[] = [];
  const unreadable: string[] = [];
  for (const [name, size] of await unindexedPacks(repo)) {
    if (condemned.has(name.slice(name.lastIndexOf('/') + 1))) continue;
    try {
      packs.push(await readPackHeader(repo, name, size));
    } catch {
      unreadable.push(name);
    }
  }
  if (packs.length > 0) {
    await repo.saveIndex(packs);
    repo.addToIndex(packs);
  }
  return { adopted: packs.length, unreadable };
}
