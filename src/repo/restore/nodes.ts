import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, rename } from 'node:fs/promises';
import { errnoCode } from '../../errors/index.ts';
import { joinPath } from '../backup/selection.ts';
import { nativeFs } from '../fsmeta/native.ts';
import type { TreeNode } from '../tree.ts';

// Creating the nodes of a restore on the file system. Each create refuses a name that is
// taken: the walk decided beforehand (./overwrite.ts) that nothing is there, or made a
// temporary name to rename over what is.

const FILE_TYPE_BITS = { fifo: 0o010000, chardev: 0o020000, blockdev: 0o060000 } as const;

function major(rdev: number): number {
  return Number((BigInt(rdev) >> 8n) & 0xfffn) | Number((BigInt(rdev) >> 32n) & ~0xfffn);
}

function minor(rdev: number): number {
  return Number(BigInt(rdev) & 0xffn) | Number((BigInt(rdev) >> 12n) & ~0xffn);
}

/** FIFOs and device nodes: mknod(2) through the addon, else the mknod command. */
export async function makeSpecial(path: Buffer, node: TreeNode): Promise<void> {
  const type = node.type as keyof typeof FILE_TYPE_BITS;
  const rdev = node.rdev ?? 0;
  if (nativeFs) return nativeFs.mknod(path, FILE_TYPE_BITS[type] | 0o600, major(rdev), minor(rdev));
  // The command takes a string, so it creates a temporary ASCII name and rename gives
  // the raw-bytes one.
  const temp = joinPath(
    path.subarray(0, path.lastIndexOf(0x2f)),
    Buffer.from(`.offsite-mknod-${randomUUID()}`),
  );
  const kind =
    type === 'fifo' ? ['p'] : [type === 'chardev' ? 'c' : 'b', String(major(rdev)), String(minor(rdev))];
  await run('mknod', [temp.toString(), ...kind]);
  await rename(temp, path);
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(Object.assign(new Error(`${command}: ${stderr.trim()}`), { code: 'ESPAWN' })),
    );
  });
}

/** True when the folder was made now (so it is empty); false when one was there to merge into. */
export async function makeDir(path: Buffer): Promise<boolean> {
  try {
    await mkdir(path, { mode: 0o700 });
    return true;
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST' || !(await lstat(path)).isDirectory()) throw err;
    return false;
  }
}

const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** A new file at a name nothing holds (EEXIST otherwise: something appeared meanwhile). */
export function createFile(path: Buffer): Promise<FileHandle> {
  return open(path, CREATE, 0o600);
}
