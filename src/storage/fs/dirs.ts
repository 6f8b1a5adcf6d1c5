import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { errnoCode } from '../../errors/index.ts';
import { type FsOps, nodeFs } from './ops.ts';

/** Some filesystems cannot fsync a directory; they report one of these and we go on. */
const FSYNC_UNSUPPORTED = new Set(['EINVAL', 'ENOTSUP', 'EISDIR']);

/** Makes a new or changed directory entry durable: the entry lives in the directory. */
export async function fsyncDir(dir: string, fs: FsOps = nodeFs): Promise<void> {
  let handle: Awaited<ReturnType<FsOps['open']>>;
  try {
    handle = await fs.open(dir, 'r');
  } catch (err) {
    if (FSYNC_UNSUPPORTED.has(errnoCode(err) ?? '')) return;
    throw err;
  }
  try {
    await handle.sync();
  } catch (err) {
    if (!FSYNC_UNSUPPORTED.has(errnoCode(err) ?? '')) throw err;
  } finally {
    await handle.close();
  }
}

/**
 * Creates `relDir` (slash-separated) under `root` one level at a time, never `root`
 * itself: a missing root is an error (ENOENT), not something to create silently.
 * Each directory it creates is made durable by fsyncing its parent.
 */
export async function makeDirsUnder(root: string, relDir: string, fs: FsOps = nodeFs): Promise<void> {
  let parent = root;
  for (const segment of relDir.split('/')) {
    const dir = join(parent, segment);
    if (await mkdirIfMissing(dir, fs)) await fsyncDir(parent, fs);
    parent = dir;
  }
}

/** True when it created the directory, false when it was already there. */
export async function mkdirIfMissing(dir: string, fs: FsOps = nodeFs): Promise<boolean> {
  try {
    await fs.mkdir(dir);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return false;
    throw err;
  }
}

/**
 * Creates a directory and its missing parents durably (for the layer that initialises a
 * storage location; FileStore itself never creates its root).
 */
export async function ensureDir(path: string): Promise<void> {
  const target = resolve(path);
  const first = await mkdir(target, { recursive: true });
  if (first === undefined) return;
  // Every created directory's entry lives in its parent: fsync from the deepest up.
  for (let dir = target; ; dir = dirname(dir)) {
    await fsyncDir(dirname(dir));
    if (dir === first || dirname(dir) === dir) break;
  }
}
