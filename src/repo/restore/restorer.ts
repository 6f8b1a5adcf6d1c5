import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, link, lstat, mkdir, open, rename, symlink, unlink } from 'node:fs/promises';
import { errnoCode, isOffsiteError } from '../../errors/index.ts';
import { joinPath } from '../backup/selection.ts';
import { nativeFs } from '../fsmeta/native.ts';
import type { Repository } from '../repository.ts';
import type { SnapshotRef } from '../snapshot.ts';
import { printableName, type TreeNode } from '../tree.ts';
import { type ContentEvents, type FileTarget, writeContents } from './contents.ts';
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

type Scope = 'all' | 'ancestor' | 'none';

interface HardLink {
  inode: string;
  path: Buffer;
  node: TreeNode;
}

class Restorer {
  readonly repo: Repository;
  readonly progress: RestoreProgress;
  readonly result: RestoreResult = { files: 0, dirs: 0, bytes: 0, errors: [], warnings: [] };
  readonly #includes: string[];
  readonly #dirs: { path: Buffer; node: TreeNode }[] = [];
  /** Regular files, written after the walk, pack by pack. */
  #files: FileTarget[] = [];
  /** Further names of a hard-linked inode, linked once its first name is written. */
  #links: HardLink[] = [];
  /** The name whose contents each hard-linked inode gets, and whether writing it worked. */
  readonly #inodes = new Map<string, { path: Buffer; ok: boolean }>();

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
      case 'file':
        this.#addFile(node, path);
        return;
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

  #addFile(node: TreeNode, path: Buffer): void {
    const inode = `${node.dev}:${node.inode}`;
    if (node.links > 1 && this.#inodes.has(inode)) {
      this.#links.push({ inode, path, node });
      return;
    }
    if (node.links > 1) this.#inodes.set(inode, { path, ok: false });
    this.#files.push({ path, node });
  }

  /** Writes every file's contents and metadata, then the hard links to them. */
  async #writeFiles(): Promise<void> {
    while (this.#files.length > 0) {
      const files = this.#files;
      this.#files = [];
      await writeContents(this.repo, files, this.#events);
      await this.#linkNames();
    }
  }

  /**
   * Each further name of an inode becomes a hard link to its first name. When writing
   * the first name failed, the next name gets the contents itself (in another round).
   */
  async #linkNames(): Promise<void> {
    const waiting = this.#links;
    this.#links = [];
    const chosen = new Set<string>();
    for (const name of waiting) {
      const first = this.#inodes.get(name.inode)!;
      if (chosen.has(name.inode)) {
        this.#links.push(name);
      } else if (!first.ok) {
        chosen.add(name.inode);
        this.#inodes.set(name.inode, { path: name.path, ok: false });
        this.#files.push({ path: name.path, node: name.node });
      } else {
        try {
          await removeExisting(name.path);
          await link(first.path, name.path);
          this.#countFile();
        } catch (err) {
          this.fail(name.path, err);
        }
      }
    }
  }

  readonly #events: ContentEvents = {
    create: createFile,
    finished: async (target, handle) => {
      this.#warn(await applyFileMetadata(handle, target.path, target.node));
      const inode = this.#inodes.get(`${target.node.dev}:${target.node.inode}`);
      if (inode && inode.path === target.path) inode.ok = true;
      this.#countFile();
    },
    failed: (target, err) => this.fail(target.path, err),
    wrote: (bytes) => {
      this.result.bytes += bytes;
      this.progress.bytes += bytes;
    },
  };

  #countFile(): void {
    this.result.files++;
    this.progress.files++;
  }

  #warn(warning: string | undefined): void {
    if (warning && !this.result.warnings.includes(warning)) this.result.warnings.push(warning);
  }

  async finish(): Promise<void> {
    await this.#writeFiles();
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
