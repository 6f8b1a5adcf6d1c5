import type { Dirent, Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as fsp from 'node:fs/promises';

/**
 * The few filesystem calls FileStore makes, so tests can inject failures (ENOSPC, EACCES)
 * that cannot be provoked for real, e.g. when the tests run as root.
 */
export interface FsOps {
  open(path: string, flags: string): Promise<FileHandle>;
  link(existingPath: string, newPath: string): Promise<void>;
  unlink(path: string): Promise<void>;
  mkdir(path: string): Promise<unknown>;
  readdir(path: string, options: { withFileTypes: true }): Promise<Dirent[]>;
  stat(path: string): Promise<Stats>;
  lstat(path: string): Promise<Stats>;
}

export const nodeFs: FsOps = fsp;
