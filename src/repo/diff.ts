import type { Repository } from './repository.ts';
import { compareNames, printableName, type TreeNode } from './tree.ts';

export type ChangeKind = 'added' | 'removed' | 'modified' | 'metadata';

export interface Change {
  kind: ChangeKind;
  path: string;
  type: TreeNode['type'];
}

export interface DiffResult {
  changes: Change[];
  bytesAdded: number;
  bytesRemoved: number;
}

function sameContent(a: TreeNode, b: TreeNode): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'file')
    return a.content!.length === b.content!.length && a.content!.every((id, i) => id.equals(b.content![i]!));
  if (a.type === 'symlink') return a.target!.equals(b.target!);
  return true;
}

function sameMetadata(a: TreeNode, b: TreeNode): boolean {
  return a.mode === b.mode && a.uid === b.uid && a.gid === b.gid && a.mtime === b.mtime;
}

/** What changed from tree A to tree B; unchanged subtrees (same id) are skipped unread. */
export async function diffTrees(repo: Repository, a: Buffer, b: Buffer): Promise<DiffResult> {
  const result: DiffResult = { changes: [], bytesAdded: 0, bytesRemoved: 0 };
  await diffInto(repo, a, b, '', result);
  return result;
}

async function whole(
  repo: Repository,
  node: TreeNode,
  path: string,
  kind: 'added' | 'removed',
  out: DiffResult,
): Promise<void> {
  out.changes.push({ kind, path, type: node.type });
  if (kind === 'added') out.bytesAdded += node.size;
  else out.bytesRemoved += node.size;
  if (node.type === 'dir') {
    for (const child of await repo.loadTree(node.subtree!)) {
      await whole(repo, child, `${path}/${printableName(child.name)}`, kind, out);
    }
  }
}

async function diffInto(
  repo: Repository,
  a: Buffer,
  b: Buffer,
  prefix: string,
  out: DiffResult,
): Promise<void> {
  if (a.equals(b)) return;
  const left = await repo.loadTree(a);
  const right = await repo.loadTree(b);
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    const order = i >= left.length ? 1 : j >= right.length ? -1 : compareNames(left[i]!, right[j]!);
    const node = order <= 0 ? left[i]! : right[j]!;
    const path = `${prefix}/${printableName(node.name)}`;
    if (order < 0) await whole(repo, left[i++]!, path, 'removed', out);
    else if (order > 0) await whole(repo, right[j++]!, path, 'added', out);
    else await diffPair(repo, left[i++]!, right[j++]!, path, out);
  }
}

async function diffPair(
  repo: Repository,
  x: TreeNode,
  y: TreeNode,
  path: string,
  out: DiffResult,
): Promise<void> {
  if (x.type === 'dir' && y.type === 'dir') {
    if (!sameMetadata(x, y)) out.changes.push({ kind: 'metadata', path, type: 'dir' });
    await diffInto(repo, x.subtree!, y.subtree!, path, out);
  } else if (!sameContent(x, y)) {
    out.changes.push({ kind: 'modified', path, type: y.type });
    out.bytesRemoved += x.size;
    out.bytesAdded += y.size;
  } else if (!sameMetadata(x, y)) {
    out.changes.push({ kind: 'metadata', path, type: y.type });
  }
}
