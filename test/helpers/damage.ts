// Damaging a repository on disk the way a bad disk would, for corruption and repair tests.
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Flips the low bit of one byte (doing it twice restores the file). */
export async function flipByte(file: string, at: 'middle' | number = 'middle'): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    const { size } = await handle.stat();
    const position = at === 'middle' ? Math.floor(size / 2) : at;
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, position);
    byte[0] = byte[0]! ^ 0x01;
    await handle.write(byte, 0, 1, position);
  } finally {
    await handle.close();
  }
}

/** Storage names of the objects under `folder` of a filesystem repository, sorted. */
export async function objects(repo: string, folder: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(repo, folder), { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath, entry.name).slice(repo.length + 1));
  }
  return out.sort();
}
