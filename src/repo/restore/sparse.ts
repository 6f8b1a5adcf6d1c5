import type { FileHandle } from 'node:fs/promises';

const BLOCK = 4096;
const ZEROES = Buffer.alloc(8 * 1024 * 1024);

function allZero(data: Buffer): boolean {
  return data.length <= ZEROES.length && data.equals(ZEROES.subarray(0, data.length));
}

/**
 * Writes only the file-system blocks that hold a non-zero byte; zero blocks stay holes,
 * so sparse files come back sparse. Blocks are aligned to the file offset, not the chunk.
 * Dense data costs one comparison per block, which stops at its first byte. Returns
 * whether the last byte was written (false: the data ends in a hole).
 */
export async function writeSparse(handle: FileHandle, data: Buffer, position: number): Promise<boolean> {
  let runStart = -1;
  let start = 0;
  while (start < data.length) {
    const end = Math.min(data.length, start + BLOCK - ((position + start) % BLOCK));
    const zero = allZero(data.subarray(start, end));
    if (zero && runStart >= 0) {
      await handle.write(data, runStart, start - runStart, position + runStart);
      runStart = -1;
    } else if (!zero && runStart < 0) runStart = start;
    start = end;
  }
  if (runStart >= 0) await handle.write(data, runStart, data.length - runStart, position + runStart);
  return runStart >= 0;
}
