import { randomUUID } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { lstat, rename, unlink } from 'node:fs/promises';
import { ConflictError, errnoCode } from '../../errors/index.ts';
import type { TreeNode } from '../tree.ts';

// What a restore does where something exists already at a path it restores, decided per
// node during the walk, before any of its data is read or written:
//   never    — keep what is there (and report it);
//   if-newer — replace it when the snapshot's version was modified later;
//   always   — replace it.
// A replacement is written beside the original under a temporary name and renamed over
// it once complete, so an interrupted restore leaves the original whole, never a
// truncated mix (a killed one may leave a `.offsite-restore-…` file beside it).

export type OverwritePolicy = 'never' | 'if-newer' | 'always';
export const OVERWRITE_POLICIES: readonly OverwritePolicy[] = ['never', 'if-newer', 'always'];

/** create: nothing is there; replace: write beside it, then rename over it; keep: leave it. */
export type Placement = 'create' | 'replace' | 'keep';

const TEMP_PREFIX = '.offsite-restore-';

/** What is at `path` now (never following a symlink), or undefined. */
export async function existingAt(path: Buffer): Promise<BigIntStats | undefined> {
  try {
    return await lstat(path, { bigint: true });
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

export function placementFor(
  found: BigIntStats | undefined,
  node: TreeNode,
  policy: OverwritePolicy,
): Placement {
  if (found === undefined) return 'create';
  if (policy === 'always') return 'replace';
  if (policy === 'if-newer' && BigInt(node.mtime) > found.mtimeNs) return 'replace';
  return 'keep';
}

/** A folder cannot be swapped for a file in one rename: refused before any data moves. */
export function refuseFolderInTheWay(found: BigIntStats | undefined, node: TreeNode): void {
  if (found?.isDirectory() && node.type !== 'dir') {
    throw new ConflictError('FOLDER_IN_THE_WAY', `a folder is where the snapshot has a ${node.type}`, {
      hint: 'move the folder away to restore this item, or restore into another --target',
    });
  }
}

/** A new name in the same folder as `path`, so that renaming it over `path` is atomic. */
export function tempBeside(path: Buffer): Buffer {
  const folder = path.subarray(0, path.lastIndexOf(0x2f) + 1);
  return Buffer.concat([folder, Buffer.from(`${TEMP_PREFIX}${randomUUID()}`)]);
}

/** The temporary file takes the original's name in one step. */
export function replaceWith(temp: Buffer, path: Buffer): Promise<void> {
  return rename(temp, path);
}

/** Removes a temporary file left by a failed replacement; the original is untouched. */
export async function removeTemp(temp: Buffer): Promise<void> {
  try {
    await unlink(temp);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
}
