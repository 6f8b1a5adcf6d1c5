import type { Dirent } from 'node:fs';
import { join } from 'node:path';
import { errnoCode } from '../../errors/index.ts';
import { isValidObjectName } from '../names.ts';
import type { ListedObject } from '../types.ts';
import type { FsOps } from './ops.ts';

/** Name of the directory, directly under the root, that holds files being written. */
export const TEMP_DIR = '.tmp';

/** How many stat calls one directory listing runs at once. */
const STAT_BATCH = 32;

/**
 * Yields the objects under `root/dir` whose entry name starts with `partial`, recursing
 * into matching directories. `dir` is "" or ends with "/". Only directories the prefix
 * can match are read, so listing "data/ab" reads data/ and the entries of data/ab*.
 * The temp directory and entries that are not valid object names are skipped.
 */
export async function* walk(
  fs: FsOps,
  root: string,
  dir: string,
  partial: string,
): AsyncGenerator<ListedObject> {
  const entries = await readDir(fs, join(root, dir));
  const matching = entries.filter(
    (entry) => entry.name.startsWith(partial) && !(dir === '' && entry.name === TEMP_DIR),
  );
  for (let i = 0; i < matching.length; i += STAT_BATCH) {
    const batch = matching.slice(i, i + STAT_BATCH);
    const kinds = await Promise.all(batch.map((entry) => kindOf(fs, join(root, dir, entry.name), entry)));
    for (const [j, entry] of batch.entries()) {
      const kind = kinds[j]!;
      const name = dir + entry.name;
      if (kind === 'dir') yield* walk(fs, root, `${name}/`, '');
      else if (kind !== 'other' && isValidObjectName(name)) yield { name, size: kind.size };
    }
  }
}

async function readDir(fs: FsOps, path: string): Promise<Dirent[]> {
  try {
    return await fs.readdir(path, { withFileTypes: true });
  } catch (err) {
    // Nothing there (or deleted while we walked): nothing to list.
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return [];
    throw err;
  }
}

type Kind = 'dir' | 'other' | { size: number };

/** Directories need no stat unless they are symlinks; files need one for their size. */
async function kindOf(fs: FsOps, path: string, entry: Dirent): Promise<Kind> {
  if (entry.isDirectory()) return 'dir';
  if (!entry.isFile() && !entry.isSymbolicLink()) return 'other';
  try {
    const stats = await fs.stat(path);
    if (stats.isDirectory()) return 'dir';
    return stats.isFile() ? { size: stats.size } : 'other';
  } catch (err) {
    // Deleted between readdir and stat, or a dangling symlink.
    if (errnoCode(err) === 'ENOENT') return 'other';
    throw err;
  }
}
