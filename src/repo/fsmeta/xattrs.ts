// Extended attributes of one file or directory, read and written by Buffer path (file
// names need not be UTF-8). fs-xattr only takes string paths, so the entry is opened
// with O_PATH|O_NOFOLLOW and reached through /proc/self/fd/<fd>, which names exactly the
// opened inode: no symlink is ever followed and no name is ever re-resolved.
// Imports only node: modules and (optionally) fs-xattr.
import { constants } from 'node:fs';
import { access, open } from 'node:fs/promises';

/** One extended attribute, e.g. `{ name: 'user.comment', value: <Buffer 68 69> }`. */
export type Xattr = { name: string; value: Buffer };

type XattrModule = {
  getAttribute(path: string, attr: string): Promise<Buffer>;
  setAttribute(path: string, attr: string, value: Buffer): Promise<void>;
  listAttributes(path: string): Promise<string[]>;
  removeAttribute(path: string, attr: string): Promise<void>;
};

/** Linux O_PATH (not exported by node:fs): an fd that names an inode without opening it. */
const O_PATH = 0o10000000;
const UNSUPPORTED = new Set(['ENOTSUP', 'EOPNOTSUPP']);

let modulePromise: Promise<XattrModule | undefined> | undefined;

function loadModule(): Promise<XattrModule | undefined> {
  modulePromise ??= (async () => {
    try {
      await access('/proc/self/fd');
      return (await import('fs-xattr')) as XattrModule;
    } catch {
      return undefined;
    }
  })();
  return modulePromise;
}

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined;
}

/**
 * Runs `fn` with a string path naming the inode at `path` (never a symlink).
 * Returns `undefined` when `path` is a symlink, xattrs are unsupported, or fs-xattr is
 * missing; other errors (ENOENT, EACCES, EPERM...) propagate.
 */
async function withInode<T>(
  path: Buffer,
  fn: (mod: XattrModule, p: string) => Promise<T>,
): Promise<T | undefined> {
  const mod = await loadModule();
  if (mod === undefined) return undefined;
  const handle = await open(path, O_PATH | constants.O_NOFOLLOW);
  try {
    const st = await handle.stat();
    if (st.isSymbolicLink()) return undefined;
    return await fn(mod, `/proc/self/fd/${handle.fd}`);
  } catch (err) {
    if (UNSUPPORTED.has(errorCode(err) ?? '')) return undefined;
    throw err;
  } finally {
    await handle.close();
  }
}

/** Value of one attribute, or undefined if it vanished between list and get. */
async function getOne(mod: XattrModule, p: string, name: string): Promise<Buffer | undefined> {
  try {
    return await mod.getAttribute(p, name);
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENODATA' || code === 'ENOATTR') return undefined;
    if (code === 'ERANGE') return mod.getAttribute(p, name); // grew between size and read
    throw err;
  }
}

/**
 * All extended attributes of the file or directory at `path`, sorted by name.
 * `undefined` means "not available": a symlink, a filesystem without xattr support, or
 * fs-xattr not installed. Permission and I/O errors propagate.
 */
export async function readXattrs(path: Buffer): Promise<Xattr[] | undefined> {
  return withInode(path, async (mod, p) => {
    const names = (await mod.listAttributes(p)).sort();
    const out: Xattr[] = [];
    for (const name of names) {
      const value = await getOne(mod, p, name);
      if (value !== undefined) out.push({ name, value });
    }
    return out;
  });
}

/**
 * Sets `attrs` on the file or directory at `path`. With `removeOthers`, attributes not in
 * `attrs` are removed first. Returns false (nothing thrown) when xattrs cannot be stored
 * here — a symlink, an unsupporting filesystem, or fs-xattr missing — so the caller can
 * warn. Permission errors (e.g. `trusted.*` as non-root) propagate.
 * Call after chown: the kernel drops `security.capability` on chown.
 */
export async function writeXattrs(
  path: Buffer,
  attrs: readonly Xattr[],
  opts: { removeOthers?: boolean } = {},
): Promise<boolean> {
  if (attrs.length === 0 && opts.removeOthers !== true) return true;
  const done = await withInode(path, async (mod, p) => {
    if (opts.removeOthers === true) {
      const keep = new Set(attrs.map((a) => a.name));
      for (const name of await mod.listAttributes(p)) {
        if (!keep.has(name)) await mod.removeAttribute(p, name);
      }
    }
    for (const { name, value } of attrs) await mod.setAttribute(p, name, value);
    return true;
  });
  return done === true;
}
