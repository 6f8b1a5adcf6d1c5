import type { BigIntStats } from 'node:fs';
import { lstat, open, readdir, readlink, rm } from 'node:fs/promises';
import { errnoCode } from '../../errors/index.ts';
import { joinPath } from '../../repo/backup/selection.ts';
import { printableName, type Repository, type TreeNode } from '../../repo/index.ts';

// Before materialising into a folder that holds an older copy, what the point does not
// have inside the workload's data paths is removed (a stale file beside a database is
// damage), and so is an entry of another type than the point's (restore would not put a
// file where a folder is). After, the folder is compared with the point: every entry
// exists with its type and nothing else is in the data paths, every file has its size
// and, blob by blob, the contents whose keyed ids the point lists (so the bytes are
// exactly the point's), every symlink its target.

export interface Verification {
  files: number;
  dirs: number;
  bytes: number;
  /** Names removed from the data paths (clean). */
  removed: string[];
  /** What does not match (verify); empty when the folder is exactly the point. */
  mismatches: string[];
}

type Mode = 'clean' | 'verify';

interface Walk {
  repo: Repository;
  roots: readonly string[];
  mode: Mode;
  result: Verification;
}

const KIND: Record<string, (st: BigIntStats) => boolean> = {
  file: (st) => st.isFile(),
  dir: (st) => st.isDirectory(),
  symlink: (st) => st.isSymbolicLink(),
  fifo: (st) => st.isFIFO(),
  chardev: (st) => st.isCharacterDevice(),
  blockdev: (st) => st.isBlockDevice(),
  socket: () => true, // sockets belong to running programs and are not restored
};

function within(snapPath: string, roots: readonly string[]): boolean {
  return roots.some((root) => root === '/' || snapPath === root || snapPath.startsWith(`${root}/`));
}

function emptyResult(): Verification {
  return { files: 0, dirs: 0, bytes: 0, removed: [], mismatches: [] };
}

/** Removes from `target` what stands in the way of the point inside its data paths. */
export async function cleanFolder(
  repo: Repository,
  tree: Buffer,
  roots: readonly string[],
  target: string,
): Promise<string[]> {
  const walk: Walk = { repo, roots, mode: 'clean', result: emptyResult() };
  await visitDir(walk, tree, '', Buffer.from(target));
  return walk.result.removed;
}

export async function verifyFolder(
  repo: Repository,
  tree: Buffer,
  roots: readonly string[],
  target: string,
): Promise<Verification> {
  const walk: Walk = { repo, roots, mode: 'verify', result: emptyResult() };
  await visitDir(walk, tree, '', Buffer.from(target));
  return walk.result;
}

async function visitDir(walk: Walk, tree: Buffer, snapPath: string, dir: Buffer): Promise<void> {
  const nodes = await walk.repo.loadTree(tree);
  if (snapPath !== '' && within(snapPath, walk.roots)) await extras(walk, nodes, dir);
  for (const node of nodes) {
    const childSnap = `${snapPath}/${node.name.toString('utf8')}`;
    const path = joinPath(dir, node.name);
    const problem = await visitNode(walk, node, childSnap, path);
    if (problem) walk.result.mismatches.push(`${printableName(path)}: ${problem}`);
  }
}

async function extras(walk: Walk, nodes: TreeNode[], dir: Buffer): Promise<void> {
  const expected = new Set(nodes.filter((n) => n.type !== 'socket').map((n) => n.name.toString('latin1')));
  for (const name of await readdir(dir, { encoding: 'buffer' })) {
    if (expected.has(name.toString('latin1'))) continue;
    const path = joinPath(dir, name);
    if (walk.mode === 'verify') {
      walk.result.mismatches.push(`${printableName(path)}: not in the point`);
      continue;
    }
    await rm(path, { recursive: true, force: true });
    walk.result.removed.push(printableName(path));
  }
}

async function lstatIfAny(path: Buffer): Promise<BigIntStats | undefined> {
  try {
    return await lstat(path, { bigint: true });
  } catch (err) {
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return undefined;
    throw err;
  }
}

async function visitNode(
  walk: Walk,
  node: TreeNode,
  snapPath: string,
  path: Buffer,
): Promise<string | undefined> {
  if (node.type === 'socket') return undefined;
  const st = await lstatIfAny(path);
  if (walk.mode === 'clean') {
    if (st && !KIND[node.type]!(st) && within(snapPath, walk.roots)) {
      await rm(path, { recursive: true, force: true });
      walk.result.removed.push(printableName(path));
    } else if (st?.isDirectory() && node.type === 'dir') {
      await visitDir(walk, node.subtree!, snapPath, path);
    }
    return undefined;
  }
  if (!st) return 'missing';
  if (!KIND[node.type]!(st)) return `expected a ${node.type}`;
  if (node.type === 'dir') {
    walk.result.dirs++;
    await visitDir(walk, node.subtree!, snapPath, path);
    return undefined;
  }
  if (node.type === 'symlink') {
    return (await readlink(path, { encoding: 'buffer' })).equals(node.target!) ? undefined : 'another target';
  }
  if (node.type !== 'file') return undefined;
  if (st.size !== BigInt(node.size)) return `size ${st.size}, the point has ${node.size}`;
  walk.result.files++;
  walk.result.bytes += node.size;
  return verifyContent(walk.repo, node, path);
}

/** Reads the file blob by blob (each at most 8 MiB) and checks each piece's keyed id. */
async function verifyContent(repo: Repository, node: TreeNode, path: Buffer): Promise<string | undefined> {
  const handle = await open(path, 'r');
  try {
    let position = 0;
    for (const [i, id] of (node.content ?? []).entries()) {
      const loc = repo.index.get(id);
      if (!loc) return `blob ${i} is not indexed`;
      const piece = Buffer.alloc(loc.rawLength);
      const { bytesRead } = await handle.read(piece, 0, piece.length, position);
      if (bytesRead !== piece.length || !repo.blobId(piece).equals(id))
        return `contents differ at byte ${position}`;
      position += piece.length;
    }
    return position === node.size ? undefined : 'contents differ in length';
  } finally {
    await handle.close();
  }
}
