import { chmod, type FileHandle, lchown, lutimes } from 'node:fs/promises';
import { nativeFs } from '../fsmeta/native.ts';
import { writeXattrs } from '../fsmeta/xattrs.ts';
import type { TreeNode } from '../tree.ts';

const isRoot = process.getuid?.() === 0;

/** Nanoseconds since the epoch (decimal string) → seconds, as close as a double allows. */
export function nsToSeconds(ns: string): number {
  const value = BigInt(ns);
  return Number(value / 1_000_000_000n) + Number(value % 1_000_000_000n) / 1e9;
}

/**
 * Owner first (chown clears set-uid bits), then mode, xattrs, and times last (every other
 * change touches ctime/mtime). Owners are restored only as root, like every Unix tool.
 * Returns a warning when something could not be applied.
 */
export async function applyMetadata(path: Buffer, node: TreeNode): Promise<string | undefined> {
  let warning: string | undefined;
  if (isRoot) await lchown(path, node.uid, node.gid);
  if (node.type !== 'symlink') await chmod(path, node.mode);
  if (node.xattrs?.length && node.type !== 'symlink') {
    const ok = await writeXattrs(path, node.xattrs);
    if (ok === false)
      warning = 'extended attributes could not be restored (not supported by the target filesystem)';
  }
  await setTimes(path, node.mtime);
  return warning;
}

/**
 * The same for a regular file still open after writing: owner, mode and times in one
 * native call on the descriptor (three path lookups and promise round-trips fewer per
 * file), then xattrs — which change ctime, never mtime, so they may come after the times.
 */
export async function applyFileMetadata(
  handle: FileHandle,
  path: Buffer,
  node: TreeNode,
): Promise<string | undefined> {
  if (!nativeFs) return applyMetadata(path, node);
  nativeFs.fsetmeta(handle.fd, node.uid, node.gid, node.mode, BigInt(node.mtime), isRoot);
  if (node.xattrs?.length && !(await writeXattrs(path, node.xattrs))) {
    return 'extended attributes could not be restored (not supported by the target filesystem)';
  }
  return undefined;
}

/** Exact nanoseconds through the addon; else Node's lutimes (a double, ~0.24 µs today). */
async function setTimes(path: Buffer, mtimeNs: string): Promise<void> {
  if (nativeFs) {
    const ns = BigInt(mtimeNs);
    nativeFs.lutimesNs(path, ns, ns);
    return;
  }
  // A string, because Node turns a negative number (before 1970) into "now".
  const seconds = String(nsToSeconds(mtimeNs));
  await lutimes(path, seconds, seconds);
}
