import { BadInputError } from '../../errors/index.ts';
import { poolClass } from '../../util/index.ts';
import { BLOB_DATA } from '../blob-index.ts';
import { DEFAULT_READ_SIZE } from '../chunker.ts';
import { groupName, userName } from '../fsmeta/owners.ts';
import type { Repository } from '../repository.ts';
import type { SnapshotStats } from '../snapshot.ts';
import type { TreeNode } from '../tree.ts';
import type { BackupProgress } from './archiver.ts';
import type { FileSaveContext } from './file-saver.ts';

// A stream (stdin, a database dump) backed up as one file of a snapshot: chunked with
// the repository's chunker, deduplicated and packed exactly like a file's contents, so
// a second identical stream adds nothing. The file sits at its own path from "/" (as
// restic does: `--stdin-name db.dump` is /db.dump), with the folders above it made up.

export interface BackupStream {
  /** The file's path in the snapshot: "db.dump", or "/pg/main.dump" (folders are made). */
  name: string;
  /** The bytes. An error while reading fails the backup: no snapshot is written. */
  data: AsyncIterable<Uint8Array>;
  /**
   * Awaited once the data has ended and before anything is committed; throws when the
   * producer failed (a command that exited non-zero), so a stream cut short never becomes
   * a snapshot that looks complete.
   */
  finished?: () => Promise<void>;
  /** An empty stream is refused (it is the usual trace of a producer that failed at once). */
  allowEmpty?: boolean;
}

/** What the stream backup needs of the archiver. */
export interface StreamArchiver {
  readonly repo: Repository;
  readonly stats: SnapshotStats;
  readonly progress: BackupProgress;
  fileContext(): FileSaveContext;
  saveTree(nodes: TreeNode[]): Promise<Buffer>;
}

/** Chunks of the stream being packed at once (as for a file). */
const CHUNKS_IN_FLIGHT = 4;

/** The components of a stream's name and its absolute snapshot path; hostile names are refused. */
export function streamPath(name: string): { parts: Buffer[]; path: string } {
  const parts = name.replace(/^\/+/, '').split('/');
  const bad = parts.find((p) => p === '' || p === '.' || p === '..' || p.includes('\0'));
  if (name.trim() === '' || bad !== undefined || Buffer.byteLength(name) > 4096) {
    throw new BadInputError('BAD_STREAM_NAME', `"${name}" cannot name a stream in a snapshot`, {
      hint: 'use a file name such as db.dump or folders and a name such as pg/main.dump (no "." or ".." parts)',
    });
  }
  return { parts: parts.map((p) => Buffer.from(p)), path: `/${parts.join('/')}` };
}

/**
 * Chunks a stream through one working buffer of max + 4 MiB, as a large file is read:
 * a cut is made only where the chunker would make it with the whole stream at hand, so
 * how the producer's writes were split never changes the chunks.
 */
export async function saveStreamContent(
  ctx: FileSaveContext,
  data: AsyncIterable<Uint8Array>,
): Promise<{ content: Buffer[]; size: number }> {
  const { chunker } = ctx.repo;
  const buf = Buffer.allocUnsafe(chunker.max + DEFAULT_READ_SIZE);
  const content: Buffer[] = [];
  const window: Promise<unknown>[] = [];
  let end = 0;
  let size = 0;
  const store = async (chunk: Buffer) => {
    const id = ctx.repo.blobId(chunk);
    content.push(id);
    size += chunk.length;
    ctx.onBytes(chunk.length);
    if (ctx.packer.known(id)) return;
    const held = poolClass(chunk.length);
    await ctx.memory.acquire(held);
    // The packer copies the chunk before add() returns, so the buffer may be reused.
    window.push(ctx.packer.add(BLOB_DATA, id, chunk).finally(() => ctx.memory.release(held)));
    if (window.length >= CHUNKS_IN_FLIGHT) await window.shift();
  };
  const cutAll = async (final: boolean) => {
    let start = 0;
    while (start < end) {
      const len = chunker.cut(buf, start, end, final);
      if (len <= 0) break;
      await store(buf.subarray(start, start + len));
      start += len;
    }
    buf.copyWithin(0, start, end);
    end -= start;
  };
  try {
    for await (const piece of data) {
      for (let offset = 0; offset < piece.length; ) {
        const n = Math.min(piece.length - offset, buf.length - end);
        buf.set(piece.subarray(offset, offset + n), end);
        end += n;
        offset += n;
        // A full buffer holds more than max bytes, so at least one cut is made.
        if (end === buf.length) await cutAll(false);
      }
    }
    await cutAll(true);
    await Promise.all(window);
  } catch (err) {
    await Promise.allSettled(window);
    throw err;
  }
  return { content, size };
}

function madeUpNode(name: Buffer, type: 'file' | 'dir', time: Date): TreeNode {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const ns = String(BigInt(time.getTime()) * 1_000_000n);
  // A dump is often secret (a database): the file is the owner's alone, as restored.
  const node: TreeNode = {
    name,
    type,
    mode: type === 'file' ? 0o600 : 0o700,
    uid,
    gid,
    size: 0,
    mtime: ns,
    ctime: ns,
    inode: '0',
    dev: '0',
    links: 1,
  };
  const user = userName(uid);
  const group = groupName(gid);
  if (user !== undefined) node.user = user;
  if (group !== undefined) node.group = group;
  return node;
}

/** The parent snapshot's nodes along the path (undefined where it has none). */
async function parentChain(repo: Repository, tree: Buffer | undefined, parts: Buffer[]) {
  const chain: (TreeNode | undefined)[] = [];
  for (const part of parts) {
    const nodes = tree && repo.index.has(tree) ? await repo.loadTree(tree).catch(() => []) : [];
    const node = nodes.find((n) => n.name.equals(part));
    chain.push(node);
    tree = node?.type === 'dir' ? node.subtree : undefined;
  }
  return chain;
}

function sameContent(a: Buffer[] | undefined, b: Buffer[]): boolean {
  return a !== undefined && a.length === b.length && a.every((id, i) => id.equals(b[i]!));
}

/** Saves the stream and the trees above it; returns the snapshot's root tree. */
export async function saveStreamRoot(
  archiver: StreamArchiver,
  stream: BackupStream,
  time: Date,
  parentTree: Buffer | undefined,
): Promise<Buffer> {
  const { parts, path } = streamPath(stream.name);
  const saved = await saveStreamContent(archiver.fileContext(), stream.data);
  await stream.finished?.();
  if (saved.size === 0 && !stream.allowEmpty) {
    throw new BadInputError('EMPTY_STREAM', `the stream for ${path} was empty; no snapshot was written`, {
      hint: 'an empty stream usually means its producer failed; pass --allow-empty if empty is expected',
    });
  }
  const { stats, progress } = archiver;
  stats.bytesRead += saved.size;
  stats.bytesProcessed += saved.size;
  progress.files++;
  const parents = await parentChain(archiver.repo, parentTree, parts);
  const before = parents.at(-1);
  let node = madeUpNode(parts.at(-1)!, 'file', time);
  node.content = saved.content;
  node.size = saved.size;
  if (before?.type !== 'file') stats.filesNew++;
  else if (sameContent(before.content, saved.content)) stats.filesUnmodified++;
  else stats.filesChanged++;
  for (let i = parts.length - 2; i >= 0; i--) {
    const dir = madeUpNode(parts[i]!, 'dir', time);
    dir.subtree = await archiver.saveTree([node]);
    if (parents[i]?.type === 'dir') stats.dirsChanged++;
    else stats.dirsNew++;
    progress.dirs++;
    node = dir;
  }
  return archiver.saveTree([node]);
}
