import { constants } from 'node:fs';
import { chmod, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errnoCode } from '../errors/index.ts';

// Small file helpers for the data folder: atomic writes (temp name, fsync, rename, fsync
// of the folder) so a crash never leaves half a key or half a certificate behind.

export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw err;
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes data under path atomically with exactly `mode` (the umask cannot widen or narrow it). */
export async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  const temp = `${path}.tmp-${process.pid}`;
  await rm(temp, { force: true });
  const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    await handle.chmod(mode);
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
  await syncDir(dirname(path));
}

/** Secrets written by an older version or by hand may be too open; narrow them. */
export async function ensureMode(path: string, mode: number): Promise<void> {
  await chmod(path, mode);
}
