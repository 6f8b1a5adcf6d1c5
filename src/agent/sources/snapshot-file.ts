import { BadInputError, IntegrityError, NotFoundError } from '../../errors/index.ts';
import { BLOB_DATA } from '../../repo/blob-index.ts';
import {
  printableName,
  type Repository,
  type SnapshotRef,
  shortId,
  type TreeNode,
  walkTree,
} from '../../repo/index.ts';

// One file of a snapshot read back as a stream, in order (a database dump for
// pg_restore, `offsite dump` to stdout): no folder to restore into, no temporary copy.

export interface SnapshotFile {
  path: string;
  node: TreeNode;
}

/** Blobs read ahead of the one being written: hides storage latency, bounds memory. */
const READ_AHEAD = 4;

async function fileAt(repo: Repository, ref: SnapshotRef, path: string): Promise<SnapshotFile> {
  const parts = path.split('/').filter(Boolean);
  let tree: Buffer | undefined = Buffer.from(ref.snapshot.tree, 'hex');
  let node: TreeNode | undefined;
  for (const part of parts) {
    const nodes: TreeNode[] = tree ? await repo.loadTree(tree) : [];
    node = nodes.find((n) => n.name.toString('utf8') === part);
    tree = node?.type === 'dir' ? node.subtree : undefined;
    if (!node) break;
  }
  const clean = `/${parts.join('/')}`;
  if (!node) {
    throw new NotFoundError('PATH_NOT_IN_SNAPSHOT', `${clean} is not in snapshot ${shortId(ref.id)}`, {
      hint: `list its files with \`offsite ls ${shortId(ref.id)}\``,
    });
  }
  if (node.type !== 'file')
    throw new BadInputError(
      'NOT_A_FILE',
      `${clean} in snapshot ${shortId(ref.id)} is a ${node.type}, not a file`,
    );
  return { path: clean, node };
}

/**
 * The file at `path`, or without a path the snapshot's only file (a stream backup holds
 * exactly one); a snapshot of several files needs the path.
 */
export async function findSnapshotFile(
  repo: Repository,
  ref: SnapshotRef,
  path?: string,
): Promise<SnapshotFile> {
  if (path) return fileAt(repo, ref, path);
  const files: SnapshotFile[] = [];
  await walkTree(repo, Buffer.from(ref.snapshot.tree, 'hex'), (p, node) => {
    if (node.type === 'file') files.push({ path: printableName(p), node });
  });
  if (files.length === 1) return files[0]!;
  throw new BadInputError(
    'WHICH_FILE',
    `snapshot ${shortId(ref.id)} holds ${files.length} files; name the one to use`,
    {
      hint: files.length ? `e.g. ${files[0]!.path} (offsite ls lists them)` : 'choose a snapshot of a stream',
    },
  );
}

/** The file's bytes, blob by blob, each authenticated and checked; the total must be its size. */
export async function* fileContent(repo: Repository, node: TreeNode): AsyncGenerator<Buffer> {
  const ids = node.content ?? [];
  const pending: Promise<Buffer>[] = [];
  let next = 0;
  const readMore = () => {
    while (next < ids.length && pending.length < READ_AHEAD) {
      const loading = repo.loadBlob(ids[next++]!, BLOB_DATA);
      // Awaited in order below; a consumer that stops early must not leave a rejection unhandled.
      loading.catch(() => {});
      pending.push(loading);
    }
  };
  let size = 0;
  readMore();
  while (pending.length > 0) {
    const blob = await pending.shift()!;
    readMore();
    size += blob.length;
    yield blob;
  }
  if (size !== node.size) {
    throw new IntegrityError(
      'FILE_SIZE_MISMATCH',
      `${printableName(node.name)}: its blobs hold ${size} bytes, its tree says ${node.size}`,
    );
  }
}
