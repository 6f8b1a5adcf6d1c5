import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, link, lstat, mkdir, open, rename, symlink, unlink } from 'node:fs/promises';
import { errnoCode, IntegrityError, isOffsiteError } from '../../errors/index.ts';
import { Semaphore } from '../../util/index.ts';
import { joinPath } from '../backup/selection.ts';
import { BLOB_DATA } from '../blob-index.ts';
import { nativeFs } from '../fsmeta/native.ts';
import type { Repository } from '../repository.ts';
import type { SnapshotRef } from '../snapshot.ts';
import { printableName, type TreeNode } from '../tree.ts';
import { applyFileMetadata, applyMetadata } from './metadata.ts';

export interface RestoreProgress {
  files: number;
  dirs: number;
  bytes: number;
  errors: number;
}

export interface RestoreOptions {
  target: string;
  /** Snapshot paths to restore (with everything below them); all when empty. */
  include?: string[];
  progress?: RestoreProgress;
}

export interface RestoreResult {
  files: number;
  dirs: number;
  bytes: number;
  errors: { path: string; message: string }[];
  warnings: string[];
}

const FILES_IN_FLIGHT = 8;
const BLOBS_AHEAD = 4;
const MAX_CHUNK = 8 * 1024 * 1024;
const ZEROES = Buffer.alloc(MAX_CHUNK);

const BLOCK = 4096;

function allZero(data: Buffer): boolean {
  return data.length <= ZEROES.length && data.equals(ZEROES.subarray(0, data.length));
}

/**
 * Writes only the file-system blocks that hold a non-zero byte; zero blocks stay holes,
 * so sparse files come back sparse. Blocks are aligned to the file offset, not the chunk.
 * Dense data costs one comparison per block, which stops at its first byte.
 */
async function writeSparse(handle: FileHandle, data: Buffer, position: number): Promise<boolean> {
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

type Scope = 'all' | 'ancestor' | 'none';

class Restorer {
  readonly repo: Repository;
  readonly progress: RestoreProgress;
  readonly result: RestoreResult = { files: 0, dirs: 0, bytes: 0, errors: [], warnings: [] };
  readonly #includes: string[];
  readonly #files = new Semaphore(FILES_IN_FLIGHT);
  readonly #jobs = new Set<Promise<void>>();
  readonly #dirs: { path: Buffer; node: TreeNode }[] = [];
  readonly #hardlinks = new Map<string, Promise<Buffer | null>>();

  constructor(repo: Repository, options: RestoreOptions) {
    this.repo = repo;
    this.progress = options.progress ?? { files: 0, dirs: 0, bytes: 0, errors: 0 };
    this.#includes = (options.include ?? []).map((p) =>
      `/${p.replace(/^\/+|\/+$/g, '')}`.replace(/^\/$/, ''),
    );
  }

  scope(snapPath: string): Scope {
    if (this.#includes.length === 0) return 'all';
    for (const inc of this.#includes) {
      if (inc === '' || snapPath === inc || snapPath.startsWith(`${inc}/`)) return 'all';
    }
    return this.#includes.some((inc) => inc.startsWith(`${snapPath}/`)) ? 'ancestor' : 'none';
  }

  fail(path: Buffer, err: unknown): void {
    if (!isOffsiteError(err) && errnoCode(err) === undefined) throw err;
    const message = err instanceof Error ? err.message : String(err);
    this.result.errors.push({ path: printableName(path), message });
    this.progress.errors++;
  }

  async restoreTree(treeId: Buffer, snapPath: string, target: Buffer, wholeScope: boolean): Promise<void> {
    const nodes = await this.repo.loadTree(treeId);
    for (const node of nodes) {
      const childSnap = `${snapPath}/${node.name.toString('utf8')}`;
      const scope = wholeScope ? 'all' : this.scope(childSnap);
      if (scope === 'none' || (scope === 'ancestor' && node.type !== 'dir')) continue;
      const path = joinPath(target, node.name);
      try {
        await this.restoreNode(node, path, childSnap, scope === 'all');
      } catch (err) {
        this.fail(path, err);
      }
    }
  }

  async restoreNode(node: TreeNode, path: Buffer, snapPath: string, whole: boolean): Promise<void> {
    switch (node.type) {
      case 'dir':
        await makeDir(path);
        this.#dirs.push({ path, node });
        await this.restoreTree(node.subtree!, snapPath, path, whole);
        return;
      case 'file': {
        await this.#files.acquire();
        const job: Promise<void> = this.#restoreFile(node, path).finally(() => {
          this.#files.release();
          this.#jobs.delete(job);
        });
        this.#jobs.add(job);
        return;
      }
      case 'symlink':
        await removeExisting(path);
        await symlink(node.target!, path);
        await this.#finish(path, node);
        return;
      default:
        await this.#special(node, path);
    }
  }

  async #special(node: TreeNode, path: Buffer): Promise<void> {
    if (node.type === 'socket') return; // a socket belongs to a running program; nothing to restore
    await removeExisting(path);
    await makeSpecial(path, node);
    await this.#finish(path, node);
  }

  async #finish(path: Buffer, node: TreeNode): Promise<void> {
    this.#warn(await applyMetadata(path, node));
  }

  async #restoreFile(node: TreeNode, path: Buffer): Promise<void> {
    try {
      if (!(node.links > 1 && (await this.#hardLink(node, path)))) await this.#writeFile(node, path);
      this.result.files++;
      this.progress.files++;
    } catch (err) {
      this.fail(path, err);
    }
  }

  /**
   * Names of one inode (same dev:inode, links > 1) become hard links to the first name
   * restored. Returns false when this is the first name, or the first one failed: then
   * the caller writes the contents itself.
   */
  async #hardLink(node: TreeNode, path: Buffer): Promise<boolean> {
    const key = `${node.dev}:${node.inode}`;
    const first = this.#hardlinks.get(key);
    if (!first) {
      const writing = this.#writeFile(node, path);
      this.#hardlinks.set(
        key,
        writing.then(
          () => path,
          () => null,
        ),
      );
      await writing;
      return true;
    }
    const firstPath = await first;
    if (!firstPath) return false;
    await removeExisting(path);
    await link(firstPath, path);
    return true;
  }

  /** Writes contents (holes where a block is all zero), then metadata, on one descriptor. */
  async #writeFile(node: TreeNode, path: Buffer): Promise<void> {
    const handle = await createFile(path);
    try {
      await this.#writeContents(handle, node);
      this.#warn(await applyFileMetadata(handle, path, node));
    } finally {
      await handle.close();
    }
  }

  #warn(warning: string | undefined): void {
    if (warning && !this.result.warnings.includes(warning)) this.result.warnings.push(warning);
  }

  async #writeContents(handle: FileHandle, node: TreeNode): Promise<void> {
    const ids = node.content!;
    const ahead: Promise<Buffer>[] = [];
    let next = 0;
    let position = 0;
    let endWritten = true;
    try {
      for (;;) {
        while (next < ids.length && ahead.length < BLOBS_AHEAD)
          ahead.push(this.repo.loadBlob(ids[next++]!, BLOB_DATA));
        const pending = ahead.shift();
        if (!pending) break;
        const data = await pending;
        endWritten = await writeSparse(handle, data, position);
        position += data.length;
        this.progress.bytes += data.length;
      }
    } catch (err) {
      // Reads already started must not end as unhandled rejections.
      await Promise.allSettled(ahead);
      throw err;
    }
    if (position !== node.size) {
      throw new IntegrityError(
        'SIZE_MISMATCH',
        `restored ${position} bytes but the snapshot recorded ${node.size}`,
      );
    }
    // Only a file that ends in a hole needs its size set; the rest got it from writing.
    if (!endWritten) await handle.truncate(position);
    this.result.bytes += position;
  }

  async finish(): Promise<void> {
    while (this.#jobs.size > 0) await Promise.all([...this.#jobs]);
    // Deepest first: restoring a child changes its parent's mtime.
    for (const { path, node } of this.#dirs.reverse()) {
      try {
        await this.#finish(path, node);
        this.result.dirs++;
      } catch (err) {
        this.fail(path, err);
      }
    }
  }
}

const FILE_TYPE_BITS = { fifo: 0o010000, chardev: 0o020000, blockdev: 0o060000 } as const;

function major(rdev: number): number {
  return Number((BigInt(rdev) >> 8n) & 0xfffn) | Number((BigInt(rdev) >> 32n) & ~0xfffn);
}

function minor(rdev: number): number {
  return Number(BigInt(rdev) & 0xffn) | Number((BigInt(rdev) >> 12n) & ~0xffn);
}

/** FIFOs and device nodes: mknod(2) through the addon, else the mknod command. */
async function makeSpecial(path: Buffer, node: TreeNode): Promise<void> {
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

async function makeDir(path: Buffer): Promise<void> {
  try {
    await mkdir(path, { mode: 0o700 });
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
    const st = await lstat(path);
    if (!st.isDirectory()) {
      await unlink(path);
      await mkdir(path, { mode: 0o700 });
    }
  }
}

const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** A new file; whatever was left at its name is replaced (the common case costs one call). */
async function createFile(path: Buffer): Promise<FileHandle> {
  try {
    return await open(path, CREATE, 0o600);
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
    await removeExisting(path);
    return open(path, CREATE, 0o600);
  }
}

/** Replaces a non-directory left in the target; never follows a symlink that is there. */
async function removeExisting(path: Buffer): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
}

/** Restores a snapshot (or the included parts) below `target`, with full metadata. */
export async function restore(
  repo: Repository,
  ref: SnapshotRef,
  options: RestoreOptions,
): Promise<RestoreResult> {
  const restorer = new Restorer(repo, options);
  const target = Buffer.from(options.target);
  await mkdir(target, { recursive: true });
  await restorer.restoreTree(Buffer.from(ref.snapshot.tree, 'hex'), '', target, false);
  await restorer.finish();
  return restorer.result;
}
