import type { BigIntStats } from 'node:fs';
import { link, mkdir, symlink, unlink } from 'node:fs/promises';
import { errnoCode, isOffsiteError } from '../../errors/index.ts';
import { joinPath } from '../backup/selection.ts';
import type { Repository } from '../repository.ts';
import type { SnapshotRef } from '../snapshot.ts';
import { printableName, type TreeNode } from '../tree.ts';
import { type ContentEvents, type FileTarget, writeContents } from './contents.ts';
import { applyFileMetadata, applyMetadata } from './metadata.ts';
import { createFile, makeDir, makeSpecial } from './nodes.ts';
import {
  existingAt,
  type OverwritePolicy,
  type Placement,
  placementFor,
  refuseFolderInTheWay,
  removeTemp,
  replaceWith,
  tempBeside,
} from './overwrite.ts';

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
  /** Where something exists at a restored path (./overwrite.ts). Default 'always'. */
  overwrite?: OverwritePolicy;
}

export interface RestoreResult {
  files: number;
  dirs: number;
  bytes: number;
  errors: { path: string; message: string }[];
  warnings: string[];
  /** What existed at a restored path and was left as it was (--overwrite never, if-newer). */
  kept: string[];
}

type Scope = 'all' | 'ancestor' | 'none';

interface HardLink {
  inode: string;
  target: FileTarget;
}

/** Where a file ends up: its own name, or the name its temporary file replaces. */
function finalPath(target: FileTarget): Buffer {
  return target.final ?? target.path;
}

function isWithin(path: string, roots: readonly string[]): boolean {
  return roots.some((root) => path === root || path.startsWith(root === '/' ? '/' : `${root}/`));
}

class Restorer {
  readonly repo: Repository;
  readonly progress: RestoreProgress;
  readonly result: RestoreResult = { files: 0, dirs: 0, bytes: 0, errors: [], warnings: [], kept: [] };
  readonly #includes: string[];
  readonly #policy: OverwritePolicy;
  /** The snapshot's backed-up paths: folders above them only give structure. */
  readonly #roots: readonly string[];
  readonly #dirs: { path: Buffer; node: TreeNode }[] = [];
  /** Regular files, written after the walk, pack by pack. */
  #files: FileTarget[] = [];
  /** Further names of a hard-linked inode, linked once its first name is written. */
  #links: HardLink[] = [];
  /** The name whose contents each hard-linked inode gets, and whether writing it worked. */
  readonly #inodes = new Map<string, { path: Buffer; ok: boolean }>();
  /** Temporary files of replacements that failed; removed once nothing writes to them. */
  #orphans: Buffer[] = [];

  constructor(repo: Repository, ref: SnapshotRef, options: RestoreOptions) {
    this.repo = repo;
    this.progress = options.progress ?? { files: 0, dirs: 0, bytes: 0, errors: 0 };
    this.#includes = (options.include ?? []).map((p) =>
      `/${p.replace(/^\/+|\/+$/g, '')}`.replace(/^\/$/, ''),
    );
    this.#policy = options.overwrite ?? 'always';
    this.#roots = ref.snapshot.paths;
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

  /** `fresh`: the restore made `target` just now, so nothing can be in its way there. */
  async restoreTree(
    treeId: Buffer,
    snapPath: string,
    target: Buffer,
    wholeScope: boolean,
    fresh: boolean,
  ): Promise<void> {
    const nodes = await this.repo.loadTree(treeId);
    for (const node of nodes) {
      const childSnap = `${snapPath}/${node.name.toString('utf8')}`;
      const scope = wholeScope ? 'all' : this.scope(childSnap);
      if (scope === 'none' || (scope === 'ancestor' && node.type !== 'dir')) continue;
      const path = joinPath(target, node.name);
      try {
        const found = fresh ? undefined : await existingAt(path);
        await this.restoreNode(node, path, childSnap, scope === 'all', found);
      } catch (err) {
        this.fail(path, err);
      }
    }
  }

  async restoreNode(
    node: TreeNode,
    path: Buffer,
    snapPath: string,
    whole: boolean,
    found: BigIntStats | undefined,
  ): Promise<void> {
    if (node.type === 'dir') return this.#dir(node, path, snapPath, whole, found);
    if (node.type === 'socket') return; // a socket belongs to a running program; nothing to restore
    const placement = placementFor(found, node, this.#policy);
    if (placement === 'keep') return this.#keep(path);
    if (placement === 'replace') refuseFolderInTheWay(found, node);
    if (node.type === 'file') return this.#addFile(node, path, placement);
    await this.#linkOrSpecial(node, path, placement);
  }

  /**
   * A folder that exists is merged into. It keeps its own metadata, unless everything is
   * overwritten and it lies within the backed-up paths (the folders above them, such as
   * /home, are only structure).
   */
  async #dir(
    node: TreeNode,
    path: Buffer,
    snapPath: string,
    whole: boolean,
    found: BigIntStats | undefined,
  ): Promise<void> {
    if (found && !found.isDirectory()) {
      if (placementFor(found, node, this.#policy) === 'keep') return this.#keep(path);
      await unlink(path); // no rename swaps a file for a folder
    }
    const created = found?.isDirectory() ? false : await makeDir(path);
    if (created || (this.#policy === 'always' && isWithin(snapPath, this.#roots))) {
      this.#dirs.push({ path, node });
    }
    await this.restoreTree(node.subtree!, snapPath, path, whole, created);
  }

  /** A symlink or special file, made under a temporary name when it replaces something. */
  async #linkOrSpecial(node: TreeNode, path: Buffer, placement: Placement): Promise<void> {
    const at = placement === 'replace' ? tempBeside(path) : path;
    try {
      if (node.type === 'symlink') await symlink(node.target!, at);
      else await makeSpecial(at, node);
      await this.#finish(at, node);
      if (at !== path) await replaceWith(at, path);
    } catch (err) {
      if (at !== path) await removeTemp(at);
      throw err;
    }
  }

  async #finish(path: Buffer, node: TreeNode): Promise<void> {
    this.#warn(await applyMetadata(path, node));
  }

  #keep(path: Buffer): void {
    this.result.kept.push(printableName(path));
  }

  #addFile(node: TreeNode, path: Buffer, placement: Placement): void {
    const target: FileTarget =
      placement === 'replace' ? { path: tempBeside(path), final: path, node } : { path, node };
    const inode = `${node.dev}:${node.inode}`;
    if (node.links > 1 && this.#inodes.has(inode)) {
      this.#links.push({ inode, target });
      return;
    }
    if (node.links > 1) this.#inodes.set(inode, { path: finalPath(target), ok: false });
    this.#files.push(target);
  }

  /** Writes every file's contents and metadata, then the hard links to them. */
  async #writeFiles(): Promise<void> {
    while (this.#files.length > 0) {
      const files = this.#files;
      this.#files = [];
      await writeContents(this.repo, files, this.#events);
      await this.#removeOrphans();
      await this.#linkNames();
    }
  }

  async #removeOrphans(): Promise<void> {
    const orphans = this.#orphans;
    this.#orphans = [];
    for (const temp of orphans) {
      try {
        await removeTemp(temp);
      } catch (err) {
        this.fail(temp, err);
      }
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
        this.#inodes.set(name.inode, { path: finalPath(name.target), ok: false });
        this.#files.push(name.target);
      } else {
        try {
          await this.#link(first.path, name.target);
          this.#countFile();
        } catch (err) {
          this.fail(finalPath(name.target), err);
        }
      }
    }
  }

  async #link(existing: Buffer, target: FileTarget): Promise<void> {
    await link(existing, target.path);
    if (!target.final) return;
    try {
      await replaceWith(target.path, target.final);
    } catch (err) {
      await removeTemp(target.path);
      throw err;
    }
  }

  readonly #events: ContentEvents = {
    create: createFile,
    finished: async (target, handle) => {
      this.#warn(await applyFileMetadata(handle, target.path, target.node));
      if (target.final) {
        // On disk before the name points at it: a crash must not trade the original for a hole.
        await handle.datasync();
        await replaceWith(target.path, target.final);
      }
      const inode = this.#inodes.get(`${target.node.dev}:${target.node.inode}`);
      if (inode && inode.path === finalPath(target)) inode.ok = true;
      this.#countFile();
    },
    failed: (target, err) => {
      this.fail(finalPath(target), err);
      if (target.final) this.#orphans.push(target.path);
    },
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

/** Restores a snapshot (or the included parts) below `target`, with full metadata. */
export async function restore(
  repo: Repository,
  ref: SnapshotRef,
  options: RestoreOptions,
): Promise<RestoreResult> {
  const restorer = new Restorer(repo, ref, options);
  const target = Buffer.from(options.target);
  const made = await mkdir(target, { recursive: true });
  await restorer.restoreTree(Buffer.from(ref.snapshot.tree, 'hex'), '', target, false, made !== undefined);
  await restorer.finish();
  return restorer.result;
}
