import { lstat } from 'node:fs/promises';
import { nativeFs } from './native.ts';

/**
 * Extended attributes of files and directories, through the project's addon: one system
 * call per list, get or set, on raw-byte paths (names need not be UTF-8), never following
 * a symlink. Without the addon (not built), xattrs are reported as unavailable.
 */
export type Xattr = { name: string; value: Buffer };

/**
 * All extended attributes of the entry at `path` itself (a symlink's own, never its
 * target's), sorted by name. `undefined` means "not available": a filesystem without
 * xattr support, or no addon. Permission and I/O errors
 * propagate; an attribute removed between list and read is simply absent.
 */
export async function readXattrs(path: Buffer): Promise<Xattr[] | undefined> {
  if (!nativeFs) return undefined;
  const names = nativeFs.llistxattr(path);
  if (names === null) return undefined;
  const out: Xattr[] = [];
  for (const name of names.sort()) {
    const value = nativeFs.lgetxattr(path, name);
    if (value !== null) out.push({ name, value });
  }
  return out;
}

function unsupported(err: unknown): boolean {
  const code = (err as { code?: string })?.code;
  return code === 'ENOTSUP' || code === 'EOPNOTSUPP';
}

/**
 * Sets `attrs` on the entry at `path`; with `removeOthers`, attributes not in `attrs` are
 * removed first. Returns false (nothing thrown) when xattrs cannot be stored here — a
 * filesystem without support, or no addon — so the caller can warn. Permission errors
 * (e.g. `trusted.*` as non-root) propagate. Call after chown: the kernel drops
 * `security.capability` on chown.
 */
export async function writeXattrs(
  path: Buffer,
  attrs: readonly Xattr[],
  opts: { removeOthers?: boolean } = {},
): Promise<boolean> {
  if (attrs.length === 0 && opts.removeOthers !== true) return true;
  if (!nativeFs) return false;
  try {
    if (opts.removeOthers === true) {
      const keep = new Set(attrs.map((a) => a.name));
      const present = nativeFs.llistxattr(path);
      if (present === null) return false;
      for (const name of present) if (!keep.has(name)) nativeFs.lremovexattr(path, name);
    }
    for (const { name, value } of attrs) nativeFs.lsetxattr(path, name, value);
    return true;
  } catch (err) {
    if (unsupported(err) || (await isSymlink(path, err))) return false;
    throw err;
  }
}

/** Linux refuses user.* attributes on symlinks (EPERM): not storable, not a failure. */
async function isSymlink(path: Buffer, err: unknown): Promise<boolean> {
  if ((err as { code?: string })?.code !== 'EPERM') return false;
  return (await lstat(path)).isSymbolicLink();
}
