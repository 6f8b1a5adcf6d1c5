import { createRequire } from 'node:module';

/**
 * The project's own Node-API addon (native/offsite_native.c, built by `npm ci`): system
 * calls Node lacks. When it is missing (not built), callers fall back to Node's own
 * calls and lose only precision (times to ~0.24 µs) or extended attributes, with a
 * warning — never file data.
 */
interface NativeFs {
  lutimesNs(path: Buffer, atimeNs: bigint, mtimeNs: bigint): void;
  mknod(path: Buffer, mode: number, major: number, minor: number): void;
  /** fchown (when asked), fchmod, futimens on an open file, in that order. */
  fsetmeta(fd: number, uid: number, gid: number, mode: number, mtimeNs: bigint, chown: boolean): void;
  /** Attribute names, or null when the filesystem has no xattr support. */
  llistxattr(path: Buffer): string[] | null;
  /** The value, or null when the attribute is gone. */
  lgetxattr(path: Buffer, name: string): Buffer | null;
  lsetxattr(path: Buffer, name: string, value: Buffer): void;
  lremovexattr(path: Buffer, name: string): void;
  /**
   * lstat, then (files and folders) every xattr, of `dir`/name for each name, in one
   * thread-pool job. `stats` holds 10 fields per name (see fsmeta/entries.ts); an entry
   * with an error ("CODE: message, syscall") has no stats or xattrs; xattrs undefined:
   * not supported there. Optional: an addon built before it lacks it.
   */
  lstatMany?(
    dir: Buffer,
    names: Buffer[],
    done: (
      failure: string | null,
      stats: BigInt64Array,
      errors: (string | undefined)[],
      xattrs: ([string, Buffer][] | undefined)[],
    ) => void,
  ): void;
}

function load(): NativeFs | undefined {
  try {
    return createRequire(import.meta.url)('../../../build/Release/offsite_native.node') as NativeFs;
  } catch {
    return undefined;
  }
}

export const nativeFs: NativeFs | undefined = load();
