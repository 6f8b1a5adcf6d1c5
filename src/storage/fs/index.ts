// The filesystem BlobStore: objects are files under a root directory, named by their
// object name. Imports only node builtins, src/errors and the storage contract helpers.
import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { BadInputError, ConflictError, errnoCode, NotFoundError } from '../../errors/index.ts';
import { validateObjectName, validatePrefix } from '../names.ts';
import { checkRangeFits, validateRange } from '../range.ts';
import type { BlobStore, ByteRange, ListedObject, ObjectInfo } from '../types.ts';
import { fsyncDir, makeDirsUnder, mkdirIfMissing } from './dirs.ts';
import { mapFsError, type Operation } from './errors.ts';
import { TEMP_DIR, walk } from './list.ts';
import { type FsOps, nodeFs } from './ops.ts';
import { readExactly } from './read.ts';

export { ensureDir } from './dirs.ts';
export type { FsOps } from './ops.ts';

/** Codes meaning "no such object here": the file, or a directory on its path, is missing. */
const MISSING = new Set(['ENOENT', 'ENOTDIR']);

export interface FileStoreOptions {
  /** Replaces node:fs/promises, so tests can inject failures. */
  fs?: FsOps;
}

/**
 * put writes `<root>/.tmp/<random>`, fsyncs it, then hard-links it to its final name:
 * link() fails with EEXIST when the name exists, which gives an atomic create-if-absent
 * that never overwrites (rename() would silently replace). The root is never created
 * here; a missing root is NotFoundError STORE_NOT_FOUND.
 *
 * Two limits of a filesystem that object stores do not have: an object "a" and an
 * object "a/b" cannot both exist (ConflictError OBJECT_PATH_CONFLICT), and the first
 * segment ".tmp" is reserved for files being written.
 */
export class FileStore implements BlobStore {
  readonly location: string;
  readonly #root: string;
  readonly #fs: FsOps;

  constructor(root: string, options: FileStoreOptions = {}) {
    this.#root = resolve(root);
    this.location = this.#root;
    this.#fs = options.fs ?? nodeFs;
  }

  /** Same as the constructor; does not touch the disk. */
  static create(root: string, options?: FileStoreOptions): FileStore {
    return new FileStore(root, options);
  }

  async put(name: string, data: Uint8Array): Promise<void> {
    this.#checkName(name);
    try {
      const tempPath = await this.#writeTemp(data);
      try {
        await this.#linkIntoPlace(tempPath, name);
      } finally {
        await this.#fs.unlink(tempPath).catch(() => {});
      }
      await fsyncDir(dirname(this.#path(name)), this.#fs);
    } catch (err) {
      throw await this.#mapError(err, 'writing', name);
    }
  }

  async get(name: string, range?: ByteRange): Promise<Buffer> {
    this.#checkName(name);
    validateRange(name, range);
    let handle: FileHandle;
    try {
      handle = await this.#fs.open(this.#path(name), 'r');
    } catch (err) {
      throw MISSING.has(errnoCode(err) ?? '') ? this.#notFound(name) : mapFsError(err, 'reading', name);
    }
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) throw this.#notFound(name);
      if (range !== undefined) checkRangeFits(name, range, stats.size);
      const offset = range?.offset ?? 0;
      return await readExactly(handle, offset, range?.length ?? stats.size, name);
    } catch (err) {
      throw mapFsError(err, 'reading', name);
    } finally {
      await handle.close();
    }
  }

  async head(name: string): Promise<ObjectInfo | null> {
    this.#checkName(name);
    try {
      const stats = await this.#fs.stat(this.#path(name));
      return stats.isFile() ? { size: stats.size } : null;
    } catch (err) {
      if (MISSING.has(errnoCode(err) ?? '')) return null;
      throw mapFsError(err, 'reading', name);
    }
  }

  async *list(prefix: string): AsyncIterable<ListedObject> {
    validatePrefix(prefix);
    if (isReserved(prefix)) return;
    const cut = prefix.lastIndexOf('/') + 1;
    try {
      await this.#fs.stat(this.#root);
      yield* walk(this.#fs, this.#root, prefix.slice(0, cut), prefix.slice(cut));
    } catch (err) {
      throw await this.#mapError(err, 'listing', prefix);
    }
  }

  async delete(name: string): Promise<void> {
    this.#checkName(name);
    const path = this.#path(name);
    try {
      await this.#fs.unlink(path);
    } catch (err) {
      const code = errnoCode(err) ?? '';
      if (MISSING.has(code) || code === 'EISDIR') return;
      // POSIX lets unlink() of a directory fail with EPERM: that is still "no such object".
      if (code === 'EPERM' && (await this.#isDirectory(path))) return;
      throw mapFsError(err, 'deleting', name);
    }
  }

  #checkName(name: string): void {
    validateObjectName(name);
    if (isReserved(name)) {
      throw new BadInputError(
        'BAD_OBJECT_NAME',
        `bad object name ${JSON.stringify(name)}: "${TEMP_DIR}" is reserved for files being written`,
        { hint: `a filesystem store keeps temporary files in ${join(this.#root, TEMP_DIR)}` },
      );
    }
  }

  #path(name: string): string {
    return join(this.#root, name);
  }

  /** Writes and fsyncs a temp file; on any failure removes it before rethrowing. */
  async #writeTemp(data: Uint8Array): Promise<string> {
    const tempPath = join(this.#root, TEMP_DIR, randomBytes(16).toString('hex'));
    const handle = await this.#openTemp(tempPath);
    let failure: { err: unknown } | undefined;
    try {
      await handle.writeFile(data);
      await handle.sync();
    } catch (err) {
      failure = { err };
    }
    // close() can report a delayed write error (network filesystems), so it counts too.
    await handle.close().catch((err: unknown) => {
      failure ??= { err };
    });
    if (failure !== undefined) {
      await this.#fs.unlink(tempPath).catch(() => {});
      throw failure.err;
    }
    return tempPath;
  }

  async #openTemp(tempPath: string): Promise<FileHandle> {
    try {
      return await this.#fs.open(tempPath, 'wx');
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
    }
    // First put into this store: create the temp directory (but never the root).
    if (await mkdirIfMissing(join(this.#root, TEMP_DIR), this.#fs)) await fsyncDir(this.#root, this.#fs);
    return await this.#fs.open(tempPath, 'wx');
  }

  async #linkIntoPlace(tempPath: string, name: string): Promise<void> {
    const finalPath = this.#path(name);
    try {
      await this.#fs.link(tempPath, finalPath);
      return;
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT' || !name.includes('/')) throw await this.#linkError(err, name);
    }
    // First object in this directory: create the missing parents, then try once more.
    await makeDirsUnder(this.#root, name.slice(0, name.lastIndexOf('/')), this.#fs);
    try {
      await this.#fs.link(tempPath, finalPath);
    } catch (err) {
      throw await this.#linkError(err, name);
    }
  }

  async #linkError(err: unknown, name: string): Promise<unknown> {
    const code = errnoCode(err);
    if (code === 'EEXIST' && !(await this.#isDirectory(this.#path(name)))) {
      return new ConflictError('OBJECT_EXISTS', `${name} already exists in ${this.location}`, {
        hint: 'objects are never overwritten; delete it first if it must be replaced',
      });
    }
    if (code === 'EEXIST' || code === 'ENOTDIR') {
      return new ConflictError(
        'OBJECT_PATH_CONFLICT',
        `${name} cannot be stored in ${this.location}: a filesystem cannot hold both an object "x" and objects under "x/", and one of them exists`,
      );
    }
    return err;
  }

  async #isDirectory(path: string): Promise<boolean> {
    try {
      return (await this.#fs.lstat(path)).isDirectory();
    } catch {
      return false;
    }
  }

  /** Maps an fs error; ENOENT while the root itself is missing means the store is gone. */
  async #mapError(err: unknown, operation: Operation, name: string): Promise<Error> {
    if (errnoCode(err) === 'ENOENT' && !(await this.#rootExists())) {
      return new NotFoundError('STORE_NOT_FOUND', `storage location ${this.location} does not exist`, {
        cause: err,
        hint: 'check the path, or initialise a repository there first',
      });
    }
    // The object's name, not its path: through a vault these messages reach agents, and
    // the region's place on the server's disk is none of their business.
    return mapFsError(err, operation, name);
  }

  async #rootExists(): Promise<boolean> {
    try {
      return (await this.#fs.stat(this.#root)).isDirectory();
    } catch {
      return false;
    }
  }

  #notFound(name: string): NotFoundError {
    return new NotFoundError('OBJECT_NOT_FOUND', `${name} does not exist in ${this.location}`);
  }
}

function isReserved(nameOrPrefix: string): boolean {
  return nameOrPrefix === TEMP_DIR || nameOrPrefix.startsWith(`${TEMP_DIR}/`);
}
