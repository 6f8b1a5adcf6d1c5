import type { FileHandle } from 'node:fs/promises';
import { IntegrityError } from '../../errors/index.ts';

/**
 * Reads exactly `length` bytes at `position` through the handle, without touching the
 * rest of the file. Stored objects never shrink, so running out of bytes means the file
 * was damaged after it was written: that is an integrity failure, not a short answer.
 */
export async function readExactly(
  handle: FileHandle,
  position: number,
  length: number,
  object: string,
): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) {
      throw new IntegrityError('SHORT_READ', `${object} ended after ${filled} of ${length} bytes requested`, {
        object,
        hint: 'the stored file is truncated; run a check of the repository',
      });
    }
    filled += bytesRead;
  }
  return buffer;
}
