import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { errnoCode } from '../../errors/index.ts';
import { poolClass, type Semaphore } from '../../util/index.ts';
import { BLOB_DATA } from '../blob-index.ts';
import { chunkFile } from '../chunker.ts';
import type { Packer } from '../packer.ts';
import type { Repository } from '../repository.ts';

/** Chunks of one file being compressed at once; more overlap, more memory. */
const CHUNKS_IN_FLIGHT = 4;

export interface FileSaveContext {
  repo: Repository;
  packer: Packer;
  /** Bytes of chunk data held between reading and packing, across all files. */
  memory: Semaphore;
  onBytes: (n: number) => void;
}

export async function openForBackup(path: Buffer | string): Promise<FileHandle> {
  // O_NOATIME keeps a backup from touching every file's access time; only the owner
  // or root may use it, so fall back without it.
  try {
    return await open(path, constants.O_RDONLY | constants.O_NOATIME | constants.O_NOFOLLOW);
  } catch (err) {
    if (errnoCode(err) !== 'EPERM') throw err;
    return open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  }
}

/** Reads, chunks and stores a file; returns its blob ids and the bytes actually read. */
export async function saveFileContent(
  ctx: FileSaveContext,
  path: Buffer,
  sizeHint: number,
): Promise<{ content: Buffer[]; size: number }> {
  const handle = await openForBackup(path);
  const content: Buffer[] = [];
  const window: Promise<unknown>[] = [];
  let size = 0;
  try {
    for await (const chunk of chunkFile(handle, ctx.repo.chunker, undefined, sizeHint)) {
      const id = ctx.repo.blobId(chunk);
      content.push(id);
      size += chunk.length;
      ctx.onBytes(chunk.length);
      if (ctx.packer.known(id)) continue;
      // The packer copies the chunk into a pooled buffer of poolClass(length) bytes.
      const held = poolClass(chunk.length);
      await ctx.memory.acquire(held);
      window.push(ctx.packer.add(BLOB_DATA, id, chunk).finally(() => ctx.memory.release(held)));
      if (window.length >= CHUNKS_IN_FLIGHT) await window.shift();
    }
    await Promise.all(window);
  } catch (err) {
    await Promise.allSettled(window);
    throw err;
  } finally {
    await handle.close();
  }
  return { content, size };
}
