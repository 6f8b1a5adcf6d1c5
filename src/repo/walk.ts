import type { Repository } from './repository.ts';
import type { TreeNode } from './tree.ts';

/** Depth-first, in name order; `path` is the snapshot path ("/home/user/file"), raw bytes. */
export async function walkTree(
  repo: Repository,
  treeId: Buffer,
  visit: (path: Buffer, node: TreeNode) => Promise<void> | void,
  prefix: Buffer = Buffer.alloc(0),
): Promise<void> {
  for (const node of await repo.loadTree(treeId)) {
    const path = Buffer.concat([prefix, SLASH, node.name]);
    await visit(path, node);
    if (node.type === 'dir' && node.subtree) await walkTree(repo, node.subtree, visit, path);
  }
}
const SLASH = Buffer.from('/');
